"""Every route that takes an object's id checks the object against the user, not only the role.

The test walks the URL map: each HTML route with an id (sandbox, JSON API, callback and static
left out) is requested with the ids of objects the user "staff" owns, as another staff member
("staff2") and as a manager. What each of them should meet is written down in EXPECTED, so a new
route with an id fails here until someone decides its rule and adds it.
"""
import pytest
from flask import url_for

from dashboard.api import service as api_service
from dashboard.auth import service as auth_service
from dashboard.extensions import db
from dashboard.models import Approval, Audience, ConversationMessage, ReplyRule, RoleGrant, User
from tests.conftest import PASSWORD
from tests.test_reports import lunch_poll

SKIPPED_BLUEPRINTS = {"sandbox", "api", "callback", "static", "bootstrap"}
REFUSED, ALLOWED = "refused", "allowed"  # refused: 403 or 404; allowed: anything else below 500
# Campaigns: managers read every one, staff their own; only the owner (and admins) change one.
CAMPAIGN_WRITE = {"POST": (REFUSED, REFUSED)}
CAMPAIGN_READ = {"GET": (REFUSED, ALLOWED)}
STAFF_PAGE = {"GET": (REFUSED, REFUSED)}  # a staff-only page of someone else's campaign
# Cards and saved audiences are one library shared by all staff; managers have no access to it.
SHARED_GET = {"GET": (ALLOWED, REFUSED)}
SHARED_POST = {"POST": (ALLOWED, REFUSED)}

# endpoint -> (kind of object, {method: (other staff member, manager)})
EXPECTED = {
    "campaigns.edit": ("campaign", {**STAFF_PAGE, **CAMPAIGN_WRITE}),
    "campaigns.recipients": ("campaign", {**STAFF_PAGE, **CAMPAIGN_WRITE}),
    "campaigns.check": ("campaign", STAFF_PAGE),
    "campaigns.test_send": ("campaign", CAMPAIGN_WRITE),
    "campaigns.leave_out": ("campaign", CAMPAIGN_WRITE),
    "campaigns.send": ("campaign", CAMPAIGN_WRITE),
    "campaigns.act": ("campaign", CAMPAIGN_WRITE),
    "campaigns.show": ("campaign", CAMPAIGN_READ),
    "campaigns.progress": ("campaign", CAMPAIGN_READ),
    "reports.show": ("campaign", CAMPAIGN_READ),
    "reports.live": ("campaign", CAMPAIGN_READ),
    "reports.answers": ("campaign", CAMPAIGN_READ),
    "reports.person": ("campaign", CAMPAIGN_READ),
    "reports.waiting": ("campaign", CAMPAIGN_READ),
    "reports.departments": ("campaign", CAMPAIGN_READ),
    "reports.export": ("campaign", CAMPAIGN_READ),
    "reports.remind": ("campaign", CAMPAIGN_WRITE),
    "settings.poll": ("campaign", STAFF_PAGE),
    "settings.close_poll": ("campaign", CAMPAIGN_WRITE),
    "cards.edit": ("card", {**SHARED_GET, **SHARED_POST}),
    "cards.history": ("card", SHARED_GET),
    "cards.download": ("card", SHARED_GET),
    "cards.autosave": ("card", SHARED_POST),
    "cards.discard_draft": ("card", SHARED_POST),
    "cards.clone": ("card", SHARED_POST),
    "cards.archive": ("card", SHARED_POST),
    "cards.delete": ("card", SHARED_POST),
    "settings.after_click_page": ("card", {**SHARED_GET, **SHARED_POST}),
    "campaigns.audience_delete": ("audience", SHARED_POST),
    "account.revoke": ("token", {"POST": (REFUSED, REFUSED)}),  # one's own tokens only
    "account.revoke_any": ("token", {"POST": (REFUSED, REFUSED)}),  # admins
    "auth.user_edit": ("user", {"GET": (REFUSED, REFUSED), "POST": (REFUSED, REFUSED)}),  # admins
    "auth.user_end_sessions": ("user", {"POST": (REFUSED, REFUSED)}),  # admins
    "auth.grant_remove": ("grant", {"POST": (REFUSED, REFUSED)}),  # admins
    # The inbox is one for all staff and managers: staff answer, managers read.
    "conversations.thread": ("conversation", {"GET": (ALLOWED, ALLOWED)}),
    "conversations.reply": ("conversation", {"POST": (ALLOWED, REFUSED)}),
    # Reply rules are one set for all staff; managers read their list, not the editor.
    "conversations.rule": ("reply rule", {**SHARED_GET, **SHARED_POST}),
    "conversations.delete_rule": ("reply rule", SHARED_POST),
    "conversations.switch_rule": ("reply rule", SHARED_POST),
    # An approval is read by its campaign's author and the approvers (admins, may_approve) only.
    "approvals.show": ("approval", {"GET": (REFUSED, REFUSED)}),
    "approvals.decide": ("approval", {"POST": (REFUSED, REFUSED)}),
    "approvals.reason": ("approval", {"GET": (REFUSED, REFUSED), "POST": (REFUSED, REFUSED)}),
}


def walked(app) -> dict[str, set[str]]:
    """{endpoint: methods} of the routes that take an id, outside the skipped blueprints."""
    out: dict[str, set[str]] = {}
    for rule in app.url_map.iter_rules():
        if rule.endpoint.split(".")[0] in SKIPPED_BLUEPRINTS:
            continue
        if any(type(rule._converters[name]).__name__ == "IntegerConverter" or name.endswith("id")
               for name in rule.arguments):
            out.setdefault(rule.endpoint, set()).update(rule.methods & {"GET", "POST"})
    return out


@pytest.fixture
def owned(app):
    """staff owns a sent poll (with a test send), its card, a saved audience and an API token;
    staff2 is another staff member."""
    with app.app_context():
        auth_service.create_user("staff2", "staff", PASSWORD, actor="test")
        staff = db.session.scalar(db.select(User).filter_by(username="staff"))
        poll = lunch_poll()
        audience = Audience(name="Canteen", recipients={"users": ["u1"]}, created_by=staff)
        token, _ = api_service.create_token(staff, "script")
        message = ConversationMessage(userid="u1", direction="in", msg_type="text", text="hi", dedupe_key="k1")
        rule = ReplyRule(name="Hi", triggers=[{"match": "whole", "text": "hi"}],
                         replies=[{"type": "text", "text": "hello"}], created_by=staff)
        grant = RoleGrant(kind="department", wecom_id=2, role="staff")
        approval = Approval(campaign=poll, requested_by=staff, recipients=3)
        db.session.add_all([audience, message, rule, grant, approval])
        db.session.commit()
        return {"message_id": message.id, "rule_id": rule.id, "campaign_id": poll.id, "card_id": poll.card_version.card_id,
                "number": poll.card_version.number, "audience_id": audience.id,
                "token_id": token.id, "user_id": staff.id, "grant_id": grant.id,
                "approval_id": approval.id,
                "action": "pause", "kind": "ledger", "userid": "u1"}


def test_every_route_with_an_id_has_an_expected_outcome(app):
    routes = walked(app)
    assert set(routes) == set(EXPECTED)
    for endpoint, methods in routes.items():
        assert set(EXPECTED[endpoint][1]) == methods, endpoint


def test_the_table_refuses_campaigns_as_the_report_pages_do(client, login, owned):
    login("staff2")
    assert client.get(f"/reports/{owned['campaign_id']}").status_code == 403
    for endpoint, (kind, methods) in EXPECTED.items():
        if kind == "campaign":
            assert all(other == REFUSED for other, _ in methods.values()), endpoint
            assert methods.get("POST", (REFUSED, REFUSED))[1] == REFUSED, endpoint


@pytest.mark.parametrize("endpoint", sorted(EXPECTED))
def test_another_staff_member_and_a_manager_meet_the_expected_answer(app, client, login, owned,
                                                                     endpoint):
    rule = next(r for r in app.url_map.iter_rules() if r.endpoint == endpoint)
    with app.test_request_context():
        url = url_for(endpoint, **{name: owned[name] for name in rule.arguments})
    for who, column in (("staff2", 0), ("manager", 1)):
        login(who)
        for method, expected in EXPECTED[endpoint][1].items():
            status = client.open(url, method=method).status_code
            assert status < 500, (who, method, url, status)
            got = REFUSED if status in (403, 404) else ALLOWED
            assert got == expected[column], (who, method, url, status)
        client.post("/logout")


@pytest.mark.parametrize("path, method", [("/settings/campaigns/{id}/close-poll", "GET"),
                                          ("/settings/campaigns/{id}/close-poll", "POST"),
                                          ("/campaigns/{id}", "GET"),
                                          ("/campaigns/{id}/cancel", "POST")])
def test_the_owner_and_an_admin_still_get_through(client, login, owned, path, method):
    url = path.format(id=owned["campaign_id"])
    for who in ("staff", "admin"):
        login(who)
        assert client.open(url, method=method).status_code not in (403, 404), (who, url)
        client.post("/logout")
