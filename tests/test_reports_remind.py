"""The one-click reminder: a follow-up campaign to exactly those who have not answered yet."""
import re

import pytest

from dashboard.campaigns import families
from dashboard.campaigns.service import CampaignError
from dashboard.extensions import db
from dashboard.models import AuditLog, Campaign, Delivery, SendBatch, User
from dashboard.reports import service
from tests.conftest import PASSWORD, make_app
from tests.test_reports import lunch_poll, make_event


@pytest.fixture
def poll(app):
    with app.app_context():
        return lunch_poll().id


def staff():
    return db.session.scalar(db.select(User).filter_by(username="staff"))


def test_reminder_goes_to_non_responders_through_the_campaigns_service(app, poll):
    with app.test_request_context():
        parent = db.session.get(Campaign, poll)
        reminder = service.remind_non_responders(parent, staff())
        db.session.commit()
        assert (reminder.parent_id, reminder.is_test, reminder.status) == (poll, False, "sending")
        assert reminder.name == "Reminder 1: Lunch poll" and reminder.card_version_id == parent.card_version_id
        assert reminder.recipients["users"] == ["u5", "u6"] and reminder.options["remind_of"] == poll
        ledger = db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=reminder.id)).all()
        assert sorted(ledger) == ["u5", "u6"]
        (batch,) = db.session.scalars(db.select(SendBatch).filter_by(campaign_id=reminder.id)).all()
        assert batch.request["touser"] == "u5|u6"
        assert batch.request["template_card"]["checkbox"] == parent.card_version.template_card["checkbox"]
        actions = db.session.scalars(db.select(AuditLog.action).filter_by(object_id=str(poll))).all()
        assert "campaign_reminded" in actions


def test_whoever_answers_before_the_click_is_left_out(app, client, login, poll):
    login("staff")
    page = client.get(f"/reports/{poll}/waiting").get_data(as_text=True)
    assert "u5" in page and "u6" in page
    with app.app_context():  # u5 answers while the page is open
        make_event(db.session.get(Campaign, poll), "u5", 5000, selected={"q_lunch": ["b"]})
        db.session.commit()
    response = client.post(f"/reports/{poll}/remind", follow_redirects=True)
    assert "Reminder sending to 1 people" in response.get_data(as_text=True)
    with app.app_context():
        reminder = db.session.scalar(db.select(Campaign).filter_by(parent_id=poll, is_test=False))
        assert reminder.recipients["users"] == ["u6"]


def test_a_reminder_of_a_reminder_reminds_for_the_original(app, poll):
    with app.test_request_context():
        first = service.remind_non_responders(db.session.get(Campaign, poll), staff())
        db.session.commit()
        make_event(first, "u6", 9000, selected={"q_lunch": ["a"]})  # answers the reminder card
        db.session.commit()
        second = service.remind_non_responders(first, staff())
        assert second.parent_id == poll and second.name.startswith("Reminder 2:")
        assert second.recipients["users"] == ["u5"]


@pytest.mark.parametrize("change, message", [
    ({"status": "sending"}, "once the campaign has been sent"),
    ({"is_test": True}, "Test sends have no reminders"),
])
def test_reminders_are_refused_when_they_make_no_sense(app, poll, change, message):
    with app.test_request_context():
        campaign = db.session.get(Campaign, poll)
        for key, value in change.items():
            setattr(campaign, key, value)
        with pytest.raises(CampaignError, match=message):
            service.remind_non_responders(campaign, staff())


def test_nobody_left_to_remind_is_said_on_the_page(app, client, login, poll):
    with app.app_context():
        campaign = db.session.get(Campaign, poll)
        for userid in ("u5", "u6"):
            make_event(campaign, userid, 7000, selected={"q_lunch": ["a"]})
        db.session.commit()
    login("staff")
    body = client.post(f"/reports/{poll}/remind", follow_redirects=True).get_data(as_text=True)
    assert "nobody to remind" in body
    with app.app_context():
        assert db.session.scalar(db.select(Campaign).filter_by(parent_id=poll, is_test=False)) is None


def test_the_reminder_button_needs_its_csrf_token(tmp_path):
    app = make_app(tmp_path, WTF_CSRF_ENABLED=True)
    with app.app_context():
        from dashboard.auth import service as auth_service
        auth_service.create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
        poll = lunch_poll().id
    client = app.test_client()

    def token(path):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                         client.get(path).get_data(as_text=True)).group(1)

    client.post("/login", data={"username": "staff", "password": PASSWORD, "csrf_token": token("/login")})
    assert client.post(f"/reports/{poll}/remind").status_code == 400
    assert client.post(f"/reports/{poll}/remind", data={"csrf_token": token(f"/reports/{poll}")}).status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Campaign).filter_by(parent_id=poll, is_test=False)) is not None
        db.engine.dispose()


def test_the_sender_can_ask_who_answered_since_the_reminder_was_planned(app, poll):
    with app.test_request_context():
        reminder = service.remind_non_responders(db.session.get(Campaign, poll), staff())
        db.session.commit()
        assert families.answered_among(reminder, ["u5", "u6"]) == set()
        make_event(db.session.get(Campaign, poll), "u6", 8000, selected={"q_lunch": ["b"]})
        db.session.commit()
        assert families.answered_among(reminder, ["u5", "u6", "u1"]) == {"u6", "u1"}


def test_whoever_answers_after_the_click_is_left_out_when_the_batch_goes_out(app, poll):
    from dashboard.campaigns import delivery
    from dashboard.wecom.client import SendResult

    with app.test_request_context():
        parent = db.session.get(Campaign, poll)
        reminder = service.remind_non_responders(parent, staff())
        db.session.commit()
        make_event(parent, "u5", 9000, selected={"q_lunch": ["b"]})  # answers before the send
        db.session.commit()
        (batch,) = reminder.batches
        assert delivery.prepare(reminder, batch) is True
        assert batch.request["touser"] == "u6"
        states = dict(db.session.execute(db.select(Delivery.userid, Delivery.state)
                                         .filter_by(campaign_id=reminder.id)).all())
        assert states == {"u5": "cancelled", "u6": "pending"}
        delivery.outcome(reminder, batch, SendResult.from_response({"errcode": 0, "errmsg": "ok", "msgid": "m1"}))
        states = dict(db.session.execute(db.select(Delivery.userid, Delivery.state)
                                         .filter_by(campaign_id=reminder.id)).all())
        assert states == {"u5": "cancelled", "u6": "accepted"}  # who was left out stays left out


def test_a_reminder_batch_whose_people_all_answered_is_not_sent(app, poll):
    from dashboard.campaigns import delivery

    with app.test_request_context():
        parent = db.session.get(Campaign, poll)
        reminder = service.remind_non_responders(parent, staff())
        db.session.commit()
        for user in ("u5", "u6"):
            make_event(parent, user, 9000, selected={"q_lunch": ["a"]})
        db.session.commit()
        (batch,) = reminder.batches
        assert delivery.prepare(reminder, batch) is False
        assert batch.status == "cancelled" and batch.attempts == 0
        assert delivery.settle(reminder) is None and reminder.status == "sent"


def test_a_reminder_that_needs_approval_says_it_waits(app, client, login, poll):
    with app.app_context():
        app.config["APPROVAL_ABOVE"] = 1  # two non-responders: more than one
        db.session.scalar(db.select(User).filter_by(username="admin")).wecom_userid = "boss"
        db.session.commit()
    login("staff")
    body = client.post(f"/reports/{poll}/remind", follow_redirects=True).get_data(as_text=True)
    assert "sent for approval" in body and "Reminder sending" not in body
    with app.app_context():
        reminder = db.session.scalar(db.select(Campaign).filter_by(parent_id=poll, is_test=False))
        assert reminder.status == "awaiting_approval"
