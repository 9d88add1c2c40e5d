"""Background delivery against the fake WeCom server over real HTTP, through the real Huey queue."""
import os
import signal
import time
from collections import Counter
from datetime import timedelta

import pytest

from dashboard import tasks
from dashboard.campaigns import delivery, limits, queries, service
from dashboard.extensions import db
from dashboard.models import Campaign, Delivery, SendBatch, utcnow
from dashboard.wecom.client import encode_body
from tests.campaign_factories import (card_version, make_campaign, send_now, short_timeout, start_worker,
                                      status_of, stop_worker, userids, wait_until, wired, wired_app, worker_env)
from tests.fake_wecom import FakeWeCom

PEOPLE = userids(2500)


@pytest.fixture
def fake():
    with FakeWeCom(users=PEOPLE + ["lisi", "wangwu", "zhaoliu"], unlicensed=["zhaoliu"]) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


@pytest.fixture
def worker(app):
    with tasks.running(app) as consumer:
        yield consumer


def sent(app, campaign_id):
    return status_of(app, campaign_id) in queries.FINISHED


def ledger(app, campaign_id) -> dict[str, str]:
    with app.app_context():
        return dict(db.session.execute(db.select(Delivery.userid, Delivery.state)
                                       .filter_by(campaign_id=campaign_id)).all())


def batches(app, campaign_id) -> list[SendBatch]:
    with app.app_context():
        rows = db.session.scalars(db.select(SendBatch).filter_by(campaign_id=campaign_id)
                                  .order_by(SendBatch.number)).all()
        db.session.expunge_all()
        return rows


def test_2500_users_become_three_calls_each_with_its_own_task_id(app, fake, worker):
    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    wait_until(lambda: sent(app, cid))
    calls = {c.body["template_card"]["task_id"]: c for c in fake.calls("/message/send")}
    rows = batches(app, cid)
    assert len(calls) == 3 and sorted(calls) == sorted(b.task_id for b in rows)
    assert [len(calls[b.task_id].body["touser"].split("|")) for b in rows] == [1000, 1000, 500]
    for batch in rows:
        assert encode_body(batch.request) == calls[batch.task_id].raw  # the stored body went out
        assert batch.status == "done" and batch.msgid and batch.response_code
        assert batch.response["errcode"] == 0 and batch.attempts == 1
    assert set(ledger(app, cid).values()) == {"accepted"}
    assert status_of(app, cid) == "sent"
    assert fake.deliveries == Counter(PEOPLE)


def test_invalid_and_unlicensed_users_are_recorded_per_recipient(app, fake, worker):
    with app.app_context():
        cid = send_now(make_campaign({"users": ["lisi", "wangwu", "zhaoliu", "ghost", "Nobody"]}))
    wait_until(lambda: sent(app, cid))
    assert ledger(app, cid) == {"lisi": "accepted", "wangwu": "accepted", "zhaoliu": "unlicensed",
                                "ghost": "invalid", "Nobody": "invalid"}
    batch = batches(app, cid)[0]
    assert batch.invalid_users == ["ghost", "nobody"] and batch.unlicensed_users == ["zhaoliu"]
    with app.app_context():
        counts = queries.progress(db.session.get(Campaign, cid))
    assert (counts["accepted"], counts["invalid"], counts["unlicensed"], counts["failed"]) == (2, 2, 1, 0)


def test_token_expiry_mid_campaign_is_renewed_once_in_the_client(app, fake, worker):
    fake.latency = 0.15
    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    wait_until(lambda: fake.calls("/message/send"))
    fake.expire_tokens()
    wait_until(lambda: sent(app, cid))
    assert len(fake.calls("/gettoken")) == 2
    assert [b.attempts for b in batches(app, cid)] == [1, 1, 1]
    assert fake.deliveries == Counter(PEOPLE)


@pytest.mark.slow
def test_busy_twice_then_success_backs_off_and_delivers_once(app, fake, worker):
    fake.fail_next(-1, n=2, path="/message/send")
    with app.app_context():
        cid = send_now(make_campaign({"users": ["lisi", "wangwu"]}))
    wait_until(lambda: sent(app, cid))
    times = [c.time for c in fake.calls("/message/send")]
    assert len(times) == 3
    assert times[1] - times[0] >= 1.0 and times[2] - times[1] >= 2.0  # floor 1 s, then doubled
    assert batches(app, cid)[0].attempts == 3 and status_of(app, cid) == "sent"
    assert fake.deliveries["lisi"] == 1 and fake.deliveries["wangwu"] == 1


def test_retries_double_up_to_two_minutes_and_ride_out_a_six_minute_outage(app):
    with app.app_context():
        waits = [delivery.retry_delay(attempts) for attempts in range(1, 10)]
        suggested = delivery.retry_delay(1, suggested=300)  # WeCom's own delay is the floor
    backoff = [1, 2, 4, 8, 16, 32, 64, 120, 120]  # then jitter: 1 to 1.5 times
    assert all(b <= wait <= b * 1.5 for wait, b in zip(waits, backoff))
    assert sum(waits) >= 360 and app.config["CAMPAIGN_MAX_ATTEMPTS"] == len(waits) + 1
    assert 300 <= suggested <= 450


@pytest.mark.slow
def test_timeout_after_the_server_received_the_request_is_not_delivered_twice(app, fake, worker):
    short_timeout(app)
    fake.hang_next(1.5, path="/message/send")  # processed, answered after the 0.5 s read timeout
    with app.app_context():
        cid = send_now(make_campaign({"users": ["lisi", "wangwu"]}))
    wait_until(lambda: sent(app, cid))
    first, second = fake.calls("/message/send")
    assert first.raw == second.raw and second.body["enable_duplicate_check"] == 1
    assert fake.deliveries["lisi"] == 1 and fake.deliveries["wangwu"] == 1
    batch = batches(app, cid)[0]
    assert batch.attempts == 2 and batch.msgid in fake.messages
    assert set(ledger(app, cid).values()) == {"accepted"}


def test_timeout_without_duplicate_check_is_unknown_and_not_retried(app, fake, worker):
    short_timeout(app)
    fake.hang_next(1.0, path="/message/send")  # answered after the 0.5 s read timeout
    with app.app_context():
        campaign = make_campaign({"users": ["lisi"]}, options={"enable_duplicate_check": False})
        cid = send_now(campaign)
    wait_until(lambda: sent(app, cid))
    assert len(fake.calls("/message/send")) == 1 and status_of(app, cid) == "failed"
    assert batches(app, cid)[0].status == "unknown"
    with app.app_context():
        row = db.session.scalar(db.select(Delivery).filter_by(campaign_id=cid))
        assert row.state == "failed" and "duplicate check is off" in row.detail
        assert queries.retryable_failures(db.session.get(Campaign, cid)) == ["lisi"]


def test_a_permanent_card_error_fails_the_campaign_and_names_the_field(app, fake, worker):
    app.config["CAMPAIGN_CONCURRENT_CALLS"] = 1  # else the other batches are in flight already
    fake.fail_next(42038, path="/message/send")
    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    wait_until(lambda: sent(app, cid))
    with app.app_context():
        campaign = db.session.get(Campaign, cid)
        assert campaign.status == "failed"
        assert "42038" in campaign.status_reason and "button_list[].text" in campaign.status_reason
        assert queries.retryable_failures(campaign) == []  # resending would fail the same way
    assert [b.status for b in batches(app, cid)] == ["failed", "cancelled", "cancelled"]
    assert len(fake.calls("/message/send")) == 1


def test_the_per_member_limit_delays_a_batch_and_progress_says_so(app, fake, worker):
    with app.app_context():  # 30 earlier campaigns reached lisi 52 seconds ago: the limit
        # holds for 8 more seconds, long enough to see the wait on a loaded machine
        version, earlier = card_version(), utcnow() - timedelta(seconds=52)
        for i in range(30):
            other = service.create_campaign(name=f"Earlier {i}", card_version=version, actor="test")
            db.session.add(Delivery(campaign_id=other.id, userid="lisi", state="accepted",
                                    sent_at=earlier + timedelta(milliseconds=i)))
        db.session.commit()
        cid = send_now(make_campaign({"users": ["lisi", "wangwu"]}))
    state = wait_until(lambda: _waiting_line(app, cid))
    assert "per-member limit" in state and "30 a minute" in state and "resumes" in state
    assert not fake.calls("/message/send")
    wait_until(lambda: sent(app, cid))
    with app.app_context():
        assert batches(app, cid)[0].sent_at >= earlier + timedelta(seconds=60)


def _waiting_line(app, campaign_id):
    with app.app_context():
        line = queries.progress(db.session.get(Campaign, campaign_id))["state"]
        return line if line.startswith("Waiting") else None


def test_limit_arithmetic_for_the_minute_and_the_hour():
    now = utcnow()
    assert limits.free_at([now - timedelta(seconds=10)] * 29, now) is None
    minute = [now - timedelta(seconds=50 - i) for i in range(30)]
    assert limits.free_at(minute, now) == (minute[0] + timedelta(minutes=1), "30 a minute")
    hour = [now - timedelta(minutes=10, seconds=2 * i) for i in range(1000)]  # newest first
    assert limits.free_at(hour, now) == (min(hour) + timedelta(hours=1), "1,000 an hour")
    assert limits.free_at(hour[1:], now) is None


@pytest.mark.slow
def test_pause_resume_and_cancel_while_sending(app, fake, worker, client, login):
    fake.latency = 0.6  # each call outlasts the request that pauses or cancels
    app.config["CAMPAIGN_CONCURRENT_CALLS"] = 1  # one batch in flight at a time
    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    login("staff")
    wait_until(lambda: fake.calls("/message/send"))
    assert client.post(f"/campaigns/{cid}/pause").status_code == 302
    assert status_of(app, cid) == "paused"
    paused_at = len(fake.calls("/message/send"))
    time.sleep(1.5)
    assert len(fake.calls("/message/send")) <= min(paused_at + 1, 2)  # at most the one in flight
    assert "Paused after" in client.get(f"/campaigns/{cid}/progress").get_json()["state"]
    client.post(f"/campaigns/{cid}/resume")
    wait_until(lambda: sent(app, cid))
    assert status_of(app, cid) == "sent" and fake.deliveries == Counter(PEOPLE)

    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    wait_until(lambda: len(fake.calls("/message/send")) > 3)
    client.post(f"/campaigns/{cid}/cancel")

    def settled():
        """the batch in flight has finished and nothing is left pending"""
        states = Counter(ledger(app, cid).values())
        return states if states["accepted"] + states["cancelled"] == 2500 else None

    states = wait_until(settled)  # the call in flight may outlast any fixed pause on a busy machine
    assert status_of(app, cid) == "cancelled" and states["cancelled"] >= 500


@pytest.mark.slow
def test_a_scheduled_campaign_fires_on_time_and_after_a_restart(app, fake):
    with app.app_context():
        on_time = send_now(make_campaign({"users": ["lisi"]}, send_at=utcnow() + timedelta(seconds=2)))
        assert status_of(app, on_time) == "scheduled"
        late = make_campaign({"users": ["wangwu"]}, send_at=utcnow() + timedelta(seconds=1))
        service.send(late, actor="test")  # planned, but the queue never hears of it:
        db.session.commit()  # only the worker's sweep can start it
        late = late.id
    time.sleep(1.2)
    with tasks.running(app):
        wait_until(lambda: sent(app, on_time) and sent(app, late), timeout=15)
    with app.app_context():
        first = db.session.get(Campaign, on_time)
        assert first.status == "sent" and first.started_at >= first.send_at
        assert db.session.get(Campaign, late).status == "sent"


def test_recall_every_batch_and_refuse_after_24_hours(app, fake, worker, client, login):
    with app.app_context():
        cid = send_now(make_campaign({"users": PEOPLE}))
    wait_until(lambda: sent(app, cid))
    login("staff")
    assert client.post(f"/campaigns/{cid}/recall").status_code == 302
    rows = batches(app, cid)
    assert all(b.recalled_at for b in rows)
    assert all(fake.messages[b.msgid]["recalled"] for b in rows)
    assert len(fake.calls("/message/recall")) == 3

    with app.app_context():
        cid = send_now(make_campaign({"users": ["lisi"]}))
    wait_until(lambda: sent(app, cid))
    with app.app_context():
        campaign = db.session.get(Campaign, cid)
        for batch in campaign.batches:
            batch.sent_at -= timedelta(hours=25)
        db.session.commit()
        allowed, reason = queries.recall_state(campaign)
    assert not allowed and "24 hours" in reason
    page = client.get(f"/campaigns/{cid}").get_data(as_text=True)
    assert "within 24 hours" in page
    client.post(f"/campaigns/{cid}/recall")
    assert len(fake.calls("/message/recall")) == 3


def test_resend_to_failed_only_reaches_retryable_failures(app, fake):
    with app.app_context():
        campaign = make_campaign({"users": ["lisi", "wangwu", "ghost"]})
        service.send(campaign, actor="test")
        batch = campaign.batches[0]
        batch.status, batch.errcode = "failed", -1
        db.session.execute(db.update(Delivery).filter_by(campaign_id=campaign.id)
                           .values(state="failed"))
        db.session.execute(db.update(Delivery).filter_by(campaign_id=campaign.id, userid="ghost")
                           .values(state="invalid"))
        campaign.status = "partially_sent"
        db.session.commit()
        assert service.resend_failed(campaign, actor="test") == 2
        db.session.commit()
        assert delivery.run(campaign.id) is None  # the same work the worker does
        new = db.session.get(Campaign, campaign.id).batches[-1]
        assert new.number == 2 and new.request["touser"] == "lisi|wangwu"
        assert campaign.status == "sent"
    assert fake.deliveries["lisi"] == 1 and fake.deliveries["ghost"] == 0


@pytest.mark.parametrize("duplicate_check, outcome", [(True, "done"), (False, "unknown")])
def test_a_batch_left_sending_by_a_dead_worker(app, fake, duplicate_check, outcome):
    with app.app_context():
        campaign = make_campaign({"users": ["lisi"]},
                                 options={"enable_duplicate_check": duplicate_check})
        service.send(campaign, actor="test")
        batch = campaign.batches[0]
        batch.status, batch.attempts, batch.sent_at = "sending", 1, utcnow()
        db.session.commit()
        delivery.run(campaign.id)
        assert db.session.get(SendBatch, batch.id).status == outcome
    assert len(fake.calls("/message/send")) == (1 if duplicate_check else 0)


@pytest.mark.slow
def test_worker_killed_mid_campaign_resumes_with_nothing_twice_and_nothing_skipped(tmp_path):
    people = userids(6000)
    with FakeWeCom(users=people, latency=0.4) as fake:
        app = wired_app(tmp_path, fake, users=False)
        with app.app_context():
            cid = make_campaign({"users": people}).id
            service.send(db.session.get(Campaign, cid), actor="test")
            db.session.commit()  # no queue entry: the worker's start-up sweep finds it
        env = worker_env(app, fake)
        with open(tmp_path / "worker.log", "wb") as log:
            first = start_worker(env, log)
            wait_until(lambda: len(fake.calls("/message/send")) >= 3, timeout=30)
            os.killpg(first.pid, signal.SIGKILL)
            first.wait()
            time.sleep(0.5)  # the call in flight still lands at the fake
            assert status_of(app, cid) == "sending"
            assert "sending" in {b.status for b in batches(app, cid)}
            second = start_worker(env, log)
            try:
                wait_until(lambda: sent(app, cid), timeout=60)
            finally:
                stop_worker(second)
    assert fake.deliveries == Counter(people), (tmp_path / "worker.log").read_text()[-3000:]
    assert 7 <= len(fake.calls("/message/send")) <= 6 + 4  # those in flight were repeated
    assert set(ledger(app, cid).values()) == {"accepted"} and status_of(app, cid) == "sent"
