"""After a click with AFTER_CLICK_VIA=api (the default): the callback answers at once and the
worker changes the clicker's card with message/update_template_card and the event's own
response code, over real HTTP to the fake WeCom; single use, retried, failures shown."""
import time
from datetime import timedelta

import pytest

from dashboard import create_app, tasks
from dashboard.callback import jobs
from dashboard.callback.service import RESPONSE_CODE_LIFE, record_response_code
from dashboard.config import ConfigError
from dashboard.extensions import db
from dashboard.models import CardEvent, ResponseCode, utcnow
from dashboard.wecom.crypto import CallbackCrypto
from tests.campaign_factories import wait_until
from tests.fake_wecom import FakeWeCom
from tests.test_sandbox_api import served, wecom  # noqa: F401  (fixtures)
from tests.test_callback import AES_KEY, TOKEN, VOTE, callback_app, card_xml, make_campaign, post, signed

UPDATE = "/message/update_template_card"
BUTTON = {"mode": "button", "replace_name": "已选择：{option}"}


@pytest.fixture
def fake():
    with FakeWeCom() as fake:
        yield fake


def api_app(tmp_path, fake, **overrides):
    app = callback_app(tmp_path, WECOM_CORP_ID=fake.corp_id, WECOM_SECRET=fake.secret,
                       WECOM_AGENT_ID=str(fake.agent_id), WECOM_API_BASE=fake.base_url, **overrides)
    app.extensions["wecom"].client.timeout = (1, 5)
    return app


def click(app, fake, *, code=None, user="zhangsan", options=("opt_a", "opt_c")):
    """A vote posted encrypted, as WeCom posts it; returns (response, its code)."""
    code = code or fake.issue_response_code()
    xml = card_xml(user=user, selected={"q_lunch": list(options)}, code=code)
    response = post(app.test_client(), xml, crypto=CallbackCrypto(TOKEN, AES_KEY, fake.corp_id))
    return response, code


def used_for(app, code):
    with app.app_context():
        return db.session.scalar(db.select(ResponseCode.used_for).filter_by(code=code))


def event_id(app):
    with app.app_context():
        return db.session.scalars(db.select(CardEvent.id)).one()


def settle(seconds=1.5):
    """Leave the worker time to do what it should not (a second call)."""
    time.sleep(seconds)


def test_a_click_answers_at_once_and_the_worker_greys_the_clickers_button(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    with tasks.running(app):
        response, code = click(app, fake)
        assert (response.status_code, response.data) == (200, b"")  # no passive reply
        wait_until(lambda: fake.calls(UPDATE))
        settle(0.5)
    [call] = fake.calls(UPDATE)
    assert call.body["response_code"] == code and call.body["userids"] == ["zhangsan"]
    assert call.body["button"] == {"replace_name": "已选择：A、C"} and "template_card" not in call.body
    assert call.body["agentid"] == fake.agent_id and call.body["atall"] == 0
    assert used_for(app, code) == "after_click"


def test_card_mode_sends_the_read_only_card_to_the_clicker_only(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click={"mode": "card", "replace_name": "已投票"})
    with tasks.running(app):
        _, code = click(app, fake, options=["opt_b"])
        wait_until(lambda: fake.calls(UPDATE))
    [call] = fake.calls(UPDATE)
    card = call.body["template_card"]
    assert call.body["response_code"] == code and call.body["userids"] == ["zhangsan"]
    assert "button" not in call.body and card["replace_text"] == "已投票"
    assert card["checkbox"]["disable"] is True and "task_id" not in card
    assert [(o["id"], o["is_checked"]) for o in card["checkbox"]["option_list"]] == [
        ("opt_a", False), ("opt_b", True), ("opt_c", False)]


def test_a_duplicate_callback_or_a_repeated_job_spends_the_code_once(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    code = fake.issue_response_code()
    query, body = signed(card_xml(selected={"q_lunch": ["opt_a"]}, code=code),
                         crypto=CallbackCrypto(TOKEN, AES_KEY, fake.corp_id))
    with tasks.running(app):
        for _ in range(2):
            assert post(app.test_client(), query=query, body=body).status_code == 200
        wait_until(lambda: fake.calls(UPDATE))
        with app.app_context():  # the job again, as a redelivered queue entry would run it
            jobs.after_click(event_id(app))
        settle()
    assert len(fake.calls(UPDATE)) == 1 and used_for(app, code) == "after_click"


def test_a_failed_update_is_retried_and_then_succeeds_with_the_same_code(tmp_path, fake):
    app = api_app(tmp_path, fake)
    campaign_id = make_campaign(app, after_click=BUTTON)
    fake.fail_next(48002, path=UPDATE)  # e.g. a permission granted a moment later
    with tasks.running(app):
        _, code = click(app, fake)
        wait_until(lambda: used_for(app, code) == "after_click failed 1: errcode 48002", timeout=5)
        wait_until(lambda: used_for(app, code) == "after_click", timeout=15)
        settle(0.5)
    calls = fake.calls(UPDATE)
    assert [c.body["response_code"] for c in calls] == [code, code]
    assert calls[1].time - calls[0].time >= jobs.RETRY_BASE - 0.1  # backoff, not at once
    with app.app_context():
        from dashboard.campaigns.queries import after_click_failures
        from dashboard.models import Campaign
        assert after_click_failures(db.session.get(Campaign, campaign_id)) == []


def test_an_invalid_code_is_not_retried_and_shows_on_the_campaign_page(tmp_path, fake):
    app = api_app(tmp_path, fake)
    campaign_id = make_campaign(app, after_click=BUTTON)
    with tasks.running(app):
        _, code = click(app, fake, code="never-issued-code")  # WeCom answers 60140
        wait_until(lambda: fake.calls(UPDATE))
        settle(jobs.RETRY_BASE + 1.5)
    assert len(fake.calls(UPDATE)) == 1
    assert used_for(app, code) == "after_click failed: errcode 60140"
    page = staff_page(app, campaign_id)
    assert 'id="summary-after-click"' in page and "was not changed after the click" in page
    assert 'id="after-click-failures"' in page and "zhangsan" in page and "errcode 60140" in page
    assert "will be tried again" not in page


def test_no_retry_once_the_code_would_expire_before_the_next_try(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    _, code = click(app, fake)  # no worker: the job is run by hand below
    with app.app_context():
        event = db.session.get(CardEvent, event_id(app))
        record_response_code(code, campaign_id=event.campaign_id, batch_id=event.batch_id,
                             userid="zhangsan", source="callback",
                             received_at=utcnow() - RESPONSE_CODE_LIFE + timedelta(seconds=1))
        db.session.commit()
        fake.fail_next(48002, path=UPDATE)
        jobs.after_click(event.id)
    assert used_for(app, code) == "after_click failed: errcode 48002"
    assert len(fake.calls(UPDATE)) == 1


def test_a_try_runs_only_after_the_try_before_failed(tmp_path, fake):
    """A second try queued twice, or a stale one after a success, finds the code not left failed."""
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    _, code = click(app, fake)
    with app.app_context():
        jobs.after_click(event_id(app), 2)  # no first try failed: nothing
        assert fake.calls(UPDATE) == []
        jobs.after_click(event_id(app))
        jobs.after_click(event_id(app), 2)
    assert len(fake.calls(UPDATE)) == 1 and used_for(app, code) == "after_click"


@pytest.mark.parametrize("after_click", [None, {"mode": "none"}])
def test_cards_without_after_click_settings_send_nothing(tmp_path, fake, after_click):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=after_click)
    with tasks.running(app):
        response, code = click(app, fake)
        settle()
    assert (response.status_code, response.data) == (200, b"")
    assert fake.calls(UPDATE) == []
    with app.app_context():
        jobs.after_click(event_id(app))  # even if such a job ran
    assert fake.calls(UPDATE) == [] and used_for(app, code) is None


def test_reply_mode_answers_with_the_passive_reply_and_calls_no_api(tmp_path, fake):
    app = api_app(tmp_path, fake, AFTER_CLICK_VIA="reply")
    make_campaign(app, after_click=BUTTON)
    with tasks.running(app):
        response, code = click(app, fake)
        settle()
    assert response.mimetype == "text/xml" and b"<Encrypt>" in response.data
    assert fake.calls(UPDATE) == [] and used_for(app, code) is None


@pytest.mark.parametrize("value", ["API", "both", ""])
def test_other_after_click_ways_are_refused_at_start(tmp_path, value):
    with pytest.raises(ConfigError, match="AFTER_CLICK_VIA must be api or reply"):
        create_app({"TESTING": True, "SECRET_KEY": "test-secret-of-at-least-32-bytes",
                    "INSTANCE_PATH": str(tmp_path / "instance"), "AFTER_CLICK_VIA": value,
                    "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path / 'db.sqlite'}"})


def staff_page(app, campaign_id) -> str:
    with app.app_context():
        from dashboard.auth.service import create_user
        create_user("staff", "staff", "long-enough-pw")
        db.session.commit()
    client = app.test_client()
    client.post("/login", data={"username": "staff", "password": "long-enough-pw"})
    return client.get(f"/campaigns/{campaign_id}").get_data(as_text=True)


# --- the sandbox plays WeCom: its inbox shows the clicker's card changed through the API ---------


def test_the_sandbox_inbox_shows_the_clickers_card_changed_in_api_mode(app, wecom, login, client):
    from dashboard.models import SandboxCallback
    from tests.test_sandbox_inbox import VOTE as INBOX_VOTE, delivered, inbox_card, send_campaign, wait_for

    assert app.config["AFTER_CLICK_VIA"] == "api"
    send_campaign(wecom, ["zhangwei", "lina"], {"mode": "card", "replace_name": "已选 {option}"})
    login("staff")
    with tasks.running(app):
        answer = client.post(f"/sandbox/inbox/zhangwei/cards/{inbox_card('zhangwei').id}/act", json=INBOX_VOTE)
        wait_for(delivered(answer.json["callback"]))
        shown = wait_for(lambda: (c := client.get("/sandbox/inbox/zhangwei/feed").json["cards"][0])["closed"] and c)
    assert db.session.get(SandboxCallback, answer.json["callback"]).reply_kind == "none"  # no passive reply
    assert shown["card"]["replace_text"] == "已选 Rice" and shown["card"]["checkbox"]["disable"] is True
    assert not client.get("/sandbox/inbox/lina/feed").json["cards"][0]["closed"]
    assert db.session.scalars(db.select(ResponseCode.used_for).where(
        ResponseCode.used_for.is_not(None))).all() == ["after_click"]


# --- the queue was down when the click came: the periodic sweep queues its update again --------


def backdate(app, seconds):
    with app.app_context():
        db.session.execute(db.update(CardEvent).values(received_at=utcnow() - timedelta(seconds=seconds)))
        db.session.commit()


def test_a_click_whose_job_never_ran_is_updated_by_the_sweep_once(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    response, code = click(app, fake)  # no worker: its job waits in the queue, as if it were lost
    assert response.status_code == 200
    with app.app_context():
        assert jobs.after_click_sweep() == 0  # too recent: its own job may still run
    backdate(app, 300)
    with app.app_context():
        assert jobs.after_click_sweep() == 1
        jobs.after_click(event_id(app))  # the sweep's job, run here (the queue's copy is dropped)
        assert jobs.after_click_sweep() == 0  # claimed: never again
    assert len(fake.calls(UPDATE)) == 1 and used_for(app, code) == "after_click"


@pytest.mark.parametrize("after_click", [None, {"mode": "none"}])
def test_the_sweep_leaves_clicks_that_change_nothing_alone(tmp_path, fake, after_click):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=after_click)
    click(app, fake)
    backdate(app, 300)
    with app.app_context():
        assert jobs.after_click_sweep() == 0


def test_the_sweep_leaves_clicks_older_than_its_window_and_reply_mode_alone(tmp_path, fake):
    app = api_app(tmp_path, fake)
    make_campaign(app, after_click=BUTTON)
    click(app, fake)
    backdate(app, int(jobs.SWEEP_WINDOW.total_seconds()) + 60)
    with app.app_context():
        assert jobs.after_click_sweep() == 0
    backdate(app, 300)
    app.config["AFTER_CLICK_VIA"] = "reply"
    with app.app_context():
        assert jobs.after_click_sweep() == 0
