"""Passive reply XML: doc layouts, the CamelCase key map, and text that must survive exactly."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.wecom.errors import GenReturnXmlError
from dashboard.wecom.events import parse_event
from dashboard.wecom.replies import (
    build_reply,
    event_xml,
    to_xml,
    update_button_xml,
    update_template_card_xml,
    xml_name,
)
from dashboard.wecom.xmlsafe import cdata, parse_xml

# PROTOCOL §5.4, verbatim.
DOC_UPDATE_BUTTON = """<xml>
<ToUserName><![CDATA[zhangsan]]></ToUserName>
<FromUserName><![CDATA[wx5823bf96d3bd56c7]]></FromUserName>
<CreateTime>1700000001</CreateTime>
<MsgType><![CDATA[update_button]]></MsgType>
<Button>
<ReplaceName><![CDATA[已投票]]></ReplaceName>
</Button>
</xml>"""

# PROTOCOL §5.4: [SG]'s doc-derived fixture (it has no CreateTime).
DOC_UPDATE_CARD = """<xml><ToUserName><![CDATA[ToUserName]]></ToUserName><FromUserName><![CDATA[FromUserName]]></FromUserName>
<MsgType><![CDATA[update_template_card]]></MsgType><TemplateCard>
<CardType><![CDATA[vote_interaction]]></CardType>
<Source><IconUrl><![CDATA[source_url]]></IconUrl><Desc><![CDATA[更新后的卡片]]></Desc></Source>
<MainTitle><Title><![CDATA[更新后的卡片标题]]></Title><Desc><![CDATA[更新后的卡片副标题]]></Desc></MainTitle>
<CheckBox><QuestionKey><![CDATA[QuestionKey1]]></QuestionKey>
<OptionList><Id><![CDATA[option_id1]]></Id><Text><![CDATA[选择题选项1]]></Text><IsChecked>true</IsChecked></OptionList>
<OptionList><Id><![CDATA[option_id2]]></Id><Text><![CDATA[选择题选项2]]></Text><IsChecked>false</IsChecked></OptionList>
<Disable>false</Disable><Mode>1</Mode></CheckBox>
<SubmitButton><Text><![CDATA[提交]]></Text><Key><![CDATA[Key]]></Key></SubmitButton>
<ReplaceText><![CDATA[已提交]]></ReplaceText></TemplateCard></xml>"""

VOTE_CARD = {
    "card_type": "vote_interaction",
    "source": {"icon_url": "source_url", "desc": "更新后的卡片"},
    "main_title": {"title": "更新后的卡片标题", "desc": "更新后的卡片副标题"},
    "checkbox": {
        "question_key": "QuestionKey1",
        "option_list": [
            {"id": "option_id1", "text": "选择题选项1", "is_checked": True},
            {"id": "option_id2", "text": "选择题选项2", "is_checked": False},
        ],
        "disable": False,
        "mode": 1,
    },
    "submit_button": {"text": "提交", "key": "Key"},
    "replace_text": "已提交",
}

TRICKY = ["a]]>b", "]]>", "]]]]>", "]]", "<b>&amp;</b> & <", "投票 😀 ✔", "line\r\nbreak\r", "  spaced  ", "\t"]


def test_update_button_matches_the_doc():
    assert update_button_xml("zhangsan", "wx5823bf96d3bd56c7", "已投票", 1700000001) == DOC_UPDATE_BUTTON


def test_update_template_card_matches_the_doc_fixture():
    ours = parse_xml(update_template_card_xml("ToUserName", "FromUserName", VOTE_CARD, 1700000001))["xml"]
    assert ours.pop("CreateTime") == "1700000001"
    assert ours == parse_xml(DOC_UPDATE_CARD)["xml"]


@pytest.mark.parametrize(
    "key, name",
    [
        ("checkbox", "CheckBox"), ("keyname", "KeyName"), ("horizontal_content_list", "HorizontalContentList"),
        ("is_checked", "IsChecked"), ("image_url", "ImageUrl"), ("aspect_ratio", "AspectRatio"),
        ("appid", "AppId"), ("pagepath", "PagePath"), ("media_id", "MediaId"), ("userid", "UserId"),
        ("replace_text", "ReplaceText"), ("task_id", "TaskId"), ("question_key", "QuestionKey"),
        ("selected_id", "SelectedId"), ("option_list", "OptionList"), ("action_list", "ActionList"),
        ("sub_title_text", "SubTitleText"), ("desc_color", "DescColor"), ("id", "Id"), ("some_new_key", "SomeNewKey"),
    ],
)  # fmt: skip
def test_key_map(key, name):
    assert xml_name(key) == name


def test_lists_repeat_scalars_render_plainly_and_none_is_left_out():
    card = {
        "button_list": [{"text": "参加", "style": 1, "key": "join"}, {"text": "不参加", "key": None}],
        "card_image": {"aspect_ratio": 1.3},
    }
    xml = update_template_card_xml("u", "corp", card, 1)
    assert xml.count("<ButtonList>") == 2 and xml.count("<Key>") == 1 and "<Style>1</Style>" in xml
    assert "<AspectRatio>1.3</AspectRatio>" in xml


@pytest.mark.parametrize("text", TRICKY)
def test_tricky_text_round_trips(text):
    assert parse_xml(update_button_xml("u", "corp", text, 1))["xml"]["Button"]["ReplaceName"] == text


@pytest.mark.parametrize("text", TRICKY)
def test_encrypted_reply_round_trips(crypto_n, text):
    inner = update_template_card_xml(text, "corp", {"card_type": "button_interaction", "replace_text": text}, 1700000001)
    outer = parse_xml(build_reply(crypto_n, inner, "nonce1", "1700000001"))["xml"]
    crypto_n.check_signature(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    reply = parse_xml(crypto_n.decrypt_ciphertext(outer["Encrypt"]))["xml"]
    assert (reply["ToUserName"], reply["TemplateCard"]["ReplaceText"]) == (text, text)


@settings(max_examples=300, deadline=None)
@given(st.text(st.characters(exclude_categories=("Cs", "Cc", "Cn"), include_characters="\t\n\r")))
def test_cdata_round_trips_any_xml_text(text):
    assert parse_xml(f"<a>{cdata(text)}</a>")["a"] == (text or None)


@pytest.mark.parametrize("text", ["nul\x00", "bell\x07", "\ufffe", "lone \ud800 surrogate"])
def test_text_xml_cannot_carry_is_refused(text):
    with pytest.raises(GenReturnXmlError):
        update_button_xml("u", "corp", text, 1)


@pytest.mark.parametrize("fields", [{"bad name": "x"}, {"1st": "x"}, {"Obj": object()}, {"A": b"bytes"}])
def test_unrenderable_fields_are_refused(fields):
    with pytest.raises(GenReturnXmlError):
        to_xml(fields)


def test_event_xml_reproduces_the_vote_vector(vectors):
    xml = event_xml(
        to_user="wx5823bf96d3bd56c7", from_user="zhangsan", create_time=1700000000, event_key="submit_vote",
        task_id="camp42-vote@1", card_type="vote_interaction", response_code="RESPONSE_CODE_V1",
        agent_id=1000002, selected={"q_lunch": ["opt_a", "opt_c"]},
    )  # fmt: skip
    assert xml == vectors["NV1-vote-event"]["expected_plaintext"]


def test_event_xml_menu_event():
    xml = event_xml(
        to_user="corp", from_user="lisi", create_time=1, event_key="action_key1", task_id="t1",
        card_type="text_notice", response_code="RC", agent_id=1, event="template_card_menu_event",
    )  # fmt: skip
    assert "SelectedItems" not in xml
    assert parse_event(xml).kind == "template_card_menu_event"
    with pytest.raises(ValueError):
        event_xml(
            to_user="c", from_user="l", create_time=1, event_key="k", task_id="t", card_type="text_notice",
            response_code=None, agent_id=None, selected={"q": ["a"]}, event="template_card_menu_event",
        )  # fmt: skip
