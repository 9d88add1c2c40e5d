"""The JSON API's endpoints, against the fake WeCom over real HTTP: cards, campaigns, reports."""
import copy
from datetime import timedelta

import pytest

from dashboard.api import service as token_service
from dashboard.campaigns import delivery
from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, CardEvent, User, utcnow
from tests.campaign_factories import BUTTON_CARD, wired
from tests.fake_wecom import FakeWeCom

VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q_lunch", "mode": 1, "option_list": [
            {"id": "opt_a", "text": "A", "is_checked": False},
            {"id": "opt_b", "text": "B", "is_checked": False}]},
        "submit_button": {"text": "Vote", "key": "submit_vote"}}
NOTICE = {"card_type": "text_notice", "main_title": {"title": "Office closed Monday"},
          "card_action": {"type": 1, "url": "https://example.com"}}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


def issue_token(app, username: str) -> str:
    with app.app_context():
        user = db.session.scalar(db.select(User).filter_by(username=username))
        _, plaintext = token_service.create_token(user, "test", actor="test")
        db.session.commit()
    return plaintext


@pytest.fixture
def api(app):
    """api("post", "/cards", role="staff", json=...): a request with that role's token."""
    tokens, client = {}, app.test_client()

    def call(method, path, role="staff", **kwargs):
        if role not in tokens:
            tokens[role] = issue_token(app, role)
        headers = {"Authorization": f"Bearer {tokens[role]}", **kwargs.pop("headers", {})}
        return client.open(f"/api/v1{path}", method=method.upper(), headers=headers, **kwargs)

    return call


def new_card(api, card=BUTTON_CARD, name="RSVP", role="staff") -> int:
    response = api("post", "/cards", role, json={"name": name, "template_card": card})
    assert response.status_code == 201, response.json
    return response.json["id"]


def new_campaign(api, card_id, role="staff", **fields) -> int:
    body = {"card_id": card_id, "name": "Team dinner", "recipients": {"users": ["lisi", "wangwu"]},
            **fields}
    response = api("post", "/campaigns", role, json=body)
    assert response.status_code == 201, response.json
    return response.json["id"]


def sent_campaign(app, api, card=BUTTON_CARD, role="staff", users=("lisi", "wangwu", "nobody")) -> int:
    """Created, sent and delivered to the fake WeCom (the worker's run, in this thread)."""
    campaign_id = new_campaign(api, new_card(api, card, role=role), role,
                               recipients={"users": list(users)})
    assert api("post", f"/campaigns/{campaign_id}/send", role).status_code == 202
    with app.app_context():
        delivery.run(campaign_id)
    return campaign_id


def add_event(app, campaign_id, user, at, *, key="submit_vote", selected=None):
    """A stored callback event, as the callback service writes it (the roll-up writes out its
    EventSelection rows)."""
    with app.app_context():
        event = CardEvent(dedupe_key=f"{user}-{at}-{key}", campaign_id=campaign_id, from_user=user,
                          msg_type="event", event="template_card_event", event_key=key,
                          task_id="t", card_type="vote_interaction", selected=selected,
                          create_time=at)
        db.session.add(event)
        db.session.commit()


# --- cards -------------------------------------------------------------------------------------


def test_create_card_is_201_and_the_designers_service_wrote_it(app, api):
    response = api("post", "/cards", json={"name": " RSVP ", "template_card": {**BUTTON_CARD, "task_id": "x"}})
    assert response.status_code == 201
    assert response.json == {"id": 1, "version": 1, "name": "RSVP", "card_type": "button_interaction"}
    assert response.headers["Location"].endswith("/api/v1/cards/1")
    card = api("get", "/cards/1", "manager").json
    assert card["template_card"] == BUTTON_CARD and card["valid"] and card["errors"] == []
    with app.app_context():
        row = db.session.scalar(db.select(AuditLog).filter_by(action="card.created"))
        assert row.actor_name == "staff"


def test_invalid_card_is_422_with_paths_under_template_card(api):
    card = copy.deepcopy(BUTTON_CARD)
    card["button_list"].append({"text": "A much too long text", "key": "maybe"})
    response = api("post", "/cards", json={"name": "RSVP", "template_card": card})
    assert response.status_code == 422
    assert {"path": "template_card.button_list[2].text", "code": 42038} == {
        k: response.json["errors"][0][k] for k in ("path", "code")}
    assert "10" in response.json["errors"][0]["message"] and response.json["message"]
    assert api("get", "/cards").json["total"] == 0


def test_text_holding_nul_is_422_at_its_path(api):
    card = {**BUTTON_CARD, "main_title": {"title": "报名\x00确认"}}
    response = api("post", "/cards", json={"name": "RS\x00VP", "template_card": card, "no\x00": 1})
    assert response.status_code == 422
    assert sorted(e["path"] for e in response.json["errors"]) == [
        "name", "no\x00", "template_card.main_title.title"]
    assert api("get", "/cards").json["total"] == 0


def test_lone_surrogates_are_422_at_their_path_not_a_500(api):
    """Found by fuzzing: "\\ud800" is valid JSON, but the database cannot store it."""
    card = {**BUTTON_CARD, "main_title": {"title": "\ud800"}}
    for method, path in (("post", "/cards"), ("put", f"/cards/{new_card(api)}")):
        for body, where in (({"name": "\ud83d", "template_card": BUTTON_CARD}, "name"),
                            ({"name": "RSVP", "template_card": card}, "template_card.main_title.title")):
            response = api(method, path, json=body)
            assert response.status_code == 422 and [e["path"] for e in response.json["errors"]] == [where]
    assert api("get", "/cards").json["total"] == 1


def test_validate_card_answers_valid_or_the_problems(api):
    assert api("post", "/cards/validate", "manager", json={"template_card": BUTTON_CARD}).json == {
        "valid": True, "errors": [], "warnings": []}
    answer = api("post", "/cards/validate", json={"template_card": {"card_type": "nope"}}).json
    assert answer["valid"] is False and answer["errors"][0]["path"] == "template_card.card_type"
    assert api("post", "/cards/validate", json={"template_card": []}).status_code == 422


def test_list_and_read_cards(api):
    first, second = new_card(api, name="RSVP"), new_card(api, NOTICE, name="Notice")
    page = api("get", "/cards?per_page=1", "manager").json
    assert (page["total"], page["page"], len(page["items"])) == (2, 1, 1)
    assert [c["id"] for c in api("get", "/cards?card_type=text_notice").json["items"]] == [second]
    assert [c["id"] for c in api("get", "/cards?q=rsv").json["items"]] == [first]
    assert api("get", "/cards?card_type=bogus").json["errors"][0]["path"] == "card_type"
    assert api("get", "/cards?per_page=1000").json["errors"][0]["path"] == "per_page"
    assert api("get", "/cards/999").status_code == 404


def test_put_saves_a_version_and_never_changes_a_sent_one(app, api):
    card_id = new_card(api)
    changed = {**BUTTON_CARD, "main_title": {"title": "报名确认 (updated)"}}
    assert api("put", f"/cards/{card_id}", json={"template_card": BUTTON_CARD}).json["version"] == 1
    new_campaign(api, card_id)  # pins version 1
    response = api("put", f"/cards/{card_id}", json={"name": "RSVP v2", "template_card": changed})
    assert response.status_code == 200 and response.json["version"] == 2
    assert response.json["name"] == "RSVP v2"
    with app.app_context():
        assert db.session.get(Campaign, 1).card_version.template_card == BUTTON_CARD
    bad = api("put", f"/cards/{card_id}", json={"template_card": {"card_type": "text_notice"}})
    assert bad.status_code == 422 and bad.json["errors"][0]["path"].startswith("template_card")
    assert api("put", "/cards/42", json={"template_card": BUTTON_CARD}).status_code == 404


# --- request validation ------------------------------------------------------------------------


@pytest.mark.parametrize("change, path", [
    ({"name": "   "}, "name"),
    ({"name": None}, "name"),
    ({"card_id": "1"}, "card_id"),
    ({"card_id": 999}, "card_id"),
    ({"surprise": 1}, "surprise"),
    ({"recipients": {}}, "recipients"),
    ({"recipients": {"users": ["lisi", "wangwu", "ok", "has space"]}}, "recipients.users[3]"),
    ({"recipients": {"departments": ["two"]}}, "recipients.departments[0]"),
    ({"recipients": {"all": "yes"}}, "recipients.all"),
    ({"send_at": "2030-01-01T10:00:00"}, "send_at"),
    ({"send_at": "2020-01-01T10:00:00+08:00"}, "send_at"),
    ({"send_at": "tomorrow"}, "send_at"),
    ({"options": {"duplicate_check_interval": 0}}, "options.duplicate_check_interval"),
    ({"options": {"enable_duplicate_check": 1}}, "options.enable_duplicate_check"),
    ({"name": "a\ud800"}, "name"),  # found by fuzzing: a 500 where SQLite refused to store it
    ({"recipients": {"users": ["\udfff"]}}, "recipients.users[0]"),
])
def test_campaign_request_problems_are_422_at_their_path(api, change, path):
    body = {"card_id": new_card(api), "name": "Dinner", "recipients": {"users": ["lisi"]}, **change}
    response = api("post", "/campaigns", json=body)
    assert response.status_code == 422
    assert path in [e["path"] for e in response.json["errors"]], response.json


def test_a_card_with_problems_cannot_start_a_campaign(app, api):
    card_id = new_card(api)
    with app.app_context():
        from dashboard.models import Card
        db.session.get(Card, card_id).latest.template_card = {"card_type": "button_interaction"}
        db.session.commit()
    response = api("post", "/campaigns", json={"card_id": card_id, "name": "x",
                                               "recipients": {"users": ["lisi"]}})
    assert response.status_code == 422 and response.json["errors"][0]["path"] == "card_id"


# --- campaigns ---------------------------------------------------------------------------------


def test_create_send_and_follow_a_campaign(app, api, fake):
    campaign_id = new_campaign(api, new_card(api), recipients={"users": ["lisi", "wangwu", "nobody"]},
                               options={"enable_duplicate_check": False, "duplicate_check_interval": 60})
    assert api("get", f"/campaigns/{campaign_id}").json["status"] == "draft"
    response = api("post", f"/campaigns/{campaign_id}/send")
    assert response.status_code == 202 and response.json == {"id": campaign_id, "status": "sending"}
    with app.app_context():
        delivery.run(campaign_id)
    shown = api("get", f"/campaigns/{campaign_id}", "manager").json
    assert shown["status"] == "sent" and shown["name"] == "Team dinner"
    assert shown["progress"] == {"batches_total": 1, "batches_done": 1, "accepted": 2, "invalid": 1,
                                 "unlicensed": 0, "failed": 0}
    [batch] = shown["batches"]
    assert batch["msgid"].startswith("fake-msg-") and batch["errcode"] == 0 and batch["status"] == "done"
    assert fake.calls("/message/send")[0].body["enable_duplicate_check"] == 0


def test_sending_a_cancelled_campaign_is_409(api):
    later = (utcnow() + timedelta(days=1)).isoformat()
    campaign_id = new_campaign(api, new_card(api), send_at=later)
    assert api("post", f"/campaigns/{campaign_id}/send").json["status"] == "scheduled"
    cancelled = api("post", f"/campaigns/{campaign_id}/cancel")
    assert cancelled.status_code == 200 and cancelled.json["status"] == "cancelled"
    again = api("post", f"/campaigns/{campaign_id}/send")
    assert again.status_code == 409 and "cancelled" in again.json["message"]
    assert api("post", f"/campaigns/{campaign_id}/cancel").status_code == 409


def test_recall_a_sent_campaign(app, api, fake):
    campaign_id = sent_campaign(app, api)
    response = api("post", f"/campaigns/{campaign_id}/recall")
    assert response.status_code == 200 and (response.json["recalled"], response.json["failed"]) == (1, 0)
    assert all(message["recalled"] for message in fake.messages.values())
    assert api("post", f"/campaigns/{campaign_id}/recall").status_code == 409


def test_close_poll_is_queued_for_a_vote_and_409_for_a_notice(app, api):
    poll = sent_campaign(app, api, VOTE)
    response = api("post", f"/campaigns/{poll}/close-poll")
    assert response.status_code == 202 and response.json["id"] == poll
    notice = sent_campaign(app, api, NOTICE)
    refused = api("post", f"/campaigns/{notice}/close-poll")
    assert refused.status_code == 409 and "Only button, vote" in refused.json["message"]


def test_unknown_and_impossible_ids_are_404(api):
    for path in ("/campaigns/5", "/campaigns/5/report", "/cards/99999999999999999999999"):
        response = api("get", path)
        assert response.status_code == 404 and response.json["message"], path
    assert api("post", "/campaigns/5/send").status_code == 404


# --- report and events -------------------------------------------------------------------------


def test_report_counts_each_persons_latest_answer(app, api):
    campaign_id = sent_campaign(app, api, VOTE)
    add_event(app, campaign_id, "lisi", 100, selected={"q_lunch": ["opt_a"]})
    add_event(app, campaign_id, "lisi", 200, selected={"q_lunch": ["opt_b"]})
    add_event(app, campaign_id, "wangwu", 150, selected={"q_lunch": ["opt_a", "opt_b"]})
    report = api("get", f"/campaigns/{campaign_id}/report", "manager").json
    assert report == {"recipients": 3, "accepted": 2, "invalid": ["nobody"], "unlicensed": [],
                      "responders": 2, "response_rate": 1.0, "clicks": {"submit_vote": 3},
                      "votes": {"q_lunch": {"opt_a": 1, "opt_b": 2}}, "menu": {}}


def test_events_pages_and_hides_people_of_aggregate_campaigns(app, api):
    campaign_id = sent_campaign(app, api, VOTE)
    for at in (100, 200, 300):
        add_event(app, campaign_id, f"user{at}", at, selected={"q_lunch": ["opt_a"]})
    page = api("get", f"/campaigns/{campaign_id}/events?page=2&per_page=2", "manager").json
    assert (page["total"], page["page"], len(page["items"])) == (3, 2, 1)
    assert page["items"][0] == {"user": "user300", "event": "template_card_event",
                                "event_key": "submit_vote", "task_id": "t",
                                "card_type": "vote_interaction", "selected": {"q_lunch": ["opt_a"]},
                                "created_at": "1970-01-01T00:05:00+00:00"}
    with app.app_context():
        db.session.get(Campaign, campaign_id).privacy = "aggregate"
        db.session.commit()
    items = api("get", f"/campaigns/{campaign_id}/events").json["items"]
    assert [item["user"] for item in items] == [None] * 3 and items[0]["selected"]
    assert api("get", f"/campaigns/{campaign_id}/events?page=0").status_code == 422


def test_staff_read_reports_of_their_own_campaigns_only(app, api):
    theirs = sent_campaign(app, api, role="admin")
    for path in (f"/campaigns/{theirs}/report", f"/campaigns/{theirs}/events"):
        assert api("get", path, "staff").status_code == 403
        assert api("get", path, "manager").status_code == 200
    mine = sent_campaign(app, api, role="staff")
    assert api("get", f"/campaigns/{mine}/report", "staff").status_code == 200


def test_test_sends_have_no_report(app, api):
    campaign_id = new_campaign(api, new_card(api))
    with app.app_context():
        db.session.get(Campaign, campaign_id).is_test = True
        db.session.commit()
    assert api("get", f"/campaigns/{campaign_id}/report").status_code == 404


# --- warnings: WeCom truncates or falls back there; the card stays usable (issue 22) ---------


def _warned_card():
    card = copy.deepcopy(BUTTON_CARD)
    card["main_title"] = {**card.get("main_title", {}), "desc": "细" * 45}
    card["button_list"][0]["style"] = 7
    return card


def test_validate_answers_warnings_beside_errors(api):
    answer = api("post", "/cards/validate", json={"template_card": _warned_card()}).json
    assert answer["valid"] is True and answer["errors"] == []
    assert [w["path"] for w in answer["warnings"]] == [
        "template_card.main_title.desc", "template_card.button_list[0].style"]
    assert all(set(w) == {"path", "message"} for w in answer["warnings"])
    broken = {**_warned_card(), "button_list": []}
    answer = api("post", "/cards/validate", json={"template_card": broken}).json
    assert answer["valid"] is False and [e["path"] for e in answer["errors"]] == [
        "template_card.button_list"]
    assert [w["path"] for w in answer["warnings"]] == ["template_card.main_title.desc"]


def test_a_warned_card_is_created_and_read_as_valid_with_its_warnings(app, api):
    card_id = new_card(api, _warned_card(), name="Warned")
    detail = api("get", f"/cards/{card_id}").json
    assert detail["valid"] is True and detail["errors"] == []
    assert [w["path"] for w in detail["warnings"]] == [
        "template_card.main_title.desc", "template_card.button_list[0].style"]
    assert "falls back" not in detail["warnings"][1]["message"]  # says what WeCom shows instead
    assert "shows 1 instead" in detail["warnings"][1]["message"]
    assert api("get", f"/cards/{new_card(api, VOTE, name='Vote')}").json["warnings"] == []
