"""Typed callback events: card clicks, menu picks, everything else kept, stable dedupe keys."""
import dataclasses

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.wecom.errors import XmlParseError
from dashboard.wecom.events import GenericMessage, TemplateCardEvent, TemplateCardMenuEvent, parse_event
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
