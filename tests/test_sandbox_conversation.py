"""The sandbox plays both sides of a conversation (issue 26, point 9): what an employee types,
sends or taps is posted encrypted to the app's real callback route, the app's passive reply is
decrypted into the conversation, and message/send takes text and news besides cards."""
import time

import pytest
import requests

from dashboard import tasks
from dashboard.conversations import service
from dashboard.extensions import db
from dashboard.models import Card, CardEvent, ConversationMessage, ReplyCampaign, ReplyRule
from dashboard.sandbox import callbacks, chat, inbox
from dashboard.wecom.errors import ApiError
from dashboard.wecom.replies import text_reply_xml
from dashboard.wecom.xmlsafe import parse_xml
from tests.test_sandbox_api import served, wecom  # noqa: F401  (fixtures)
from tests.test_sandbox_inbox import delivered, wait_for

NEWS = [{"title": "Canteen menu", "description": "This week", "url": "https://example.com/menu",
         "picurl": "https://example.com/menu.png"}, {"title": "Opening hours", "url": "https://example.com/hours"}]


def rule(name, triggers, replies, **fields):
    service.save_rule(None, {"name": name, "triggers": triggers, "replies": replies, **fields}, actor="test")
    db.session.commit()


def say(client, userid="zhangwei", **data):
    return client.post(f"/sandbox/inbox/{userid}/messages", json=data)


def said(app, client, *messages, userid="zhangwei"):
    """Each message posted from the inbox page and delivered by the worker; their callbacks."""
    with tasks.running(app):
        ids = [say(client, userid, **data).json["callback"] for data in messages]
        return [wait_for(delivered(i)) for i in ids]


def conversation(client, userid="zhangwei"):
    return client.get(f"/sandbox/inbox/{userid}/feed").json["messages"]


def sent_fields(callback) -> dict:
    """The callback's body decrypted as the app decrypts it: it went out encrypted and signed."""
    query = callback.query
    plain = callbacks.crypto().decrypt(query["msg_signature"], query["timestamp"], query["nonce"], callback.body)
    return parse_xml(plain)["xml"]


def received(userid="zhangwei"):
    return db.session.scalars(db.select(ConversationMessage).filter_by(userid=userid, direction="in")
                              .order_by(ConversationMessage.id)).all()


def test_typed_text_reaches_the_callback_encrypted_and_its_passive_reply_is_shown(app, wecom, client, login):
    rule("demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "this is success test"}])
    login("staff")
    first, second = said(app, client, {"kind": "text", "text": "test"},
                         {"kind": "text", "text": "a ]]> b 😀\x07c"})
    assert "<Encrypt>" in first.body and "<Content>" not in first.body
    fields = sent_fields(first)
    assert (fields["MsgType"], fields["Content"], fields["FromUserName"]) == ("text", "test", "zhangwei")
    assert fields["ToUserName"] == app.config["WECOM_CORP_ID"] and fields["AgentID"] == app.config["WECOM_AGENT_ID"]
    assert fields["MsgId"].isdigit() and fields["MsgId"] != sent_fields(second)["MsgId"]
    assert [(m.text, m.answered) for m in received()] == [("test", True), ("a ]]> b 😀c", False)]
    shown = conversation(client)
    assert [(m["side"], m["content"]) for m in shown] == [("me", "test"), ("me", "a ]]> b 😀c")]
    assert shown[0]["reply"] == {"type": "text", "content": "this is success test"} and shown[1]["reply"] is None


def test_the_pages_show_the_composer_and_the_employees_own_callbacks(app, wecom, client, login):
    login("staff")
    said(app, client, {"kind": "text", "text": "hello app"}, {"kind": "location"})
    page = client.get("/sandbox/?user=zhangwei").get_data(as_text=True)
    assert 'id="composer"' in page and 'data-say-url="/sandbox/inbox/zhangwei/messages"' in page
    control = client.get("/sandbox/control").get_data(as_text=True)
    assert "Message: hello app" in control and "Location: 上海市徐汇区" in control
    assert [c["title"] for c in client.get("/sandbox/inbox/zhangwei/feed").json["callbacks"]] == [
        "Location: 上海市徐汇区", "Message: hello app"]


def test_the_sample_location_and_picture_arrive_as_wecom_sends_them(app, wecom, client, login):
    login("staff")
    place, picture = said(app, client, {"kind": "location"}, {"kind": "image"})
    assert sent_fields(place)["Location_X"] == "31.19" and sent_fields(place)["AppType"] == "wxwork"
    rows = received()
    assert [(m.msg_type, m.text) for m in rows] == [("location", "上海市徐汇区"), ("image", "")]
    assert rows[0].data["Location_Y"] == "121.44" and rows[1].data["MediaId"].startswith("sandbox-")
    served_picture = requests.get(rows[1].data["PicUrl"], timeout=5)
    assert served_picture.status_code == 200 and served_picture.content.startswith(b"\x89PNG")
    assert [m["type"] for m in conversation(client)] == ["location", "image"]


def test_a_click_on_the_drawn_menu_sends_its_key_and_a_link_its_url(app, wecom, client, login):
    wecom.create_menu({"button": [{"type": "click", "name": "投票", "key": "vote"}, {"name": "更多", "sub_button": [
        {"type": "view", "name": "帮助", "url": "https://example.com/help"}]}]})
    rule("menu", [{"match": "whole", "text": "vote"}], [{"type": "text", "text": "Thanks for asking"}])
    login("staff")
    assert client.get("/sandbox/inbox/zhangwei/feed").json["menu"][0]["key"] == "vote"
    click, view = said(app, client, {"kind": "menu", "button": [0]}, {"kind": "menu", "button": [1, 0]})
    assert (sent_fields(click)["Event"], sent_fields(click)["EventKey"]) == ("click", "vote")
    assert (sent_fields(view)["Event"], sent_fields(view)["EventKey"]) == ("view", "https://example.com/help")
    assert "MsgId" not in sent_fields(click)
    shown = conversation(client)
    assert [(m["side"], m["key"]) for m in shown] == [("event", "vote"), ("event", "https://example.com/help")]
    assert shown[0]["reply"] == {"type": "text", "content": "Thanks for asking"} and shown[1]["reply"] is None
    assert [m.msg_type for m in received()] == ["event:click", "event:view"]


@pytest.mark.parametrize("data, error", [
    ({"kind": "text", "text": "  "}, "Write a message"),
    ({"kind": "text", "text": "x" * (chat.TEXT_MAX + 1)}, "At most"),
    ({"kind": "fax"}, "cannot send"),
    ({"kind": "menu", "button": [0]}, "no such button"),
    ("not an object", "cannot send"),
])
def test_the_composer_refuses_what_wecom_would_not_send(app, wecom, client, login, data, error):
    login("staff")
    answer = client.post("/sandbox/inbox/zhangwei/messages", json=data)
    assert answer.status_code == 409 and error in answer.json["error"]
    assert say(client, "nobody", kind="text", text="hi").status_code == 404


def test_a_menu_group_or_a_missing_button_sends_nothing(app, wecom):
    wecom.create_menu({"button": [{"name": "更多", "sub_button": [
        {"type": "scancode_push", "name": "扫码", "key": "scan"}]}]})
    for path, error in (([0], "no such button"), ([0, 1], "no such button"), ([-1], "no such button"),
                        ([0, 0], "does not simulate scancode_push")):
        with pytest.raises(inbox.InboxError, match=error):
            chat.say("zhangwei", {"kind": "menu", "button": path})


def test_opening_the_inbox_sends_enter_agent_and_the_welcome_comes_once_a_day(app, wecom, client, login):
    rule("welcome", [], [{"type": "text", "text": "Welcome!"}], kind="welcome")
    login("staff")
    first = said(app, client, {"kind": "enter_agent"})[0]
    time.sleep(1.05)  # an event is told apart from a retry by its CreateTime's second (PROTOCOL §4.2)
    said(app, client, {"kind": "enter_agent"})
    assert sent_fields(first)["Event"] == "enter_agent" and "<EventKey><![CDATA[]]></EventKey>" in first.xml
    assert [m["reply"] for m in conversation(client)] == [{"type": "text", "content": "Welcome!"}, None]


def test_the_apps_active_answers_arrive_in_the_conversation_after_the_passive_one(app, wecom, client, login):
    rule("canteen", [{"match": "contains", "text": "menu"}],
         [{"type": "text", "text": "Here it is"}, {"type": "news", "articles": NEWS}], reply_mode="all")
    login("staff")
    with tasks.running(app):
        callback = wait_for(delivered(say(client, kind="text", text="lunch menu?").json["callback"]))
        shown = wait_for(lambda: len(conversation(client)) == 2 and conversation(client))
    assert shown[0]["reply"] == {"type": "text", "content": "Here it is"}
    assert shown[1]["side"] == "app" and shown[1]["type"] == "news"
    assert [a["title"] for a in shown[1]["articles"]] == ["Canteen menu", "Opening hours"]
    assert callback.reply_kind == "text"


def test_message_send_takes_text_cut_like_wecom_and_news(app, wecom, client, login):
    agent = int(app.config["WECOM_AGENT_ID"])
    long = "a" + "你" * 700  # 2101 bytes: WeCom keeps 2048, the last character cut in two
    wecom.send({"touser": "zhangwei", "msgtype": "text", "agentid": agent, "text": {"content": long}})
    wecom.send({"touser": "zhangwei", "msgtype": "news", "agentid": agent, "news": {"articles": NEWS}})
    login("staff")
    feed = client.get("/sandbox/inbox/zhangwei/feed").json
    assert feed["cards"] == [] and [(m["side"], m["type"]) for m in feed["messages"]] == [
        ("app", "text"), ("app", "news")]
    assert feed["messages"][0]["content"] == "a" + "你" * 682 + "\ufffd"
    assert feed["messages"][1]["articles"] == NEWS


@pytest.mark.parametrize("msgtype, content, errcode", [
    ("text", {"content": ""}, 40063),
    ("text", {"content": 7}, 40058),
    ("news", {"articles": []}, 40063),
    ("news", {"articles": [NEWS[1]] * 9}, 40058),
    ("news", {"articles": [{"title": " ", "url": "https://example.com"}]}, 40063),
    ("news", {"articles": [{"title": "No link"}]}, 40058),
    ("news", {"articles": [{"title": "FTP", "url": "ftp://example.com/a"}]}, 40058),
    ("markdown", {"content": "**hi**"}, 40008),
])
def test_message_send_refuses_text_and_news_as_wecom_does(app, wecom, msgtype, content, errcode):
    body = {"touser": "zhangwei", "msgtype": msgtype, "agentid": int(app.config["WECOM_AGENT_ID"]),
            msgtype: content}
    with pytest.raises(ApiError) as refused:
        wecom.send(body)
    assert refused.value.errcode == errcode


def test_a_reply_addressed_to_someone_else_is_not_shown(app, wecom):
    callback = chat.say("zhangwei", {"kind": "text", "text": "hi"})
    db.session.commit()
    inner = text_reply_xml("lina", app.config["WECOM_CORP_ID"], "hello", 1)
    note = callbacks.apply_reply(callback, callbacks.crypto().encrypt_reply(inner, "1", 1).encode())
    assert callback.reply_kind == "invalid" and "not to 'zhangwei'" in note


def test_demo_seed_adds_the_two_rules_once_and_投票_brings_the_poll_that_counts(app, wecom, runner, client, login):
    first, again = runner.invoke(args=["demo", "seed"]), runner.invoke(args=["demo", "seed"])
    assert "Demo reply rules added: test, 投票" in first.output and "Demo reply rules kept" in again.output
    rules = {r.name: r for r in db.session.scalars(db.select(ReplyRule))}
    assert sorted(rules) == ["test", "投票"]
    assert rules["test"].triggers == [{"match": "whole", "text": "test"}]
    assert rules["test"].replies == [{"type": "text", "text": "this is success test"}]
    assert db.session.get(Card, rules["投票"].replies[0]["card_id"]).name == "Single-choice poll"
    login("staff")
    with tasks.running(app):
        say(client, kind="text", text="投票")
        row = wait_for(lambda: inbox.cards_for("zhangwei"))[0]
        vote = inbox.act(row, {"kind": "submit", "key": "submit_vote",
                               "selections": [{"question_key": "offsite_date", "option_ids": ["june_21"]}]})
        db.session.commit()
        callbacks.deliver(vote.id)
    standing = db.session.scalar(db.select(ReplyCampaign.campaign_id).filter_by(rule_id=rules["投票"].id))
    event = db.session.scalar(db.select(CardEvent).filter_by(campaign_id=standing))
    assert (event.from_user, event.selected) == ("zhangwei", {"offsite_date": ["june_21"]})
