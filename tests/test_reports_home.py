"""The home dashboard: this week's figures, recent activity, and what needs attention."""
import re
from datetime import timedelta

import pytest

from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, ResponseCode, SendBatch, utcnow
from dashboard.reports import activity
from tests.test_reports import VOTE_CARD, make_campaign, make_event, make_ledger, make_version


@pytest.fixture
def week(app):
    """This week: staff's poll (3 delivered, 2 answered), its test send, and the manager's failed
    campaign (1 delivered, 0 answered)."""
    with app.app_context():
        # Half an hour into the week at least (in the dashboard's time zone), so that everything
        # seeded "minutes ago" is this week's whatever the hour the tests run.
        now = max(utcnow(), activity.week_start(utcnow(), app.config["TIMEZONE"]) + timedelta(minutes=31))
        version = make_version(VOTE_CARD)
        poll = make_campaign(version, name="Staff poll", started_at=now - timedelta(minutes=30),
                             finished_at=now - timedelta(minutes=29))
        make_ledger(poll, {"u1": "accepted", "u2": "accepted", "u3": "accepted", "u4": "invalid"},
                    sent_at=now - timedelta(minutes=30))
        make_event(poll, "u1", 0, selected={"q_lunch": ["c"]}).received_at = now - timedelta(minutes=5)
        make_event(poll, "u2", 1, selected={"q_lunch": ["a"]}).received_at = now - timedelta(minutes=4)
        test = make_campaign(version, name="Test: Staff poll", is_test=True, parent=poll, started_at=now)
        make_ledger(test, {"u9": "accepted"}, sent_at=now)
        make_event(test, "u9", 2, selected={"q_lunch": ["d"]}).received_at = now
        failed = make_campaign(version, name="Manager send", owner="manager", status="partially_sent",
                               started_at=now - timedelta(minutes=20))
        batch = make_ledger(failed, {"m1": "accepted"}, sent_at=now - timedelta(minutes=20))
        db.session.add(SendBatch(campaign=failed, number=2, task_id="t-failed", status="failed"))
        db.session.add(ResponseCode(code="rc-1", campaign_id=failed.id, batch_id=batch.id, source="send",
                                    expires_at=now + timedelta(hours=2)))
        make_event(None, "stranger", 3, key="join", task_id="gone-task").received_at = now
        make_event(None, "admin", 4, key="ping", task_id="selftest-123").received_at = now
        db.session.add(AuditLog(actor_name="staff", action="campaign_sent", object_type="campaign",
                                object_id=str(poll.id), details={"recipients": 4, "when": "now"},
                                created_at=now - timedelta(minutes=30)))
        db.session.commit()
        return {"poll": poll.id, "failed": failed.id}


def figures(body):
    return dict(re.findall(r'data-figure="(\w+)">([^<]+)<', body))


def test_manager_home_counts_every_campaign_but_no_test_send(client, login, week):
    login("manager")
    body = client.get("/").get_data(as_text=True)
    assert figures(body) == {"campaigns": "2", "sent": "4", "rate": "50.0%"}
    assert "Test: Staff poll" not in body and "u9" not in body
    assert 'data-attention="failed"' in body and "1 batch failed" in body
    assert 'data-attention="expiring"' in body and "1 response code expires" in body
    assert "1 card event in the last 7 days matched no campaign" in body and "gone-task" in body
    assert "selftest-123" not in body


def test_staff_home_shows_their_own_campaigns(client, login, week):
    login("staff")
    body = client.get("/").get_data(as_text=True)
    assert figures(body) == {"campaigns": "1", "sent": "3", "rate": "66.7%"}
    assert "Manager send" not in body and 'data-attention="failed"' not in body


def test_feed_shows_sends_and_votes_newest_first(app, week):
    with app.test_request_context():
        from dashboard.models import User
        manager = db.session.scalar(db.select(User).filter_by(username="manager"))
        items = activity.feed(manager)
        assert [(i.kind, i.who) for i in items[:2]] == [("vote", "u2"), ("vote", "u1")]
        assert items[0].text == "submitted 午餐投票: 饺子" and items[0].campaign.name == "Staff poll"
        assert ("send", "staff", "sent to 4 people") in [(i.kind, i.who, i.text) for i in items]
        db.session.get(Campaign, week["poll"]).privacy = "aggregate"
        assert [(i.who, i.text) for i in activity.feed(manager)[:1]] == [("Someone", "submitted an answer")]


def test_week_starts_on_monday_in_the_dashboard_zone():
    from datetime import datetime, timezone
    sunday_night = datetime(2026, 3, 8, 17, 0, tzinfo=timezone.utc)  # Monday 01:00 in Shanghai
    assert activity.week_start(sunday_night, "Asia/Shanghai").isoformat() == "2026-03-09T00:00:00+08:00"
    assert activity.week_start(sunday_night, "UTC").isoformat() == "2026-03-02T00:00:00+00:00"


def test_feed_says_which_button_was_clicked(app):
    from tests.test_reports import BUTTON_CARD
    with app.test_request_context():
        from dashboard.models import User
        party = make_campaign(make_version(BUTTON_CARD), name="Party", owner="manager")
        make_event(party, "u1", 0, key="join", selected={"q_meal": ["veg"]})
        make_event(party, "u2", 5, key="later", event="template_card_menu_event")
        db.session.commit()
        manager = db.session.scalar(db.select(User).filter_by(username="manager"))
        assert [(i.kind, i.text) for i in activity.feed(manager)] == [
            ("menu", "chose “稍后提醒”"), ("click", "clicked “参加” (餐食: 素)")]
