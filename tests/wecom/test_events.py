"""Typed callback events: card clicks, menu picks, directory changes, everything else kept, stable dedupe keys."""
import dataclasses
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.wecom.errors import XmlParseError
from dashboard.wecom.events import (
    ContactChange, GenericMessage, SuiteNotice, TemplateCardEvent, TemplateCardMenuEvent, parse_event,
)
from dashboard.wecom.replies import event_xml

# The doc-shaped example from PROTOCOL §5.1 (WxJava's parser test): two questions, two options each.
TWO_QUESTIONS = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_event]]></Event>
<EventKey><![CDATA[key111]]></EventKey>
<TaskId><![CDATA[taskid111]]></TaskId>
<CardType><![CDATA[text_notice]]></CardType>
<ResponseCode><![CDATA[ResponseCode]]></ResponseCode>
<AgentID>1</AgentID>
<SelectedItems>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey1]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId1]]></OptionId>
            <OptionId><![CDATA[OptionId2]]></OptionId>
        </OptionIds>
    </SelectedItem>
    <SelectedItem>
        <QuestionKey><![CDATA[QuestionKey2]]></QuestionKey>
        <OptionIds>
            <OptionId><![CDATA[OptionId3]]></OptionId>
            <OptionId><![CDATA[OptionId4]]></OptionId>
        </OptionIds>
    </SelectedItem>
</SelectedItems>
</xml>"""

# PROTOCOL §5.2.
MENU = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[FromUser]]></FromUserName>
<CreateTime>123456789</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[template_card_menu_event]]></Event>
<EventKey><![CDATA[action_key1]]></EventKey>
<TaskId><![CDATA[taskid111]]></TaskId>
<CardType><![CDATA[text_notice]]></CardType>
<ResponseCode><![CDATA[ResponseCode]]></ResponseCode>
<AgentID>1</AgentID>
</xml>"""

ENTER_AGENT = """<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[lisi]]></FromUserName>
<CreateTime>1700000300</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event>
<EventKey><![CDATA[]]></EventKey><AgentID>1000002</AgentID></xml>"""


def card(**overrides) -> str:
    fields = dict(
        to_user="corp", from_user="zhangsan", create_time=1700000000, event_key="submit", task_id="camp1-1",
        card_type="multiple_interaction", response_code="RC", agent_id=1000002, selected={"q1": ["a"]},
    )  # fmt: skip
    return event_xml(**{**fields, **overrides})


def test_vote_vector_parses(vectors):
    event = parse_event(vectors["NV1-vote-event"]["expected_plaintext"])
    assert isinstance(event, TemplateCardEvent) and event.kind == "template_card_event"
    assert (event.from_user, event.to_user, event.create_time, event.agent_id) == ("zhangsan", "wx5823bf96d3bd56c7", 1700000000, 1000002)
    assert (event.task_id, event.event_key, event.card_type) == ("camp42-vote@1", "submit_vote", "vote_interaction")
    assert event.response_code == "RESPONSE_CODE_V1"
    assert event.selected == {"q_lunch": ["opt_a", "opt_c"]}
    assert event.raw["SelectedItems"]["SelectedItem"][0]["QuestionKey"] == "q_lunch"


def test_several_questions_with_several_options():
    event = parse_event(TWO_QUESTIONS.encode())
    assert event.selected == {"QuestionKey1": ["OptionId1", "OptionId2"], "QuestionKey2": ["OptionId3", "OptionId4"]}


def test_one_question_one_option_still_lists():
    assert parse_event(card(selected={"q_meal": ["veg"]})).selected == {"q_meal": ["veg"]}


def test_button_click_without_selections():
    event = parse_event(card(card_type="button_interaction", event_key="join", selected=None))
    assert (event.event_key, event.selected) == ("join", {})


def test_menu_event():
    event = parse_event(MENU)
    assert isinstance(event, TemplateCardMenuEvent) and event.kind == "template_card_menu_event"
    assert (event.event_key, event.task_id, event.agent_id, event.create_time) == ("action_key1", "taskid111", 1, 123456789)
    assert not hasattr(event, "selected")


def test_text_message_is_kept(vectors):
    message = parse_event(vectors["A2-decrypt-text-message"]["expected_plaintext"])
    assert isinstance(message, GenericMessage) and message.kind == "text"
    assert (message.msg_id, message.from_user, message.create_time) == ("4561255354251345929", "mycreate", 1409659813)
    assert message.raw["Content"] == "hello"


def test_other_event_is_kept():
    message = parse_event(ENTER_AGENT)
    assert (message.kind, message.msg_type, message.event, message.msg_id) == ("enter_agent", "event", "enter_agent", None)
    assert message.raw["AgentID"] == "1000002"


@pytest.mark.parametrize("element", ["FromUserName", "CreateTime", "EventKey", "TaskId", "CardType", "ToUserName"])
def test_missing_required_element_is_named(element):
    xml = "\n".join(line for line in card().splitlines() if not line.startswith(f"<{element}>"))
    with pytest.raises(XmlParseError, match=element):
        parse_event(xml)


@pytest.mark.parametrize(
    "xml, problem",
    [
        ("<xml><FromUserName>a</FromUserName></xml>", "MsgType"),
        (card().replace("<CreateTime>1700000000", "<CreateTime>soon"), "CreateTime"),
        (card().replace("<AgentID>1000002", "<AgentID>1_000"), "AgentID"),
        (card().replace("<QuestionKey><![CDATA[q1]]></QuestionKey>", ""), "QuestionKey"),
        (card().replace("<OptionIds>\n<OptionId><![CDATA[a]]></OptionId>\n", "<OptionIds>a"), "OptionIds"),
        ("<xml>text only</xml>", "child"),
        # found by fuzzing: numbers a 64-bit column cannot hold, or Python cannot even parse
        (card().replace("<CreateTime>1700000000", "<CreateTime>9223372036854775808"), "CreateTime"),
        (card().replace("<CreateTime>1700000000", "<CreateTime>" + "9" * 5000), "CreateTime"),
        (card().replace("<AgentID>1000002", "<AgentID>" + "1" * 20), "AgentID"),
    ],
)
def test_malformed_event(xml, problem):
    with pytest.raises(XmlParseError, match=problem):
        parse_event(xml)


@pytest.mark.parametrize(
    "xml",
    [
        '<!DOCTYPE xml [<!ENTITY a "aaaa"><!ENTITY b "&a;&a;&a;&a;">]><xml><MsgType>&b;</MsgType></xml>',
        '<!DOCTYPE xml [<!ENTITY e SYSTEM "file:///etc/passwd">]><xml><MsgType>&e;</MsgType></xml>',
        "<xml><MsgType>text</MsgType><Content>" + "x" * 70_000 + "</Content></xml>",
    ],
)
def test_hostile_inner_xml_is_refused(xml):
    with pytest.raises(XmlParseError):
        parse_event(xml)


def test_the_largest_64_bit_create_time_is_kept():
    event = parse_event(card().replace("<CreateTime>1700000000", "<CreateTime>9223372036854775807"))
    assert event.create_time == 2**63 - 1


def test_events_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_event(MENU).event_key = "other"


def test_dedupe_key_is_stable_for_a_redelivery():
    assert parse_event(TWO_QUESTIONS).dedupe_key == parse_event(TWO_QUESTIONS.encode()).dedupe_key
    assert len(parse_event(TWO_QUESTIONS).dedupe_key) == 64


def test_dedupe_key_ignores_option_order():
    assert parse_event(card(selected={"q1": ["a", "b"]})).dedupe_key == parse_event(card(selected={"q1": ["b", "a"]})).dedupe_key


@pytest.mark.parametrize(
    "change",
    [
        {"selected": {"q1": ["b"]}},
        {"selected": {"q2": ["a"]}},
        {"selected": {"q1": ["a"], "q2": ["a"]}},
        {"from_user": "lisi"},
        {"create_time": 1700000001},
        {"task_id": "camp1-2"},
        {"event_key": "other"},
    ],
)
def test_dedupe_key_differs_when_the_click_differs(change):
    assert parse_event(card(**change)).dedupe_key != parse_event(card()).dedupe_key


def test_dedupe_key_of_generic_messages(vectors):
    text = vectors["A2-decrypt-text-message"]["expected_plaintext"]
    assert parse_event(text).dedupe_key != parse_event(text.replace("4561255354251345929", "1")).dedupe_key
    assert parse_event(text).dedupe_key == parse_event(text.replace("hello", "edited")).dedupe_key  # by MsgId
    assert parse_event(ENTER_AGENT).dedupe_key != parse_event(ENTER_AGENT.replace("lisi", "wangwu")).dedupe_key
    assert parse_event(MENU).dedupe_key != parse_event(MENU.replace("template_card_menu_event", "template_card_event")).dedupe_key


XML_TEXT = st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r"), max_size=30)


@settings(max_examples=300, deadline=None)
@given(
    selected=st.dictionaries(XML_TEXT.filter(bool), st.lists(XML_TEXT, max_size=4), max_size=4),
    from_user=XML_TEXT.filter(bool),
    event_key=XML_TEXT.filter(bool),
)
def test_event_xml_round_trips(selected, from_user, event_key):
    event = parse_event(card(selected=selected, from_user=from_user, event_key=event_key))
    assert (event.selected, event.from_user, event.event_key) == (selected, from_user, event_key)


# --- change_contact: directory changes (成员变更通知, 部门变更通知, 标签成员变更通知) ---

# Shaped like WeCom's example of 新增成员事件, as callback URLs set up before 2022-08-15 get it.
# ExtAttr's items carry a <Name> of their own: only the top-level one is the member's.
CREATE_USER = """<xml>
<ToUserName><![CDATA[toUser]]></ToUserName>
<FromUserName><![CDATA[sys]]></FromUserName>
<CreateTime>1403610513</CreateTime>
<MsgType><![CDATA[event]]></MsgType>
<Event><![CDATA[change_contact]]></Event>
<ChangeType>create_user</ChangeType>
<UserID><![CDATA[zhangsan]]></UserID>
<Name><![CDATA[张三]]></Name>
<Department><![CDATA[1,2,3]]></Department>
<MainDepartment>1</MainDepartment>
<IsLeaderInDept><![CDATA[1,0,0]]></IsLeaderInDept>
<Position><![CDATA[产品经理]]></Position>
<Mobile>13800000000</Mobile>
<Gender>1</Gender>
<Status>1</Status>
<ExtAttr>
<Item><Name><![CDATA[爱好]]></Name><Type>0</Type><Text><Value><![CDATA[旅游]]></Value></Text></Item>
</ExtAttr>
</xml>"""


def contact(change_type: str, body: str, create_time: int = 1700000000) -> str:
    """A change_contact message as WeCom sends it: the common elements, then ``body``."""
    return (f"<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[change_contact]]></Event><ChangeType>{change_type}</ChangeType>{body}</xml>")


def test_create_user_as_older_callback_urls_get_it():
    change = parse_event(CREATE_USER)
    assert isinstance(change, ContactChange) and change.kind == "change_contact"
    assert (change.from_user, change.to_user, change.create_time) == ("sys", "toUser", 1403610513)
    assert change.agent_id is None
    assert change.change_type == "create_user"
    assert change.fields() == {"user_id": "zhangsan", "name": "张三", "departments": [1, 2, 3]}
    assert change.raw["Position"] == "产品经理"  # the rest is kept


@pytest.mark.parametrize(
    "change_type, body, fields",
    [
        # callback URLs set up after 2022-08-15: only UserID and Department
        ("create_user", "<UserID><![CDATA[lisi]]></UserID><Department><![CDATA[2]]></Department>",
         {"user_id": "lisi", "departments": [2]}),
        ("update_user", "<UserID><![CDATA[zhangsan]]></UserID><NewUserID><![CDATA[zhangsan2]]></NewUserID>"
                        "<Name><![CDATA[张三丰]]></Name><Department><![CDATA[1, 3]]></Department>",
         {"user_id": "zhangsan", "new_user_id": "zhangsan2", "name": "张三丰", "departments": [1, 3]}),
        ("update_user", "<UserID><![CDATA[zhangsan]]></UserID><Position><![CDATA[经理]]></Position>",
         {"user_id": "zhangsan"}),
        ("delete_user", "<UserID><![CDATA[wangwu]]></UserID>", {"user_id": "wangwu"}),
        ("create_party",
         "<Id>5</Id><Name><![CDATA[销售部]]></Name><ParentId><![CDATA[1]]></ParentId><Order>1000</Order>",
         {"party_id": 5, "name": "销售部", "parent_id": 1, "order": 1000}),
        ("update_party", "<Id>5</Id><ParentId><![CDATA[3]]></ParentId>", {"party_id": 5, "parent_id": 3}),
        ("delete_party", "<Id>5</Id>", {"party_id": 5}),
        ("update_tag", "<TagId>1</TagId><AddUserItems><![CDATA[lisi,wangwu]]></AddUserItems>"
                       "<DelUserItems><![CDATA[zhangsan]]></DelUserItems><AddPartyItems><![CDATA[2]]></AddPartyItems>"
                       "<DelPartyItems><![CDATA[3,4]]></DelPartyItems>",
         {"tag_id": 1, "add_users": ["lisi", "wangwu"], "del_users": ["zhangsan"], "add_parties": [2],
          "del_parties": [3, 4]}),
        ("update_tag", "<TagId>7</TagId><AddUserItems><![CDATA[lisi]]></AddUserItems>",
         {"tag_id": 7, "add_users": ["lisi"]}),
    ],
)
def test_each_change_type_parses(change_type, body, fields):
    change = parse_event(contact(change_type, body))
    assert isinstance(change, ContactChange) and change.change_type == change_type
    assert change.fields() == fields
    assert json.loads(json.dumps(change.fields())) == fields  # stored as JSON as it is


def test_an_absent_list_is_not_an_empty_one():
    absent = parse_event(contact("update_user", "<UserID>lisi</UserID>"))
    empty = parse_event(contact("update_user", "<UserID>lisi</UserID><Department><![CDATA[]]></Department>"))
    assert (absent.departments, empty.departments) == (None, [])
    assert "departments" not in absent.fields() and empty.fields()["departments"] == []


def test_an_unknown_change_type_is_kept_as_a_change():
    change = parse_event(contact("update_everything", "<Foo>1</Foo>"))
    assert isinstance(change, ContactChange) and change.change_type == "update_everything"
    assert change.fields() == {} and change.raw["Foo"] == "1"


def test_a_change_stores_like_any_other_event():
    """The callback's storing code reads these from every event that is no card event."""
    change = parse_event(CREATE_USER)
    assert (change.msg_type, change.event, change.msg_id, change.event_key) == ("event", "change_contact", None, None)


@pytest.mark.parametrize(
    "xml, problem",
    [
        (contact("create_user", "<UserID>lisi</UserID><Department><![CDATA[1,x]]></Department>"), "Department"),
        (contact("create_user", "<UserID>lisi</UserID><Department><![CDATA[1;2]]></Department>"), "Department"),
        (contact("create_user", "<UserID>lisi</UserID><Department>-1</Department>"), "Department"),
        (contact("update_tag", "<TagId>1</TagId><AddPartyItems><![CDATA[2,3x]]></AddPartyItems>"), "AddPartyItems"),
        (contact("update_tag", "<TagId>1</TagId><DelPartyItems>" + "9" * 30 + "</DelPartyItems>"), "DelPartyItems"),
        (contact("create_party", "<Id>five</Id>"), "Id"),
        (contact("update_party", "<Id>5</Id><ParentId>1.5</ParentId>"), "ParentId"),
        (contact("create_party", "<Id>5</Id><Order>high</Order>"), "Order"),
        (contact("update_tag", "<TagId>t1</TagId>"), "TagId"),
        (contact("update_user", "<Name>lisi</Name>"), "UserID"),
        (contact("delete_user", "<UserID></UserID>"), "UserID"),
        (contact("delete_party", ""), "Id"),
        (contact("update_tag", "<AddUserItems>a</AddUserItems>"), "TagId"),
        (contact("create_user", "<UserID>lisi</UserID>").replace("<CreateTime>1700000000</CreateTime>", ""),
         "CreateTime"),
        (contact("create_user", "<UserID>lisi</UserID>").replace("<ChangeType>create_user</ChangeType>", ""),
         "ChangeType"),
        (contact("create_user", "<UserID>a</UserID><UserID>b</UserID>"), "UserID"),
    ],
)
def test_malformed_change(xml, problem):
    with pytest.raises(XmlParseError, match=problem):
        parse_event(xml)


def test_two_changes_in_the_same_second_have_different_keys():
    """Both come from "sys" at the same CreateTime: keyed like other events, the second was lost."""
    lisi = contact("create_user", "<UserID>lisi</UserID><Department>2</Department>")
    wangwu = contact("create_user", "<UserID>wangwu</UserID><Department>2</Department>")
    moved = contact("create_user", "<UserID>lisi</UserID><Department>3</Department>")
    keys = {parse_event(xml).dedupe_key for xml in (lisi, wangwu, moved)}
    assert len(keys) == 3
    tag_in = contact("update_tag", "<TagId>1</TagId><AddUserItems>lisi</AddUserItems>")
    tag_out = contact("update_tag", "<TagId>1</TagId><DelUserItems>lisi</DelUserItems>")
    assert parse_event(tag_in).dedupe_key != parse_event(tag_out).dedupe_key


def test_a_retried_change_has_the_same_key():
    assert parse_event(CREATE_USER).dedupe_key == parse_event(CREATE_USER.encode()).dedupe_key
    assert len(parse_event(CREATE_USER).dedupe_key) == 64
    later = CREATE_USER.replace("1403610513", "1403610514")
    assert parse_event(later).dedupe_key != parse_event(CREATE_USER).dedupe_key


def test_changes_are_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        parse_event(CREATE_USER).user_id = "lisi"


@settings(max_examples=200, deadline=None)
@given(
    departments=st.lists(st.integers(min_value=0, max_value=2**63 - 1), max_size=8),
    userids=st.lists(st.from_regex(r"[A-Za-z0-9][A-Za-z0-9_.@-]{0,20}", fullmatch=True), min_size=1, max_size=8),
)
def test_lists_round_trip(departments, userids):
    body = (f"<TagId>1</TagId><AddUserItems><![CDATA[{','.join(userids)}]]></AddUserItems>"
            f"<AddPartyItems><![CDATA[{','.join(map(str, departments))}]]></AddPartyItems>")
    change = parse_event(contact("update_tag", body))
    assert (change.add_users, change.add_parties) == (userids, departments)


# --- issue 22, point 3: every event kept once and only once ------------------------------------


def test_card_keys_are_those_already_stored():
    """Stored rows carry these keys: a retry after an upgrade must still meet its first delivery."""
    assert parse_event(TWO_QUESTIONS).dedupe_key == "e7932e36d8975378cb77f10367971733a5f8306c8b5c6b65f401aba8207b5482"
    assert parse_event(MENU).dedupe_key == "526f8c5a7c607730070b0528f1e9757cb6004b84aa87ebd25a17e647a1c3bd9e"


def sys_event(event: str, body: str, create_time: int = 1700000000) -> str:
    """An event from "sys" (approvals, batch jobs ...): no MsgId, and no EventKey to tell two apart."""
    return (f"<xml><ToUserName><![CDATA[wwcorp]]></ToUserName><FromUserName><![CDATA[sys]]></FromUserName>"
            f"<CreateTime>{create_time}</CreateTime><MsgType><![CDATA[event]]></MsgType>"
            f"<Event><![CDATA[{event}]]></Event>{body}<AgentID>1000002</AgentID></xml>")


def batch_job(job_id: str) -> str:
    return sys_event("batch_job_result", f"<BatchJob><JobId><![CDATA[{job_id}]]></JobId>"
                                         "<JobType><![CDATA[sync_user]]></JobType><ErrCode>0</ErrCode>"
                                         "<ErrMsg><![CDATA[ok]]></ErrMsg></BatchJob>")


def approval(sp_no: str, status: int) -> str:
    return sys_event("sys_approval_change", f"<ApprovalInfo><SpNo>{sp_no}</SpNo><SpName><![CDATA[请假]]></SpName>"
                                            f"<SpStatus>{status}</SpStatus></ApprovalInfo>")


@pytest.mark.parametrize(
    "first, second",
    [
        (batch_job("job-1"), batch_job("job-2")),
        (approval("202311010001", 1), approval("202311010002", 1)),
        (approval("202311010001", 1), approval("202311010001", 2)),  # one approval, two steps
        (contact("update_user", "<UserID>lisi</UserID><Name>李四</Name>"),
         contact("update_user", "<UserID>lisi</UserID><Department>3</Department>")),  # one member, two edits
        (contact("update_user", "<UserID>lisi</UserID>"), contact("update_user", "<UserID>wangwu</UserID>")),
        (contact("update_party", "<Id>5</Id>"), contact("update_party", "<Id>6</Id>")),
        (contact("update_tag", "<TagId>1</TagId>"), contact("update_tag", "<TagId>2</TagId>")),
        (contact("update_user", "<UserID>lisi</UserID><NewUserID>lisi2</NewUserID>"),
         contact("update_user", "<UserID>lisi</UserID><NewUserID>lisi3</NewUserID>")),
        (contact("delete_user", "<UserID>lisi</UserID>"), contact("create_user", "<UserID>lisi</UserID>")),
    ],
)
def test_two_events_from_one_sender_in_one_second_have_two_keys(first, second):
    assert parse_event(first).create_time == parse_event(second).create_time
    assert parse_event(first).dedupe_key != parse_event(second).dedupe_key


@pytest.mark.parametrize("xml", [batch_job("job-1"), approval("202311010001", 1), ENTER_AGENT, CREATE_USER,
                                 contact("update_tag", "<TagId>1</TagId><AddUserItems>lisi</AddUserItems>")])
def test_a_retry_of_one_event_has_one_key(xml):
    """WeCom's retry carries the same XML; its layout and CDATA wrapping do not count either."""
    relaid = xml.replace("<![CDATA[sys]]>", "sys").replace("><", ">\n  <")
    keys = {parse_event(xml).dedupe_key, parse_event(xml.encode()).dedupe_key, parse_event(relaid).dedupe_key}
    assert len(keys) == 1 and len(keys.pop()) == 64


def test_envelope_elements_echoed_inside_do_not_split_a_retry():
    first = batch_job("job-1").replace("</xml>", "<Nonce>1</Nonce><MsgSignature>a</MsgSignature></xml>")
    retry = batch_job("job-1").replace("</xml>", "<Nonce>2</Nonce><MsgSignature>b</MsgSignature></xml>")
    assert parse_event(first).dedupe_key == parse_event(retry).dedupe_key == parse_event(batch_job("job-1")).dedupe_key


def test_messages_keep_their_msg_id_key(vectors):
    text = vectors["A2-decrypt-text-message"]["expected_plaintext"]
    assert parse_event(text).dedupe_key == parse_event(text.replace("hello", "edited")).dedupe_key


# --- issue 22, point 5: XML as WeCom and the SDKs write it -------------------------------------


def test_an_empty_cdata_element_is_an_empty_value_not_a_missing_one():
    message = parse_event("<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[lisi]]>"
                          "</FromUserName><CreateTime>1700000000</CreateTime><MsgType><![CDATA[text]]></MsgType>"
                          "<Content><![CDATA[]]></Content><MsgId>1</MsgId><AgentID><![CDATA[]]></AgentID></xml>")
    assert message.raw["Content"] == "" and "Content" in message.raw
    assert message.agent_id is None  # an empty number is no number
    assert parse_event(ENTER_AGENT).raw["EventKey"] == ""
    change = parse_event(contact("update_user", "<UserID>lisi</UserID><Name><![CDATA[]]></Name>"))
    assert change.name is None and change.raw["Name"] == ""


def test_whitespace_around_cdata_is_layout():
    spaced = card().replace("<ToUserName><![CDATA[corp]]></ToUserName>",
                            "<ToUserName>\n <![CDATA[corp]]>\n</ToUserName>")
    spaced = spaced.replace("<EventKey><![CDATA[submit]]></EventKey>", "<EventKey>\t<![CDATA[submit]]> </EventKey>")
    event = parse_event(spaced)
    assert (event.to_user, event.event_key) == ("corp", "submit")
    assert event.dedupe_key == parse_event(card()).dedupe_key
    kept = parse_event("<xml><MsgType>text</MsgType><Content><![CDATA[ a ]]>\n<![CDATA[ b ]]></Content></xml>")
    assert kept.raw["Content"] == " a \n b "  # inside and between sections it is the message


def test_an_empty_card_field_is_still_missing():
    with pytest.raises(XmlParseError, match="TaskId"):
        parse_event(card().replace("<TaskId><![CDATA[camp1-1]]>", "<TaskId><![CDATA[]]>"))


SUITE_TICKET = """<xml>
<SuiteId><![CDATA[ww4asffe99e54cxxxx]]></SuiteId>
<InfoType> <![CDATA[suite_ticket]]> </InfoType>
<TimeStamp>1403610513</TimeStamp>
<SuiteTicket><![CDATA[asdfasfdasdfasdf]]></SuiteTicket>
</xml>"""


def test_a_suite_notice_without_msg_type_is_an_event():
    notice = parse_event(SUITE_TICKET)
    assert isinstance(notice, SuiteNotice) and notice.kind == "suite_notice"
    assert (notice.info_type, notice.event, notice.from_user, notice.create_time) == (
        "suite_ticket", "suite_ticket", "ww4asffe99e54cxxxx", 1403610513)
    assert (notice.msg_type, notice.msg_id, notice.event_key) == ("info", None, None)
    assert notice.raw["SuiteTicket"] == "asdfasfdasdfasdf"
    assert len(notice.dedupe_key) == 64
    assert notice.dedupe_key != parse_event(SUITE_TICKET.replace("asdfasfdasdfasdf", "next")).dedupe_key


@pytest.mark.parametrize("xml", ["<xml><SuiteId>s</SuiteId></xml>", "<xml><InfoType><![CDATA[]]></InfoType></xml>",
                                 "<xml><MsgType><![CDATA[]]></MsgType><InfoType>x</InfoType></xml>"])
def test_neither_msg_type_nor_info_type_is_refused(xml):
    with pytest.raises(XmlParseError, match="MsgType"):
        parse_event(xml)
