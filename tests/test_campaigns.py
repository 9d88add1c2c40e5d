"""Campaign pages, forms and actions: create, recipients, check before send, send, roles, CSRF."""
import io
import re
from datetime import datetime, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from dashboard.campaigns import delivery, plan, queries, service
from dashboard.config import ConfigError
from dashboard.extensions import db
from dashboard.models import (Audience, AuditLog, Campaign, Delivery, DirectoryUser, SendBatch,
                              utcnow)
from dashboard.tasks import make_huey
from dashboard.wecom.client import build_send_body
from tests.campaign_factories import (BUTTON_CARD, card_version, make_campaign, userids,
                                      wired, wired_app)
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


@pytest.fixture
def draft(app):
    with app.app_context():
        return make_campaign({"users": ["lisi", "wangwu"]}).id


def audit_actions(app, campaign_id):
    with app.app_context():
        rows = db.session.scalars(db.select(AuditLog).filter_by(
            object_type="campaign", object_id=str(campaign_id)).order_by(AuditLog.id))
        return [(row.action, row.actor_name) for row in rows]


def test_create_then_edit_a_campaign_scheduled_in_its_time_zone(app, client, login):
    with app.app_context():
        version_id = card_version().id
    login("staff")
    local = datetime.now(ZoneInfo("Asia/Tokyo")).replace(second=0, microsecond=0) + timedelta(days=1)
    form = {"name": "Quarterly RSVP", "notes": "HR", "card_version": version_id, "when": "later",
            "send_at": local.strftime("%Y-%m-%dT%H:%M"), "timezone": "Asia/Tokyo",
            "enable_duplicate_check": "y", "duplicate_check_interval": 1800}
    response = client.post("/campaigns/new", data=form)
    assert response.status_code == 302 and response.headers["Location"].endswith("/recipients")
    with app.app_context():
        campaign = db.session.scalar(db.select(Campaign))
        assert campaign.send_at == local.astimezone(timezone.utc) and campaign.timezone == "Asia/Tokyo"
        assert campaign.options == {"enable_duplicate_check": True, "duplicate_check_interval": 1800,
                                    "enable_id_trans": False}
        assert campaign.status == "draft" and campaign.created_by.username == "staff"
    client.post(f"/campaigns/{campaign.id}/edit", data={**form, "name": "Renamed", "when": "now"})
    with app.app_context():
        assert db.session.get(Campaign, campaign.id).send_at is None
    assert audit_actions(app, campaign.id) == [("campaign_created", "staff"), ("campaign_edited", "staff")]


@pytest.mark.parametrize("change, message", [
    ({"send_at": "2020-01-01T10:00"}, "That time has passed"),
    ({"send_at": ""}, "Choose the date and time"),
    ({"timezone": "Mars/Olympus"}, "Not a valid choice"),
    ({"duplicate_check_interval": 20000}, "Between 1 and 14400"),
    ({"name": ""}, "This field is required"),
])
def test_campaign_form_rules(app, client, login, change, message):
    with app.app_context():
        version_id = card_version().id
    login("staff")
    form = {"name": "x", "card_version": version_id, "when": "later", "timezone": "Asia/Shanghai",
            "send_at": "2099-01-01T10:05", "duplicate_check_interval": 1800, **change}
    page = client.post("/campaigns/new", data=form).get_data(as_text=True)
    assert message in page


def test_directory_refresh_fills_the_picker(app, fake, client, login, draft):
    login("staff")
    response = client.post(f"/campaigns/directory/refresh?campaign_id={draft}")
    assert response.headers["Location"].endswith(f"/campaigns/{draft}/recipients")
    labels = [i["label"] for i in client.get("/directory/search?q=").json["items"]]
    assert "研发部" in labels and "managers" in labels
    assert client.get("/directory/search?q=lisi").json["items"][0]["label"] == "李四"
    with app.app_context():
        assert db.session.scalar(db.select(db.func.count()).select_from(DirectoryUser)) == 4
        assert db.session.scalar(db.select(AuditLog).filter_by(action="directory_refreshed"))


def test_recipients_from_picker_paste_and_csv_with_exclusions(app, client, login, draft):
    login("staff")
    client.post("/campaigns/directory/refresh")
    upload = (io.BytesIO("userid\nzhaoliu\nnew.hire\n".encode()), "people.csv")
    response = client.post(f"/campaigns/{draft}/recipients", data={
        "chosen": ["department:2"], "pasted": "zhangsan, ghost", "upload": upload,
        "excluded": ["user:wangwu"], "save_as": "Dinner club"}, content_type="multipart/form-data")
    assert response.status_code == 302 and response.headers["Location"].endswith("/check")
    with app.app_context():
        campaign = db.session.get(Campaign, draft)
        assert campaign.recipients["departments"] == [2]
        assert campaign.recipients["users"] == ["zhangsan", "ghost", "zhaoliu", "new.hire"]
        check = queries.check(campaign)
        assert sorted(check.userids) == ["ghost", "lisi", "new.hire", "zhangsan", "zhaoliu"]
        assert any("not in the directory: ghost, new.hire" in n.text for n in check.notices)
        audience = db.session.scalar(db.select(Audience).filter_by(name="Dinner club"))
        assert audience.recipients == campaign.recipients


def test_bad_ids_and_csv_rows_are_flagged_and_nothing_is_saved(app, client, login, draft):
    login("staff")
    upload = (io.BytesIO(b"userid\nnot ok\n"), "people.csv")
    page = client.post(f"/campaigns/{draft}/recipients", data={
        "pasted": "bad id!", "upload": upload}, content_type="multipart/form-data"
    ).get_data(as_text=True)
    assert "Line 1: “bad id!”" in page and "Line 2: “not ok”" in page
    with app.app_context():
        assert db.session.get(Campaign, draft).recipients["users"] == ["lisi", "wangwu"]


def test_everyone_needs_an_explicit_confirmation(app, client, login, draft):
    login("staff")
    page = client.post(f"/campaigns/{draft}/recipients", data={"everyone": "y"}).get_data(as_text=True)
    assert "Confirm that everyone should get this campaign." in page
    client.post("/campaigns/directory/refresh")
    client.post(f"/campaigns/{draft}/recipients", data={"everyone": "y", "confirm_everyone": "y"})
    with app.app_context():
        check = queries.check(db.session.get(Campaign, draft))
    assert check.everyone and check.calls == 1 and len(check.userids) == 4
    assert check.body["touser"] == "@all"
    assert any("@all" in n.text and n.level == "warning" for n in check.notices)


def test_saved_audience_is_reused_in_another_campaign(app, client, login, draft):
    with app.app_context():
        audience = service.save_audience("Leads", {"users": ["zhaoliu"], "tags": [1]}, actor="test")
        db.session.commit()
        audience_id, other = audience.id, make_campaign({"users": []}).id
    login("staff")
    client.post(f"/campaigns/{other}/recipients", data={"audience": str(audience_id), "pasted": "lisi"})
    with app.app_context():
        spec = db.session.get(Campaign, other).recipients
    assert spec["users"] == ["lisi", "zhaoliu"] and spec["tags"] == [1]
    assert "Leads" in client.get("/campaigns/audiences").get_data(as_text=True)


def test_check_page_counts_calls_and_warns(app, client, login):
    with app.app_context():
        campaign_id = make_campaign({"users": userids(2500)},
                                    send_at=utcnow().replace(minute=30, second=0) + timedelta(days=1)).id
        app.config["WECOM_SEATS"] = 10  # 2,000 person-messages a day
    login("staff")
    page = client.get(f"/campaigns/{campaign_id}/check").get_data(as_text=True)
    assert re.search(r'id="check-recipients">2,500<', page) and re.search(r'id="check-calls">3<', page)
    assert "congested" in page and "over WeCom&#39;s daily limit" in page
    assert "&#34;task_id&#34;: &#34;c1-" in page  # the exact first body, task_id included
    assert "Schedule for" in page and "disabled" not in page.split("Schedule for")[0][-200:]


def test_nothing_to_send_disables_the_button(app, client, login):
    with app.app_context():
        campaign_id = make_campaign({}).id
    login("staff")
    page = client.get(f"/campaigns/{campaign_id}/check").get_data(as_text=True)
    assert "Nobody would receive this campaign" in page
    assert re.search(r'type="submit" disabled>\s*<svg', page)
    assert client.post(f"/campaigns/{campaign_id}/send").status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "draft"


def test_send_plans_every_batch_before_the_first_call(app, client, login):
    with app.app_context():
        campaign_id = make_campaign({"users": userids(2500)}).id
    login("staff")
    response = client.post(f"/campaigns/{campaign_id}/send")
    assert response.headers["Location"].endswith(f"/campaigns/{campaign_id}")
    with app.app_context():
        campaign = db.session.get(Campaign, campaign_id)
        assert campaign.status == "sending" and len(campaign.batches) == 3
        for batch, people in zip(campaign.batches, plan.chunks(userids(2500))):
            card = {**BUTTON_CARD, "task_id": batch.task_id}
            assert batch.request == build_send_body(card, 1000002, touser=people[0],
                                                    enable_duplicate_check=True)
            assert re.fullmatch(r"[0-9A-Za-z_\-@]{1,128}", batch.task_id)
        assert db.session.scalar(db.select(db.func.count()).select_from(Delivery)
                                 .filter_by(campaign_id=campaign_id, state="pending")) == 2500
    assert app.extensions["huey"].pending_count() == 1
    assert "Sending: 0 of 3 batches done." in client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)


def test_schedule_then_cancel(app, client, login, draft):
    with app.app_context():
        service.update_campaign(db.session.get(Campaign, draft), actor="test",
                                send_at=utcnow() + timedelta(hours=2))
        db.session.commit()
    login("staff")
    client.post(f"/campaigns/{draft}/send")
    with app.app_context():
        campaign = db.session.get(Campaign, draft)
        assert campaign.status == "scheduled"
        [task] = app.extensions["huey"].pending()
        assert task.eta == campaign.send_at.replace(tzinfo=None)  # Huey keeps naive UTC
    client.post(f"/campaigns/{draft}/cancel")
    with app.app_context():
        campaign = db.session.get(Campaign, draft)
        assert campaign.status == "cancelled"
        assert {b.status for b in campaign.batches} == {"cancelled"}


def test_test_send_is_marked_and_kept_apart(app, client, login, draft):
    login("staff")
    page = client.get(f"/campaigns/{draft}/check").get_data(as_text=True)
    assert 'value="staff"' not in page and "Give your WeCom userid" in page  # never the login
    client.post(f"/campaigns/{draft}/test", data={"userids": "lisi"})
    with app.app_context():
        test = db.session.scalar(db.select(Campaign).filter_by(parent_id=draft))
        assert test.is_test and test.status == "sending" and test.recipients["users"] == ["lisi"]
        assert db.session.get(Campaign, draft).status == "draft"
    assert "Test: Team dinner" not in client.get("/campaigns/").get_data(as_text=True)
    assert "Test sends" in client.get(f"/campaigns/{draft}/check").get_data(as_text=True)


def test_every_action_is_audited_with_its_actor(app, fake, client, login, draft):
    login("staff")
    client.post(f"/campaigns/{draft}/edit", data={
        "name": "Renamed", "card_version": 1, "when": "now", "timezone": "Asia/Shanghai",
        "duplicate_check_interval": 1800, "enable_duplicate_check": "y"})
    client.post(f"/campaigns/{draft}/test", data={"userids": "lisi"})
    for action in ("send", "pause", "resume", "cancel"):
        client.post(f"/campaigns/{draft}/{action}")
    with app.app_context():
        done = make_campaign({"users": ["lisi"]})
        service.send(done, actor="test")
        db.session.commit()
        delivery.run(done.id)
        done = done.id
    client.post(f"/campaigns/{done}/recall")
    assert [a for a, _ in audit_actions(app, draft)] == [
        "campaign_created", "campaign_edited", "campaign_test_sent", "campaign_sent",
        "campaign_paused", "campaign_resumed", "campaign_cancelled"]
    assert {actor for _, actor in audit_actions(app, draft)[1:]} == {"staff"}
    assert audit_actions(app, done)[-1] == ("campaign_recalled", "staff")


def test_progress_json(app, client, login, draft):
    login("manager")
    data = client.get(f"/campaigns/{draft}/progress").get_json()
    assert {"batches_total", "batches_done", "accepted", "invalid", "unlicensed", "failed",
            "state", "status", "finished"} <= data.keys()
    assert data["state"] == "Draft: not sent yet."


MUTATIONS = ["/campaigns/new", "/campaigns/{id}/edit", "/campaigns/{id}/recipients",
             "/campaigns/{id}/test", "/campaigns/{id}/send", "/campaigns/{id}/pause",
             "/campaigns/{id}/resume", "/campaigns/{id}/cancel", "/campaigns/{id}/recall",
             "/campaigns/{id}/resend", "/campaigns/directory/refresh",
             "/campaigns/audiences/1/delete"]


@pytest.mark.parametrize("path", MUTATIONS)
def test_a_manager_cannot_change_or_send_anything(app, client, login, draft, path):
    login("manager")
    assert client.post(path.format(id=draft)).status_code == 403
    with app.app_context():
        assert db.session.get(Campaign, draft).status == "draft"
        assert not db.session.scalar(db.select(SendBatch))


@pytest.mark.parametrize("path", ["/campaigns/", "/campaigns/{id}", "/campaigns/{id}/progress"])
def test_a_manager_may_read(client, login, draft, path):
    login("manager")
    assert client.get(path.format(id=draft)).status_code == 200


def test_csrf_protects_the_send_button(tmp_path, fake):
    app = wired_app(tmp_path, fake, WTF_CSRF_ENABLED=True)
    client = app.test_client()

    def token(path):
        return re.search(r'name="csrf_token" (?:type="hidden" )?value="([^"]+)"',
                         client.get(path).get_data(as_text=True)).group(1)

    client.post("/login", data={"username": "staff", "password": PASSWORD,
                                "csrf_token": token("/login")})
    with app.app_context():
        campaign_id = make_campaign({"users": ["lisi"]}).id
    assert client.post(f"/campaigns/{campaign_id}/send").status_code == 400
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "draft"
    check_token = token(f"/campaigns/{campaign_id}/check")
    assert client.post(f"/campaigns/{campaign_id}/send", data={"csrf_token": check_token}).status_code == 302
    with app.app_context():
        assert db.session.get(Campaign, campaign_id).status == "sending"


def test_queue_url_choices(tmp_path, monkeypatch):
    huey = make_huey("sqlite:///queue.sqlite", str(tmp_path))
    assert huey.storage.filename == str(tmp_path / "queue.sqlite")
    assert not (tmp_path / "queue.sqlite").exists()  # created on first use, not when built
    assert huey.pending_count() == 0 and (tmp_path / "queue.sqlite").exists()
    with pytest.raises(ConfigError, match="sqlite:///path or redis://"):
        make_huey("amqp://localhost", str(tmp_path))
    monkeypatch.setattr("importlib.util.find_spec", lambda name: None)
    with pytest.raises(ConfigError, match="pip install redis"):
        make_huey("redis://localhost:6379/0", str(tmp_path))


def test_worker_command_is_registered(runner):
    result = runner.invoke(args=["worker", "--help"])
    assert result.exit_code == 0 and "campaign delivery" in result.output


def test_privacy_is_chosen_on_the_campaign_form(app, client, login):
    login("staff")
    with app.app_context():
        version_id = card_version().id
    page = client.get("/campaigns/new").get_data(as_text=True)
    assert 'name="privacy"' in page and "Aggregates only" in page
    response = client.post("/campaigns/new", data={
        "name": "Secret ballot", "card_version": version_id, "when": "now", "timezone": "Asia/Shanghai",
        "duplicate_check_interval": 1800, "enable_duplicate_check": "y", "privacy": "aggregate"})
    assert response.status_code == 302
    with app.app_context():
        assert db.session.scalar(db.select(Campaign).filter_by(name="Secret ballot")).privacy == "aggregate"
