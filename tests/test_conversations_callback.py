"""The app talks back through the real callback (issue 26, points 1, 2, 5, 6, 10): encrypted
messages in, encrypted passive replies out, the worker's active answers at the fake WeCom."""
import time

import pytest
from sqlalchemy import event

from dashboard.cards import service as cards
from dashboard.conversations import answer, rules, service
from dashboard.extensions import db
from dashboard.models import Campaign, Card, CardEvent, ConversationMessage, Delivery, ReplyCampaign, utcnow
from dashboard.wecom.crypto import CallbackCrypto
from dashboard.wecom.events import parse_event
from dashboard.wecom.xmlsafe import cdata, parse_xml
from tests.campaign_factories import wired, wired_app
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


def test_every_menu_button_type_lands_in_the_inbox_and_a_waiting_scan_is_answered(app, client, login):
    rule(app, "scan", [{"match": "whole", "text": "SCAN_WAIT"}], [{"type": "text", "text": "扫到了"}])
    rule(app, "else", [], [{"type": "text", "text": "收到"}], kind="default")
    scan = "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType><ScanResult><![CDATA[1]]></ScanResult></ScanCodeInfo>"
    waiting = event_xml("scancode_waitmsg", key="SCAN_WAIT").replace("<AgentID>", scan + "<AgentID>")
    assert reply_of(app, post(app, client, waiting))["Content"] == "扫到了"
    for number, (kind, key) in enumerate([("scancode_push", "SCAN"), ("pic_sysphoto", "PHOTO"),
                                          ("location_select", "WHERE"), ("view", "https://example.com")]):
        later = event_xml(kind, key=key).replace(str(int(time.time())), str(int(time.time()) + number))
        assert reply_of(app, post(app, client, later)) is None  # WeCom's app does the rest: no default reply
    with app.app_context():
        inbox = db.session.execute(db.select(ConversationMessage.msg_type, ConversationMessage.text,
                                             ConversationMessage.answered, ConversationMessage.data)
                                   .filter_by(direction="in").order_by(ConversationMessage.id)).all()
    assert [(m.msg_type, m.text, m.answered) for m in inbox] == [
        ("event:scancode_waitmsg", "SCAN_WAIT", True), ("event:scancode_push", "SCAN", False),
        ("event:pic_sysphoto", "PHOTO", False), ("event:location_select", "WHERE", False),
        ("event:view", "https://example.com", False)]
    assert inbox[0].data == {"ScanCodeInfo": {"ScanType": "qrcode", "ScanResult": "1"}}
    login("manager")
    assert "Pressed menu button SCAN (scancode_push)" in client.get("/conversations/inbox/lisi").get_data(as_text=True)


def test_a_kind_of_message_wecom_does_not_list_is_kept_unanswered(app):
    """What the callback hands the conversations for an unknown MsgType: kept, no default reply."""
    rule(app, "else", [], [{"type": "text", "text": "收到"}], kind="default")
    with app.app_context(), db.engine.connect() as conn:
        planned = answer.plan(conn, parse_event(message_xml("file", MediaId="m")), rules.current(conn), utcnow())
    assert planned.passive is None and not planned.queued
    assert [(row["direction"], row["msg_type"], row["answered"]) for row in planned.rows] == [("in", "file", False)]


@pytest.mark.parametrize("content", ["]]>", "😀" * 700, "a\x01b", "x" * 5000])
def test_bad_member_text_is_stored_and_never_a_500(app, client, content):
    rule(app, "echo", [{"match": "pattern", "text": "."}], [{"type": "text", "text": "😀" * 600}])
    xml = message_xml(Content=content.replace("\x01", "")).replace("ab]]>", "a\x01b]]>")  # raw, as WeCom forwards it
    response = post(app, client, xml)
    assert response.status_code == 200
    answer = reply_of(app, response)
    assert len(answer["Content"].encode()) <= 2048 and answer["Content"] == "😀" * 512


def test_a_message_of_a_type_nobody_names_lands_in_the_inbox_unanswered(app, client):
    rule(app, "default", [], [{"type": "text", "text": "收到"}], kind="default")
    response = post(app, client, message_xml("shortvideo", msg_id="4242", MediaId="m1", ThumbMediaId="t1"))
    assert response.status_code == 200 and reply_of(app, response) is None
    with app.app_context():
        kept = db.session.scalars(db.select(ConversationMessage).filter_by(msg_type="shortvideo")).all()
        assert [(m.userid, m.direction, m.answered) for m in kept] == [("lisi", "in", False)]


def test_raw_control_characters_in_a_members_text_are_dropped_and_the_message_kept(app, client):
    response = post(app, client, message_xml(Content="ab").replace("ab]]>", "a\x01\x02b]]>"))
    assert response.status_code == 200
    with app.app_context():
        assert db.session.scalars(db.select(ConversationMessage.text).filter_by(direction="in")).all() == ["ab"]


def test_the_welcome_comes_again_once_its_period_is_over(app, client):
    app.config["WELCOME_EVERY"] = 1
    rule(app, "hi", [], [{"type": "text", "text": "欢迎"}], kind="welcome")
    now = int(time.time())
    entering = [event_xml("enter_agent").replace(str(now), str(now + i)) for i in range(3)]
    assert reply_of(app, post(app, client, entering[0]))["Content"] == "欢迎"
    assert reply_of(app, post(app, client, entering[1])) is None
    time.sleep(1.1)
    assert reply_of(app, post(app, client, entering[2]))["Content"] == "欢迎"


def test_a_rule_saved_in_one_process_answers_in_another_within_seconds(app, client, fake, tmp_path):
    other = wired_app(tmp_path, fake, users=False)  # another web process on the same database
    try:
        other_client = other.test_client()
        assert reply_of(other, post(other, other_client, message_xml(Content="wifi", msg_id="0"))) is None
        rule(app, "wifi", [{"match": "whole", "text": "wifi"}], [{"type": "text", "text": "guest2025"}])
        saved, answer, msg_id = time.monotonic(), None, 0
        while answer is None and time.monotonic() - saved < rules.RELOAD_EVERY + 3:
            msg_id += 1
            answer = reply_of(other, post(other, other_client, message_xml(Content="wifi", msg_id=str(msg_id))))
        assert answer is not None and answer["Content"] == "guest2025"
    finally:
        with other.app_context():
            db.engine.dispose()


def test_a_card_edited_in_the_designer_is_sent_as_it_is_now(app, client, fake):
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    rule(app, "vote", [{"match": "whole", "text": "投票"}], [{"type": "card", "card_id": card_id}])
    post(app, client, message_xml(user="lisi", msg_id="1", Content="投票"))
    with app.app_context():
        card = db.session.get(Card, card_id)
        cards.save_card(card, card.name, {**VOTE, "main_title": {"title": "Dinner?"}}, actor="test")
        db.session.commit()
        first = db.session.scalar(db.select(ReplyCampaign.campaign_id))
    post(app, client, message_xml(user="wangwu", msg_id="2", Content="投票"))
    sent = [(c.body["touser"], c.body["template_card"]["main_title"]["title"])
            for c in fake.calls("/message/send") if c.body["msgtype"] == "template_card"]
    assert sent == [("lisi", "Lunch?"), ("wangwu", "Dinner?")]
    with app.app_context():
        (link,) = db.session.scalars(db.select(ReplyCampaign)).all()
        assert link.campaign_id != first  # the rule's campaign of the new version; the first keeps its report
        ledgers = {campaign_id: db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign_id)).all()
                   for campaign_id in (first, link.campaign_id)}
        assert ledgers == {first: ["lisi"], link.campaign_id: ["wangwu"]}


def test_a_card_answer_after_another_finished_the_campaign_is_sent_and_listed(app, client, fake):
    """The worker read the rule's campaign while a run sent it; before it adds wangwu's batch,
    zhaoliu's answer goes out and the run finishes the campaign. wangwu's card still goes, and the
    campaign lists all three who asked."""
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    rule(app, "vote", [{"match": "whole", "text": "投票"}], [{"type": "card", "card_id": card_id}])
    post(app, client, message_xml(user="lisi", msg_id="1", Content="投票"))
    app.extensions["huey"].immediate = False  # wangwu's answer waits in the queue
    post(app, client, message_xml(user="wangwu", msg_id="2", Content="投票"))
    app.extensions["huey"].immediate = True
    with app.app_context():
        campaign_id = db.session.scalar(db.select(ReplyCampaign.campaign_id))
        db.session.execute(db.update(Campaign).filter_by(id=campaign_id).values(status="sending"))
        db.session.commit()
        read = db.session.get(Campaign, campaign_id)  # the worker reads it while a run goes on
        assert (read.status, read.recipients["users"]) == ("sending", ["lisi"])
        post(app, client, message_xml(user="zhaoliu", msg_id="3", Content="投票"))  # sent and finished
        service.send_queued(db.select(ConversationMessage).filter_by(userid="wangwu", direction="out"))
    sent = [c.body["touser"] for c in fake.calls("/message/send") if c.body["msgtype"] == "template_card"]
    assert sent == ["lisi", "zhaoliu", "wangwu"]
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).recipients["users"] == ["lisi", "zhaoliu", "wangwu"]


def test_answers_racing_to_start_the_rules_campaign_end_in_one(app):
    """Two of the worker's threads send the rule's first card answers at once: the one whose link to
    the rule is refused (the other made it first) sends through the other's campaign."""
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    rule_id = rule(app, "vote", [{"match": "whole", "text": "投票"}], [{"type": "card", "card_id": card_id}])
    raced, winner = [], []

    def the_other_thread_first(_conn, _cursor, statement, *_args):
        if statement.startswith("INSERT INTO campaign ") and not raced:
            raced.append(True)
            with app.app_context():  # its own session and connection
                winner.append(service.standing_campaign(rule_id, db.session.get(Card, card_id)).id)
                db.session.commit()

    with app.app_context():
        card = db.session.get(Card, card_id)
        assert card.latest is not None
        event.listen(db.engine, "before_cursor_execute", the_other_thread_first)
        try:
            campaign = service.standing_campaign(rule_id, card)
        finally:
            event.remove(db.engine, "before_cursor_execute", the_other_thread_first)
        db.session.commit()
        assert winner and campaign.id == winner[0]
        assert db.session.scalars(db.select(ReplyCampaign.campaign_id)).all() == winner
        assert db.session.scalars(db.select(Campaign.id)).all() == winner
