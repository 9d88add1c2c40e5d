"""Several workers on one Redis queue and one database: real `flask --app wsgi worker` processes,
a private redis-server, the fake WeCom over HTTP, and a shared SQLite file."""
import os
import signal
import threading
import time
from collections import Counter
from contextlib import ExitStack, contextmanager
from datetime import timedelta

import pytest

from dashboard.campaigns import jobs
from dashboard.campaigns import delivery, leases, service
from dashboard.extensions import db
from dashboard.models import Delivery, SendBatch, utcnow
from tests.campaign_factories import (card_version, consuming, make_campaign, send_now, start_worker,
                                      status_of, stop_worker, userids, wait_until, wired, worker_env)
from tests.conftest import make_app
from tests.fake_wecom import FakeWeCom
from tests.servers import free_port, redis_server

PEOPLE = userids(8000)


@pytest.fixture
def fake():
    with FakeWeCom(users=PEOPLE + ["lisi"], latency=0.5) as fake:
        yield fake


@pytest.fixture
def app(tmp_path, fake, redis_url):
    with wired(tmp_path, fake, TASK_QUEUE_URL=redis_url) as app:
        yield app


@contextmanager
def workers(app, fake, log_path, count=3):
    """count worker processes of two threads each: one process can hold at most two of a
    campaign's four batches in flight, so the others must take part."""
    env = worker_env(app, fake)
    with open(log_path, "wb") as log, ExitStack() as stack:
        procs = [start_worker(env, log, "--workers", "2") for _ in range(count)]
        for proc in procs:
            stack.callback(stop_worker, proc)
        wait_until(lambda: consuming(app.config["TASK_QUEUE_URL"]) >= count, timeout=30)
        yield procs


def batch_rows(app, campaign_id):
    with app.app_context():
        return db.session.execute(db.select(SendBatch.number, SendBatch.status, SendBatch.attempts,
                                            SendBatch.lease_owner)
                                  .filter_by(campaign_id=campaign_id).order_by(SendBatch.number)).all()


def ledger_states(app, campaign_id):
    with app.app_context():
        return Counter(db.session.scalars(db.select(Delivery.state).filter_by(campaign_id=campaign_id)))


def pid_of(owner: str) -> int:
    return int(owner.rpartition(":")[2])


@pytest.mark.slow
def test_three_workers_share_a_campaign_and_each_recipient_gets_it_once(app, fake, tmp_path):
    with workers(app, fake, tmp_path / "workers.log") as procs:
        with app.app_context():
            cid = send_now(make_campaign({"users": PEOPLE}))
        wait_until(lambda: status_of(app, cid) == "sent", timeout=60)
    assert fake.deliveries == Counter(PEOPLE)  # every recipient exactly once
    touser = [set(call.body["touser"].split("|")) for call in fake.calls("/message/send")]
    assert len(touser) == 8 and sum(map(len, touser)) == len(PEOPLE)  # no batch sent twice
    assert ledger_states(app, cid) == Counter({"accepted": len(PEOPLE)})
    rows = batch_rows(app, cid)
    assert {(status, attempts) for _, status, attempts, _ in rows} == {("done", 1)}
    senders = {pid_of(owner) for *_, owner in rows}
    assert senders <= {proc.pid for proc in procs} and len(senders) >= 2


@pytest.mark.slow
def test_a_worker_killed_mid_campaign_leaves_its_batch_to_the_others(app, fake, tmp_path):
    with workers(app, fake, tmp_path / "workers.log") as procs:
        with app.app_context():
            cid = send_now(make_campaign({"users": PEOPLE}))
        wait_until(lambda: fake.calls("/message/send"))  # the token is fetched: its lock is free
        in_flight = wait_until(lambda: [r for r in batch_rows(app, cid) if r.status == "sending"])
        victim = next(p for p in procs if p.pid == pid_of(in_flight[0].lease_owner))
        os.killpg(victim.pid, signal.SIGKILL)
        victim.wait()
        orphans = {r.number for r in batch_rows(app, cid)
                   if r.status == "sending" and pid_of(r.lease_owner) == victim.pid}
        wait_until(lambda: status_of(app, cid) == "sent", timeout=60)
    assert fake.deliveries == Counter(PEOPLE)  # the repeat carried the same body: WeCom dropped it
    assert ledger_states(app, cid) == Counter({"accepted": len(PEOPLE)})
    rows = {r.number: r for r in batch_rows(app, cid)}
    assert orphans and all(rows[n].attempts == 2 and rows[n].status == "done" for n in orphans)
    assert victim.pid not in {pid_of(r.lease_owner) for r in rows.values() if r.number in orphans}


@pytest.mark.slow
def test_a_worker_stopped_gracefully_finishes_its_calls_and_leaves_the_rest(app, fake, tmp_path):
    with workers(app, fake, tmp_path / "workers.log") as procs:
        with app.app_context():
            cid = send_now(make_campaign({"users": PEOPLE}))
        in_flight = wait_until(lambda: [r for r in batch_rows(app, cid) if r.status == "sending"])
        leaver = next(p for p in procs if p.pid == pid_of(in_flight[0].lease_owner))
        os.killpg(leaver.pid, signal.SIGINT)  # what systemd sends (KillSignal=SIGINT)
        assert leaver.wait(timeout=30) == 0
        wait_until(lambda: status_of(app, cid) == "sent", timeout=60)
    rows = batch_rows(app, cid)
    assert {(status, attempts) for _, status, attempts, _ in rows} == {("done", 1)}  # none left
    assert leaver.pid in {pid_of(owner) for *_, owner in rows}
    assert fake.deliveries == Counter(PEOPLE) and len(fake.calls("/message/send")) == 8


@pytest.mark.slow
def test_per_member_limits_hold_across_workers(app, fake, tmp_path):
    with workers(app, fake, tmp_path / "workers.log"), app.app_context():
        version, earlier = card_version(), utcnow() - timedelta(seconds=55)
        for i in range(29):  # lisi got 29 messages 55 s ago: one more is allowed this minute
            other = service.create_campaign(name=f"Earlier {i}", card_version=version, actor="test")
            db.session.add(Delivery(campaign_id=other.id, userid="lisi", state="accepted",
                                    sent_at=earlier))
        db.session.commit()
        frees_at = time.monotonic() + (earlier + timedelta(minutes=1) - utcnow()).total_seconds()
        campaigns = [make_campaign({"users": ["lisi", *PEOPLE[i * 999:(i + 1) * 999]]}, card=version)
                     for i in range(6)]
        for campaign in campaigns:
            service.send(campaign, actor="test")
        db.session.commit()
        ids = [campaign.id for campaign in campaigns]
        for cid in ids:  # queued together, claimed side by side
            jobs.deliver(cid)
        wait_until(lambda: all(status_of(app, cid) == "sent" for cid in ids), timeout=30)
    to_lisi = sorted(c.time for c in fake.calls("/message/send") if "lisi" in c.body["touser"])
    assert len(to_lisi) == 6 and fake.deliveries["lisi"] == 6
    assert to_lisi[0] < frees_at and all(t >= frees_at - 0.1 for t in to_lisi[1:])


# --- the claims, without processes -----------------------------------------------------------


@pytest.fixture
def local_app(tmp_path, fake):
    with wired(tmp_path, fake) as app:
        yield app


def test_a_batch_in_flight_counts_toward_the_member_limits_of_other_claims(local_app, fake):
    with local_app.app_context():
        version, earlier = card_version(), utcnow() - timedelta(seconds=30)
        db.session.add_all(Delivery(campaign_id=make_campaign({"users": ["lisi"]}, card=version).id,
                                    userid="lisi", state="accepted", sent_at=earlier)
                           for _ in range(29))
        first, second = (make_campaign({"users": ["lisi"]}, card=version) for _ in range(2))
        for campaign in (first, second):
            service.send(campaign, actor="test")
        db.session.commit()
        claimed = delivery.claim(first)  # claimed by a worker, its call not answered yet
        assert claimed is not None and claimed.status == "sending"
        assert delivery.claim(second) is None
        waiting = second.batches[0]
        db.session.refresh(waiting)
        assert waiting.status == "pending" and "30 a minute" in waiting.wait_reason
        assert not fake.calls("/message/send")


def test_claims_wait_for_each_other_across_connections(tmp_path):
    apps = [make_app(tmp_path) for _ in range(2)]  # two processes' worth of engines, one database
    events = []

    def hold(app, name, seconds):
        with app.app_context():
            leases.lock_claims()
            events.append((name, "locked"))
            time.sleep(seconds)
            events.append((name, "released"))
            db.session.commit()

    first = threading.Thread(target=hold, args=(apps[0], "first", 0.5))
    first.start()
    wait_until(lambda: events)
    hold(apps[1], "second", 0)
    first.join()
    assert events == [("first", "locked"), ("first", "released"), ("second", "locked"),
                      ("second", "released")]
    for app in apps:
        with app.app_context():
            db.engine.dispose()


@pytest.mark.slow
def test_a_two_second_redis_outage_mid_campaign_costs_seconds(tmp_path):
    """Redis killed while a campaign sends, back 2 s later, empty (no persistence): the runs in
    flight go on with the token they hold and without helpers, and the campaign ends in seconds
    after Redis returns, each recipient once (before, a stranded lease held it 80 s or more). On
    SQLite it ends within 10 s; on PostgreSQL one run of two took longer, so the bound here leaves
    room for one 20 s sweep (issue 30 keeps that open)."""
    people, port = userids(16000), free_port()
    for folder in ("before", "after"):
        (tmp_path / folder).mkdir()
    before = ExitStack()
    url = before.enter_context(redis_server(tmp_path / "before", port=port))
    with FakeWeCom(users=people, latency=0.3) as fake, wired(tmp_path, fake, TASK_QUEUE_URL=url) as app:
        with workers(app, fake, tmp_path / "workers.log", count=2):
            with app.app_context():
                cid = send_now(make_campaign({"users": people}))
            wait_until(lambda: fake.calls("/message/send"))
            before.close()  # Redis gone, with every queued job
            time.sleep(2)
            with redis_server(tmp_path / "after", port=port):
                wait_until(lambda: status_of(app, cid) == "sent", timeout=30)
        assert fake.deliveries == Counter(people)
        assert ledger_states(app, cid) == Counter({"accepted": len(people)})
