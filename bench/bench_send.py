"""A campaign to 10,000 recipients through the real queue and worker against the fake WeCom server.

Run from the repo root: ``.venv/bin/python bench/bench_send.py [recipients] [latency_ms]``.
The fake answers every call after ``latency_ms`` (50 by default) in this process; the worker is
``flask --app wsgi worker`` in its own process, as in production. Prints the planning time
(expansion, the batches and the ledger in one transaction), the number of calls, the queue's
pick-up delay (enqueue until the worker's first call reaches the fake, the worker idle before),
and the wall time from enqueue until the campaign is 'sent', against the target:
2 x (message/send calls x latency + pick-up delay).
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard import create_app  # noqa: E402
from dashboard.campaigns import jobs  # noqa: E402
from dashboard.campaigns import service  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.models import Campaign, Card, CardVersion  # noqa: E402
from tests.fake_wecom import FakeWeCom  # noqa: E402

CARD = {"card_type": "text_notice", "main_title": {"title": "Benchmark"},
        "card_action": {"type": 1, "url": "https://example.com"}}


def environment(folder: str, fake: FakeWeCom) -> dict[str, str]:
    return {"SECRET_KEY": "bench-only-" + "0" * 32, "DATABASE_URL": f"sqlite:///{folder}/bench.sqlite",
            "TASK_QUEUE_URL": f"sqlite:///{folder}/queue.sqlite", "WECOM_CORP_ID": fake.corp_id,
            "WECOM_AGENT_ID": str(fake.agent_id), "WECOM_SECRET": fake.secret,
            "WECOM_TOKEN": "t", "WECOM_AES_KEY": "a" * 43, "WECOM_API_BASE": fake.base_url,
            "LOG_LEVEL": "WARNING"}


def make_app(folder: str, env: dict[str, str]):
    app = create_app({"SQLALCHEMY_DATABASE_URI": env["DATABASE_URL"], "INSTANCE_PATH": folder,
                      **{k: v for k, v in env.items() if k != "DATABASE_URL"}})
    with app.app_context():
        db.create_all()
    return app


def plan(app, people: list[str]) -> tuple[int, float]:
    with app.app_context():
        card = Card(name="Bench", card_type="text_notice")
        version = CardVersion(card=card, number=1, template_card=CARD)
        campaign = service.create_campaign(name="Bench", card_version=version, actor="bench",
                                           recipients={"users": people})
        db.session.commit()
        start = time.monotonic()
        service.send(campaign, actor="bench")
        db.session.commit()
        return campaign.id, time.monotonic() - start


def deliver(app, campaign_id: int, timeout: float = 300) -> tuple[float, float]:
    """Queue the campaign; returns (enqueue time, time it was seen 'sent'), monotonic. The status
    is polled every 10 ms with one autocommit SELECT, so the watching costs the machine little."""
    status = db.select(Campaign.status).filter_by(id=campaign_id)
    with app.app_context(), db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        enqueued = time.monotonic()
        jobs.deliver(campaign_id)
        while conn.execute(status).scalar_one() != "sent":
            if time.monotonic() - enqueued > timeout:
                raise TimeoutError(f"campaign {campaign_id} not sent within {timeout} s")
            time.sleep(0.01)
        return enqueued, time.monotonic()


def main(recipients: int = 10_000, latency_ms: float = 50.0) -> int:
    people = [f"user{i:05d}" for i in range(recipients)]
    latency = latency_ms / 1000
    with tempfile.TemporaryDirectory() as folder, FakeWeCom(users=people, latency=latency) as fake:
        env = environment(folder, fake)
        app = make_app(folder, env)
        worker = subprocess.Popen([sys.executable, "-m", "flask", "--app", "wsgi", "worker"],
                                  cwd=ROOT, env={**os.environ, **env}, start_new_session=True)
        try:
            time.sleep(3.0)  # started, swept once, and idle: polling the queue at its slowest
            campaign_id, planning = plan(app, people)
            enqueued, done = deliver(app, campaign_id)
        finally:
            os.killpg(worker.pid, signal.SIGINT)
            worker.wait(timeout=15)
        sends = len(fake.calls("/message/send"))
        tokens = len(fake.calls("/gettoken"))
        pickup = fake.requests[0].time - enqueued
        delivered = sum(fake.deliveries.values())
    wall, target = done - enqueued, 2 * (sends * latency + pickup)
    print(f"recipients        {recipients:,} (delivered {delivered:,}, each once: {delivered == recipients})")
    print(f"planning          {planning:.3f} s  ({sends} batches, {recipients:,} ledger rows, one transaction)")
    print(f"calls             {sends} message/send + {tokens} gettoken, {latency_ms:g} ms latency each")
    print(f"pick-up delay     {pickup:.3f} s  (enqueue -> the worker's first call reaches WeCom)")
    print(f"wall time         {wall:.3f} s  (enqueue -> campaign 'sent')")
    print(f"target            {target:.3f} s  = 2 x ({sends} x {latency_ms:g} ms + pick-up delay)"
          f"  -> {'within' if wall <= target else 'OVER'} target ({wall / target:.2f} of it)")
    return 0 if wall <= target and sends == -(-recipients // 1000) else 1


if __name__ == "__main__":
    sys.exit(main(*(float(a) if i else int(a) for i, a in enumerate(sys.argv[1:]))))
