"""Who may read which report: managers every one, staff their own, admins also the audit log."""
import pytest

from dashboard.extensions import db
from dashboard.models import Campaign
from tests.test_reports import lunch_poll, make_campaign, make_directory, make_ledger

PAGES = ["", "/live", "/answers", "/waiting", "/departments", "/people/u1",
         "/ledger.csv", "/events.csv", "/tallies.csv"]


@pytest.fixture
def polls(app):
    """Two polls: one created by staff, one by the manager."""
    with app.app_context():
        mine = lunch_poll()
        theirs = make_campaign(mine.card_version, name="Manager's poll", owner="manager")
        make_ledger(theirs, {"u1": "accepted"})
        make_directory({"u1": ("赵一", [1])}, {1: ("总部", 0)})  # read: no first-need detour
        db.session.commit()
        return {"own": mine.id, "other": theirs.id}


@pytest.mark.parametrize("page", PAGES)
@pytest.mark.parametrize("role, whose, status", [
    ("manager", "own", 200), ("manager", "other", 200), ("admin", "other", 200),
    ("staff", "own", 200), ("staff", "other", 403),
])
def test_report_pages_and_exports_by_role(client, login, polls, role, whose, status, page):
    login(role)
    response = client.get(f"/reports/{polls[whose]}{page}")
    expected = 404 if page == "/people/u1" and whose == "other" and status == 200 else status
    assert response.status_code == expected


@pytest.mark.parametrize("page", ["/reports/", "/reports/audit", "/reports/1", "/reports/1/events.csv"])
def test_anonymous_visitors_go_to_the_login_page(client, polls, page):
    response = client.get(page)
    assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_report_list_shows_staff_their_own_and_never_test_sends(client, login, polls):
    login("staff")
    body = client.get("/reports/").get_data(as_text=True)
    assert "Lunch poll" in body and "Manager&#39;s poll" not in body and "Test: Lunch poll" not in body
    client.post("/logout")
    login("manager")
    body = client.get("/reports/").get_data(as_text=True)
    assert "Lunch poll" in body and "Manager&#39;s poll" in body and "Test: Lunch poll" not in body


@pytest.mark.parametrize("role, status", [("admin", 200), ("manager", 403), ("staff", 403)])
def test_only_admins_read_the_audit_log(client, login, role, status):
    login(role)
    assert client.get("/reports/audit").status_code == status


def test_a_test_send_has_no_report_and_a_reminder_reports_into_its_parent(app, client, login, polls):
    with app.app_context():
        test = db.session.scalar(db.select(Campaign).filter_by(is_test=True))
        parent = db.session.get(Campaign, polls["own"])
        reminder = make_campaign(parent.card_version, name="Reminder 1", parent=parent)
        db.session.commit()
        test_id, reminder_id = test.id, reminder.id
    login("manager")
    assert client.get(f"/reports/{test_id}").status_code == 404
    assert client.get(f"/reports/{test_id}/events.csv").status_code == 404
    response = client.get(f"/reports/{reminder_id}/answers?answered=no")
    assert response.status_code == 307
    assert response.headers["Location"].endswith(f"/reports/{polls['own']}/answers?answered=no")


@pytest.mark.parametrize("role, whose", [("manager", "own"), ("staff", "other")])
def test_who_may_not_send_a_reminder(client, login, polls, role, whose):
    login(role)
    assert client.post(f"/reports/{polls[whose]}/remind").status_code == 403
