"""Passive reply XML: doc layouts, the CamelCase key map, and text that must survive exactly."""
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from dashboard.wecom.errors import GenReturnXmlError
from dashboard.wecom.events import parse_event
from dashboard.wecom.replies import (
    NEWS_LIMIT,
    TEXT_LIMIT,
    build_reply,
    event_xml,
    news_reply_xml,
    text_reply_xml,
    to_xml,
    update_button_xml,
    update_template_card_xml,
    utf8_cut,
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
    assert parse_xml(f"<a>{cdata(text)}</a>")["a"] == text  # "" stays "" (issue 22, point 5)


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


# CONVERSATIONS §3: doc 90241's text reply and the 企业号 doc's news reply, verbatim.
DOC_TEXT = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>1348831860</CreateTime>
   <MsgType><![CDATA[text]]></MsgType>
   <Content><![CDATA[this is a test]]></Content>
</xml>"""

DOC_NEWS = """<xml>
   <ToUserName><![CDATA[toUser]]></ToUserName>
   <FromUserName><![CDATA[fromUser]]></FromUserName>
   <CreateTime>12345678</CreateTime>
   <MsgType><![CDATA[news]]></MsgType>
   <ArticleCount>2</ArticleCount>
   <Articles>
       <item>
           <Title><![CDATA[title1]]></Title>
           <Description><![CDATA[description1]]></Description>
           <PicUrl><![CDATA[picurl]]></PicUrl>
           <Url><![CDATA[url]]></Url>
       </item>
       <item>
           <Title><![CDATA[title]]></Title>
           <Description><![CDATA[description]]></Description>
           <PicUrl><![CDATA[picurl]]></PicUrl>
           <Url><![CDATA[url]]></Url>
       </item>
   </Articles>
</xml>"""

DOC_ARTICLES = [
    {"title": "title1", "description": "description1", "picurl": "picurl", "url": "url"},
    {"title": "title", "description": "description", "url": "url", "picurl": "picurl"},
]


def decrypted(crypto, inner: str) -> dict:
    """The reply as WeCom reads it: encrypted into the envelope, signature checked, decrypted, parsed."""
    outer = parse_xml(build_reply(crypto, inner, "nonce1", "1700000001"))["xml"]
    crypto.check_signature(outer["MsgSignature"], outer["TimeStamp"], outer["Nonce"], outer["Encrypt"])
    return parse_xml(crypto.decrypt_ciphertext(outer["Encrypt"]), force_list=("item",))["xml"]


def test_text_reply_matches_the_doc():
    ours = text_reply_xml("toUser", "fromUser", "this is a test", 1348831860)
    assert parse_xml(ours) == parse_xml(DOC_TEXT)


def test_news_reply_matches_the_doc():
    assert parse_xml(news_reply_xml("toUser", "fromUser", DOC_ARTICLES, 12345678)) == parse_xml(DOC_NEWS)


@pytest.mark.parametrize("text", TRICKY + ["this is success test", "请假\n😀 ]]> <xml>"])
def test_text_reply_round_trips(crypto_n, text):
    reply = decrypted(crypto_n, text_reply_xml("zhangsan", "ww0123456789abcdef", text, 1700000001))
    expected = text.replace("\r", "")  # carriage returns are control characters too
    assert (reply["ToUserName"], reply["MsgType"], reply["Content"]) == ("zhangsan", "text", expected or None)


@pytest.mark.parametrize(
    "content, kept",
    [
        ("a" * 2044 + "😀", "a" * 2044 + "😀"),        # exactly 2048 bytes
        ("a" * 2045 + "😀", "a" * 2045),               # the emoji's 4 bytes would end at 2049
        ("a" * 2047 + "😀b", "a" * 2047),
        ("投" * 683, "投" * 682),                       # 2049 bytes -> 682 characters, 2046 bytes
        ("é" * 1025, "é" * 1024),
    ],
)  # fmt: skip
def test_text_reply_is_cut_on_a_character_boundary(crypto_n, content, kept):
    reply = decrypted(crypto_n, text_reply_xml("u", "corp", content, 1))
    assert reply["Content"] == kept and len(kept.encode()) <= TEXT_LIMIT


def test_text_reply_drops_control_characters_but_tab_and_newline(crypto_n):
    content = "a\x00b\x07c\td\ne\r\nf\x1b[0m\x7f\x85\ufffe\ud800g"
    reply = decrypted(crypto_n, text_reply_xml("u", "corp", content, 1))
    assert reply["Content"] == "abc\td\ne\nf[0mg"


def test_control_characters_do_not_count_against_the_limit(crypto_n):
    reply = decrypted(crypto_n, text_reply_xml("u", "corp", "\x00" * 100 + "x" * TEXT_LIMIT, 1))
    assert reply["Content"] == "x" * TEXT_LIMIT


@settings(max_examples=300, deadline=None)
@given(st.text(), st.integers(min_value=0, max_value=40))
def test_utf8_cut_keeps_the_longest_whole_start(text, limit):
    cut = utf8_cut(text, limit)
    size = len(cut.encode("utf-8", "surrogatepass"))
    assert text.startswith(cut) and size <= limit
    assert cut == text or size + len(text[len(cut)].encode("utf-8", "surrogatepass")) > limit


def test_news_reply_round_trips(crypto_n):
    articles = [
        {"title": "a]]>b 😀", "description": "行一\n行二\x00", "url": "https://example.com/?a=1&b=<2>", "image_id": 7},
        {"title": "只有标题"},
    ]
    reply = decrypted(crypto_n, news_reply_xml("lisi", "corp", articles, 1700000001))
    assert (reply["ToUserName"], reply["MsgType"], reply["ArticleCount"]) == ("lisi", "news", "2")
    assert reply["Articles"]["item"] == [
        {"Title": "a]]>b 😀", "Description": "行一\n行二", "Url": "https://example.com/?a=1&b=<2>"},
        {"Title": "只有标题"},
    ]


def test_news_reply_takes_up_to_eight_articles(crypto_n):
    articles = [{"title": f"第{n}条", "picurl": f"https://example.com/{n}.png"} for n in range(1, NEWS_LIMIT + 1)]
    reply = decrypted(crypto_n, news_reply_xml("u", "corp", articles, 1))
    assert reply["ArticleCount"] == "8" and [item["Title"] for item in reply["Articles"]["item"]][-1] == "第8条"


@pytest.mark.parametrize("count", [0, 9, 10])
def test_news_reply_refuses_no_article_or_more_than_eight(count):
    with pytest.raises(ValueError, match=f"not {count}"):
        news_reply_xml("u", "corp", [{"title": "t"}] * count, 1)


@pytest.mark.parametrize("article", [{}, {"title": ""}, {"title": "  \x00 "}, {"description": "d", "url": "u"}])
def test_news_reply_refuses_an_article_without_title(article):
    with pytest.raises(ValueError, match="article 2"):
        news_reply_xml("u", "corp", [{"title": "ok"}, article], 1)
