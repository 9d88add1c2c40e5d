"""The inbox in the JSON API (issue 26 point 7): GET /messages with its filters, and POST
/messages/{id}/reply reaching the fake WeCom's message/send."""
from datetime import timedelta

import pytest

from dashboard.cards import service as cards
from dashboard.extensions import db
from dashboard.models import AuditLog, ConversationMessage, utcnow
from tests.test_api import api, issue_token  # noqa: F401  (api: a fixture)
from tests.test_conversations_callback import (  # noqa: F401  (app, fake: fixtures)
    VOTE, app, fake, message_xml, post, rule)


def conversation(app) -> None:
    """lisi writes "test" (the demo rule answers) and "help" (nothing does); wangwu writes "hi"."""
    client = app.test_client()
    rule(app, "demo", [{"match": "whole", "text": "test"}], [{"type": "text", "text": "this is success test"}])
    for user, msg_id, words in (("lisi", "1", "test"), ("lisi", "2", "help"), ("wangwu", "3", "hi")):
        assert post(app, client, message_xml(user=user, msg_id=msg_id, Content=words)).status_code == 200


def test_messages_with_their_answers_oldest_first(app, api):
    conversation(app)
    response = api("get", "/messages", role="manager")
    assert response.status_code == 200 and response.json["total"] == 3
    first, second, third = response.json["items"]
    assert first["userid"] == "lisi" and first["msgtype"] == "text" and first["text"] == "test"
    assert first["answered"] is True and first["answers"] == [
        {"rule_id": 1, "rule": "demo", "type": "text", "text": "this is success test", "articles": None,
         "card_id": None, "via": "passive", "status": "sent"}]
    assert (second["text"], second["answered"], second["answers"]) == ("help", False, [])
    assert third["userid"] == "wangwu" and third["time"] >= first["time"]


def test_each_answer_says_which_reply_it_was_news_articles_or_the_card(app, api):
    with app.app_context():
        card_id = cards.create_card("Lunch vote", VOTE, actor="test").id
        db.session.commit()
    news = [{"title": "HR 手册", "url": "https://example.com/hr"}]
    rule(app, "hr", [{"match": "whole", "text": "hr"}],
         [{"type": "news", "articles": news}, {"type": "card", "card_id": card_id}])
    assert post(app, app.test_client(), message_xml(Content="hr")).status_code == 200
    (message,) = api("get", "/messages").json["items"]
    assert [(a["type"], a["articles"], a["card_id"], a["via"]) for a in message["answers"]] == [
        ("news", news, None, "passive"), ("card", None, card_id, "active")]


@pytest.mark.parametrize("query, texts", [
    ("userid=LISI", ["test", "help"]),
    ("unanswered=true", ["help", "hi"]),
    ("unanswered=false", ["test"]),
    ("userid=lisi&unanswered=true", ["help"]),
    ("per_page=2&page=2", ["hi"]),
])
def test_filters(app, api, query, texts):
    conversation(app)
    assert [m["text"] for m in api("get", f"/messages?{query}").json["items"]] == texts


def test_since_takes_an_iso_time_with_an_offset(app, api):
    conversation(app)
    with app.app_context():
        old = db.session.scalar(db.select(ConversationMessage).filter_by(text="test"))
        old.created_at = utcnow() - timedelta(days=2)
        db.session.commit()
    since = (utcnow() - timedelta(days=1)).astimezone().isoformat()
    found = api("get", "/messages", query_string={"since": since}).json["items"]
    assert [m["text"] for m in found] == ["help", "hi"]
    for bad in ("yesterday", "2025-06-01T10:00:00"):
        response = api("get", "/messages", query_string={"since": bad})
        assert response.status_code == 422 and response.json["errors"][0]["path"] == "since"


@pytest.mark.parametrize("query, path", [("unanswered=yes", "unanswered"), ("page=0", "page"),
                                         ("per_page=101", "per_page"), ("userid=" + "x" * 65, "userid")])
def test_a_bad_filter_is_a_422_at_its_name(app, api, query, path):
    response = api("get", f"/messages?{query}")
    assert response.status_code == 422 and [e["path"] for e in response.json["errors"]] == [path]


def test_reply_sends_a_text_and_answers_201(app, api, fake):
    conversation(app)
    help_id = api("get", "/messages?unanswered=true").json["items"][0]["id"]
    response = api("post", f"/messages/{help_id}/reply", json={"text": "请看员工手册"})
    assert response.status_code == 201 and response.json == {
        "rule_id": None, "rule": None, "type": "text", "text": "请看员工手册", "articles": None, "card_id": None,
        "via": "manual", "status": "sent"}
    assert fake.calls("/message/send")[-1].body == {"touser": "lisi", "msgtype": "text", "agentid": fake.agent_id,
                                                    "text": {"content": "请看员工手册"}}
    help_message = api("get", "/messages?userid=lisi").json["items"][1]
    assert help_message["answered"] and help_message["answers"][0]["via"] == "manual"
    with app.app_context():
        assert db.session.scalar(db.select(AuditLog).filter_by(action="conversation_replied")).actor_name == "staff"


def test_wecom_refusing_is_a_502_with_the_failed_answer(app, api, fake):
    conversation(app)
    message_id = api("get", "/messages").json["items"][1]["id"]
    fake.fail_next(48002, path="/message/send")
    response = api("post", f"/messages/{message_id}/reply", json={"text": "hi"})
    assert response.status_code == 502 and "no permission" in response.json["message"]
    assert response.json["answer"]["status"] == "failed"


@pytest.mark.parametrize("body, path", [({"text": ""}, "text"), ({"text": "  \n"}, "text"),
                                        ({}, "text"), ({"text": 3}, "text"), ({"text": "字" * 683}, "text"),
                                        ({"text": "hi", "to": "all"}, "to")])
def test_an_empty_or_too_long_answer_is_a_422(app, api, fake, body, path):
    conversation(app)
    message_id = api("get", "/messages").json["items"][1]["id"]
    response = api("post", f"/messages/{message_id}/reply", json=body)
    assert response.status_code == 422 and path in [e["path"] for e in response.json["errors"]]
    assert fake.calls("/message/send") == []


def test_roles_and_unknown_messages(app, api, fake):
    conversation(app)
    items = api("get", "/messages").json["items"]
    assert api("post", f"/messages/{items[1]['id']}/reply", role="manager", json={"text": "hi"}).status_code == 403
    with app.app_context():
        answer_id = db.session.scalar(db.select(ConversationMessage.id).filter_by(direction="out"))
    for message_id in (answer_id, 999_999, 2**31 - 1):  # an answer is not a member's message
        assert api("post", f"/messages/{message_id}/reply", json={"text": "hi"}).status_code == 404
    assert api("post", f"/messages/{2**31}/reply", json={"text": "hi"}).status_code == 404
    assert fake.calls("/message/send") == []
    assert app.test_client().get("/api/v1/messages").status_code == 401


def test_openapi_describes_both_operations(app):
    spec = app.test_client().get("/api/v1/openapi.json").json
    listing = spec["paths"]["/messages"]["get"]
    assert [p["name"] for p in listing["parameters"]] == ["userid", "since", "unanswered", "page", "per_page"]
    reply = spec["paths"]["/messages/{message_id}/reply"]["post"]
    assert reply["parameters"][0]["name"] == "message_id" and reply["x-roles"] == ["staff", "admin"]
    assert set(reply["responses"]) >= {"201", "422", "502"}
    assert spec["components"]["schemas"]["MessagePage"]["properties"]["items"]["items"] == {
        "$ref": "#/components/schemas/Message"}
