"""The reply rules in the JSON API (issue 26, point 7): the fields exactly, the editor's checks as
422 problems at their paths, roles, and a rule made here answering the next encrypted message."""
import pytest

from dashboard.cards import service as cards
from dashboard.extensions import db
from dashboard.models import AuditLog
from tests.test_api import VOTE, api, issue_token  # noqa: F401  (api: a fixture)
from tests.test_conversations_callback import (  # noqa: F401  (app, fake: fixtures)
    app, fake, message_xml, post, reply_of)

FIELDS = {"id", "name", "kind", "priority", "enabled", "reply_mode", "triggers", "replies"}
DEMO = {"name": "demo", "triggers": [{"match": "whole", "text": "test"}],
        "replies": [{"type": "text", "text": "this is success test"}]}


def problems(response) -> dict[str, str]:
    assert response.status_code == 422, (response.status_code, response.json)
    return {problem["path"]: problem["message"] for problem in response.json["errors"]}


def test_a_rule_is_created_read_listed_changed_and_deleted(app, api, client):
    created = api("post", "/reply-rules", json=DEMO)
    assert created.status_code == 201
    rule = created.json
    assert set(rule) == FIELDS and created.headers["Location"].endswith(f"/api/v1/reply-rules/{rule['id']}")
    assert rule == {"id": rule["id"], "kind": "keyword", "priority": 100, "enabled": True, "reply_mode": "all", **DEMO}
    assert api("get", f"/reply-rules/{rule['id']}", "manager").json == rule
    assert api("get", "/reply-rules", "manager").json == {"items": [rule], "total": 1, "page": 1, "per_page": 50}

    changed = api("put", f"/reply-rules/{rule['id']}", json={"priority": 5, "reply_mode": "random",
                                                             "replies": [{"type": "text", "text": "a"},
                                                                         {"type": "text", "text": "b"}]})
    assert changed.status_code == 200
    assert changed.json == {**rule, "priority": 5, "reply_mode": "random",
                            "replies": [{"type": "text", "text": "a"}, {"type": "text", "text": "b"}]}
    assert api("put", f"/reply-rules/{rule['id']}", json=changed.json).json == changed.json  # GET's answer back

    assert api("delete", f"/reply-rules/{rule['id']}").json == {"id": rule["id"], "deleted": True}
    assert api("get", f"/reply-rules/{rule['id']}").status_code == 404
    with app.app_context():
        assert db.session.scalars(db.select(AuditLog.action).where(AuditLog.action.like("reply_rule%")).order_by(AuditLog.id)).all() == [
            "reply_rule_saved"] * 3 + ["reply_rule_deleted"]


def test_a_rule_made_through_the_api_answers_the_next_message(app, api, client):
    assert api("post", "/reply-rules", json=DEMO).status_code == 201
    assert reply_of(app, post(app, client, message_xml(Content="test")))["Content"] == "this is success test"


@pytest.mark.parametrize("body, expected", [
    ({**DEMO, "triggers": [{"match": "pattern", "text": "(a"}]},
     {"triggers[0].text": "This pattern cannot be used (RE2 syntax: no look-around, no back-references): "
                          "missing ): (a"}),
    ({**DEMO, "triggers": [{"match": "pattern", "text": r"(\w+) \1"}]},
     {"triggers[0].text": "This pattern cannot be used (RE2 syntax: no look-around, no back-references): "
                          r"invalid escape sequence: \1"}),
    ({**DEMO, "replies": [{"type": "text", "text": "中" * 683}]}, {"replies[0].text": "2,049 bytes; at most 2,048."}),
    ({**DEMO, "replies": [{"type": "text", "text": "  "}]}, {"replies[0].text": "Write the reply's text."}),
    ({**DEMO, "replies": [{"type": "news", "articles": [
        {"title": "ok", "url": "https://example.com"}, {"title": "", "url": "javascript:alert(1)"},
        {"title": "t" * 129, "url": "https://example.com", "description": "d" * 513, "picurl": "ftp://x"}]}]},
     {"replies[0].articles[1].title": "Give the article a title.",
      "replies[0].articles[1].url": "Give the article a link (http:// or https://).",
      "replies[0].articles[2].title": "129 bytes; at most 128.",
      "replies[0].articles[2].description": "513 bytes; at most 512.",
      "replies[0].articles[2].picurl": "A picture's address starts with http:// or https://."}),
    ({**DEMO, "replies": [{"type": "news", "articles": [{"title": "a", "url": "https://e.com"}] * 9}]},
     {"replies[0].articles": "A news reply has 1 to 8 articles (9 now)."}),
    ({**DEMO, "replies": [{"type": "card", "card_id": 999}]}, {"replies[0].card_id": "There is no card 999."}),
    ({**DEMO, "replies": [{"type": "text", "text": "x"}] * 6}, {"replies": "A rule has at most 5 replies (6 now)."}),
    ({**DEMO, "triggers": [{"match": "whole", "text": f"k{i}"} for i in range(11)]},
     {"triggers": "A rule has at most 10 triggers (11 now)."}),
    ({**DEMO, "triggers": []}, {"triggers": "Add at least one keyword or pattern."}),
    ({**DEMO, "kind": "default"}, {"triggers": "The default reply and the welcome have no triggers."}),
    ({"name": " ", "triggers": "x", "replies": [{"type": "image"}], "reply_mode": "some", "enabled": 1,
      "priority": 10_001, "kind": "faq", "colour": "red"},
     {"colour": "is not a field here; expected id, name, kind, priority, enabled, reply_mode, triggers, replies",
      "name": "Give the rule a name.", "kind": "must be one of keyword, default, welcome",
      "priority": "must be a whole number from 0 to 10000", "enabled": "must be true or false",
      "reply_mode": "must be one of all, random", "triggers": "must be an array",
      "replies[0].type": "must be one of text, news, card"}),
    ({**DEMO, "name": "n" * 61, "triggers": [{"match": "exact", "text": 3, "x": 1}, "hi", {"match": "whole", "text": "\ud800"}]},
     {"name": "A name has at most 60 characters (61 now).", "triggers[0].x": "is not a field here; expected match, text",
      "triggers[0].match": "must be one of whole, contains, pattern", "triggers[0].text": "must be a string",
      "triggers[1]": "must be an object", "triggers[2].text": "holds a lone surrogate, which is not text"}),
    ([DEMO], {"": "must be an object"}),
])
def test_problems_are_answered_at_their_paths(api, body, expected):
    assert problems(api("post", "/reply-rules", json=body)) == expected


def test_a_card_reply_needs_a_card_that_can_be_sent(app, api):
    with app.app_context():
        good = cards.create_card("Lunch vote", VOTE, actor="test")
        broken = cards.create_card("Broken", {**VOTE, "submit_button": {"text": "Vote"}}, actor="test")
        db.session.commit()
        good_id, broken_id = good.id, broken.id
    assert problems(api("post", "/reply-rules", json={**DEMO, "replies": [{"type": "card", "card_id": broken_id}]})) == {
        "replies[0].card_id": "The card “Broken” has problems and cannot be sent; fix it in the designer first."}
    created = api("post", "/reply-rules", json={**DEMO, "replies": [{"type": "card", "card_id": good_id}]})
    assert created.status_code == 201 and created.json["replies"] == [{"type": "card", "card_id": good_id}]


def test_there_is_one_default_reply_and_one_welcome(api):
    default = api("post", "/reply-rules", json={"name": "else", "kind": "default",
                                                "replies": [{"type": "text", "text": "收到"}]})
    assert default.status_code == 201 and default.json["triggers"] == []
    assert problems(api("post", "/reply-rules", json={**default.json, "name": "again"})) == {
        "kind": f"There is one already (rule {default.json['id']}): change that one instead."}
    assert api("put", f"/reply-rules/{default.json['id']}", json={"name": "renamed"}).status_code == 200
    keyword = api("post", "/reply-rules", json=DEMO).json
    assert problems(api("put", f"/reply-rules/{keyword['id']}", json={"kind": "default", "triggers": []})) == {
        "kind": f"There is one already (rule {default.json['id']}): change that one instead."}
    listed = api("get", "/reply-rules?kind=default").json["items"]
    assert [rule["name"] for rule in listed] == ["renamed"]
    assert [rule["kind"] for rule in api("get", "/reply-rules").json["items"]] == ["keyword", "default"]


def test_roles_and_tokens(api, app):
    assert api("post", "/reply-rules", "manager", json=DEMO).status_code == 403
    rule_id = api("post", "/reply-rules", json=DEMO).json["id"]
    for method in ("put", "delete"):
        assert api(method, f"/reply-rules/{rule_id}", "manager", json={"name": "x"}).status_code == 403
    assert api("get", f"/reply-rules/{rule_id}", "manager").status_code == 200
    assert app.test_client().get("/api/v1/reply-rules").status_code == 401
    assert problems(api("get", "/reply-rules?kind=faq")) == {"kind": "must be one of keyword, default, welcome"}
    assert api("get", "/reply-rules/2147483648").status_code == 404
    assert api("put", f"/reply-rules/{rule_id}", data="{", content_type="application/json").status_code == 400


def test_openapi_describes_the_reply_rules(client):
    spec = client.get("/api/v1/openapi.json").json
    operations = {(method, path) for path, ops in spec["paths"].items() if "reply-rules" in path for method in ops}
    assert operations == {("get", "/reply-rules"), ("post", "/reply-rules"), ("get", "/reply-rules/{rule_id}"),
                          ("put", "/reply-rules/{rule_id}"), ("delete", "/reply-rules/{rule_id}")}
    assert spec["paths"]["/reply-rules/{rule_id}"]["put"]["parameters"][0]["name"] == "rule_id"
    assert spec["paths"]["/reply-rules"]["post"]["x-roles"] == ["staff", "admin"]
    schema = spec["components"]["schemas"]["ReplyRule"]
    assert set(schema["required"]) == FIELDS and spec["components"]["schemas"]["ReplyRuleCreate"]["required"] == [
        "name", "replies"]
