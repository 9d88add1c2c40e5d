"""The app talks back through the real callback (issue 26, points 1, 2, 5, 6, 10): encrypted
messages in, encrypted passive replies out, the worker's active answers at the fake WeCom."""
import time

import pytest

from dashboard.cards import service as cards
from dashboard.conversations import service
from dashboard.extensions import db
from dashboard.models import CardEvent, ConversationMessage, Delivery
from dashboard.wecom.crypto import CallbackCrypto
from dashboard.wecom.xmlsafe import cdata, parse_xml
from tests.campaign_factories import wired
from tests.fake_wecom import FakeWeCom

VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q", "mode": 0, "option_list": [
            {"id": "a", "text": "A"}, {"id": "b", "text": "B"}]},
        "submit_button": {"text": "Vote", "key": "vote"}}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        app.extensions["huey"].immediate = True  # the worker's answers at once
        yield app


def crypto(app):
    return CallbackCrypto(app.config["WECOM_TOKEN"], app.config["WECOM_AES_KEY"], app.config["WECOM_CORP_ID"])


def message_xml(msg_type="text", user="lisi", msg_id="1001", create_time=None, **fields):
    elements = "".join(f"<{k}>{cdata(v)}</{k}>" for k, v in fields.items())  # as WeCom escapes
    return (f"<xml><ToUserName><![CDATA[corp]]></ToUserName><FromUserName><![CDATA[{user}]]></FromUserName>"
            f"<CreateTime>{create_time or int(time.time())}</CreateTime><MsgType><![CDATA[{msg_type}]]></MsgType>"
            f"{elements}{f'<MsgId>{msg_id}</MsgId>' if msg_id else ''}<AgentID>1000002</AgentID></xml>")


def event_xml(event, user="lisi", key=""):
    return message_xml("event", user=user, msg_id=None, Event=event, EventKey=key)


def post(app, client, xml, nonce="13579"):
    query, body = crypto(app).encrypt_message(xml, nonce=nonce)
    return client.post("/wecom/callback", query_string=query, data=body, content_type="text/xml")


def reply_of(app, response) -> dict | None:
    """The decrypted passive reply's fields, or None for an empty answer."""
    if not response.data:
        return None
    envelope = parse_xml(response.data)["xml"]
    return parse_xml(crypto(app).decrypt_ciphertext(envelope["Encrypt"]))["xml"]


def rule(app, name, triggers, replies, **fields):
    with app.app_context():
        saved = service.save_rule(None, {"name": name, "triggers": triggers, "replies": replies, **fields},
                                  actor="test")
        db.session.commit()
        return saved.id


def test_the_articles_demo_test_answers_this_is_success_test(app, client):
    rule(app, "demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "this is success test"}])
    answer = reply_of(app, post(app, client, message_xml(Content="test")))
    assert answer["MsgType"] == "text" and answer["Content"] == "this is success test"
    assert answer["ToUserName"] == "lisi" and answer["FromUserName"] == app.config["WECOM_CORP_ID"]
    assert reply_of(app, post(app, client, message_xml(Content="a test", msg_id="1002"))) is None  # whole only


def test_a_retry_of_one_msgid_is_stored_once_and_answered_the_same(app, client):
    rule(app, "pick", [{"match": "contains", "text": "lunch"}],
         [{"type": "text", "text": "noodles"}, {"type": "text", "text": "rice"}], reply_mode="random")
    xml = message_xml(Content="what's for LUNCH?")
    first = reply_of(app, post(app, client, xml))["Content"]
    assert all(reply_of(app, post(app, client, xml, nonce=f"n{i}"))["Content"] == first for i in range(4))
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(ConversationMessage)) == 2  # in + out
        assert db.session.scalar(db.select(db.func.count()).select_from(CardEvent)) == 1


def test_priority_default_reply_and_news(app, client):
    rule(app, "late", [{"match": "contains", "text": "hr"}], [{"type": "text", "text": "late"}], priority=5)
    rule(app, "early", [{"match": "pattern", "text": r"^hr\s+\d+$"}],
         [{"type": "news", "articles": [{"title": "HR 手册", "url": "https://example.com/hr",
                                         "description": "]]> & <b>"}]}], priority=1)
    rule(app, "else", [], [{"type": "text", "text": "收到"}], kind="default")
    news = reply_of(app, post(app, client, message_xml(Content="hr 42")))
    assert news["MsgType"] == "news" and news["ArticleCount"] == "1"
    assert news["Articles"]["item"]["Description"] == "]]> & <b>"
    assert reply_of(app, post(app, client, message_xml(Content="ask hr", msg_id="2")))["Content"] == "late"
    assert reply_of(app, post(app, client, message_xml("image", msg_id="3", PicUrl="https://p/x.png",
                                                       MediaId="m")))["Content"] == "收到"


def test_the_welcome_once_per_period(app, client):
    rule(app, "hi", [], [{"type": "text", "text": "欢迎"}], kind="welcome")
    assert reply_of(app, post(app, client, event_xml("enter_agent")))["Content"] == "欢迎"
    later = event_xml("enter_agent").replace(str(int(time.time())), str(int(time.time()) + 1))
    assert reply_of(app, post(app, client, later)) is None  # not again today
    assert reply_of(app, post(app, client, event_xml("enter_agent", user="wangwu")))["Content"] == "欢迎"


def test_a_menu_click_triggers_rules_like_a_keyword(app, client):
    rule(app, "menu", [{"match": "whole", "text": "MENU_HELP"}], [{"type": "text", "text": "帮助"}])
    assert reply_of(app, post(app, client, event_xml("click", key="MENU_HELP")))["Content"] == "帮助"


def test_all_replies_the_first_passive_the_rest_and_a_card_by_message_send(app, client, fake):
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    rule(app, "vote", [{"match": "whole", "text": "投票"}],
         [{"type": "text", "text": "请投票"}, {"type": "card", "card_id": card_id},
          {"type": "text", "text": "谢谢"}])
    answer = reply_of(app, post(app, client, message_xml(Content="投票")))
    assert answer["Content"] == "请投票"
    sends = [c.body for c in fake.calls("/message/send")]
    assert {"touser": "lisi", "msgtype": "text", "agentid": fake.agent_id, "text": {"content": "谢谢"}} in sends
    card = next(b for b in sends if b["msgtype"] == "template_card")
    assert card["touser"] == "lisi" and card["template_card"]["main_title"]["title"] == "Lunch?"
    with app.app_context():
        ledger = db.session.scalars(db.select(Delivery)).all()
        assert [(d.userid, d.state) for d in ledger] == [("lisi", "accepted")]
        statuses = db.session.scalars(db.select(ConversationMessage.status).filter_by(direction="out")).all()
        assert sorted(statuses) == ["sent", "sent", "sent"]


@pytest.mark.parametrize("content", ["]]>", "😀" * 700, "a\x01b", "x" * 5000])
def test_bad_member_text_is_stored_and_never_a_500(app, client, content):
    rule(app, "echo", [{"match": "pattern", "text": "."}], [{"type": "text", "text": "😀" * 600}])
    response = post(app, client, message_xml(Content=content.replace("\x01", "")))
    assert response.status_code == 200
    answer = reply_of(app, response)
    assert len(answer["Content"].encode()) <= 2048 and answer["Content"] == "😀" * 512
