"""A campaign to 100,000 recipients on 1, 2 and 4 worker processes sharing a Redis queue and a
SQLite database, against the fake WeCom server with 50 ms latency per call (issue 11).

Run from the repo root: ``.venv/bin/python bench/bench_campaign.py [recipients] [latency_ms]
[--db postgresql]``; ``--db postgresql`` runs the same on a throwaway PostgreSQL server with its
durable defaults (scripts/throwaway_postgres.py), its tables made afresh for each run.
Each run has its own redis-server, database, fake WeCom and workers (``flask --app wsgi worker``
processes, as in production), plans the campaign (bench_send.py), queues it, and times it from
the enqueue until it is 'sent'. Two series: CAMPAIGN_CONCURRENT_CALLS at its default of 4 (the
campaign's calls in flight across all workers) and 4 per worker. Prints per run the wall time,
messages/s, the calls WeCom saw, duplicates (deliveries beyond one per recipient) and the batches
each worker sent. The workers run with DIRECTORY_SYNC_INTERVAL=0: the campaign is timed alone, not
with the first directory read of 100,000 members. Exits non-zero on a duplicate, a missed recipient or a second gettoken.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from collections import Counter
from contextlib import ExitStack
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.bench_send import deliver, environment, make_app, plan  # noqa: E402
from dashboard.extensions import db  # noqa: E402
from dashboard.models import SendBatch  # noqa: E402
from tests.campaign_factories import consuming, start_worker, stop_worker, wait_until  # noqa: E402
from tests.fake_wecom import FakeWeCom  # noqa: E402
from tests.servers import redis_server  # noqa: E402

WORKERS = (1, 2, 4)


def run(people: list[str], latency: float, workers: int, calls: int, database_url: str | None) -> dict:
    with tempfile.TemporaryDirectory() as folder, redis_server(Path(folder)) as queue, \
            FakeWeCom(users=people, latency=latency) as fake:
        # No directory read: at a fresh database's first start the worker would read all the
        # fake's members meanwhile (some 2 s of the database's and the machine's time).
        env = {**environment(folder, fake), "TASK_QUEUE_URL": queue, "DIRECTORY_SYNC_INTERVAL": "0"}
        if database_url:
            env["DATABASE_URL"] = database_url
            fresh(folder, env)
        app = make_app(folder, env)
        env = {**os.environ, **env, "CAMPAIGN_CONCURRENT_CALLS": str(calls)}
        log_path = Path(folder) / "workers.log"
        with open(log_path, "wb") as log:
            procs = [start_worker(env, log) for _ in range(workers)]
        try:
            wait_until(lambda: consuming(queue) >= workers, timeout=60)
            campaign_id, planning = plan(app, people)
            enqueued, done = deliver(app, campaign_id, timeout=600)
        except Exception:
            print(log_path.read_text()[-3000:], file=sys.stderr)
            raise
        finally:
            for proc in procs:
                stop_worker(proc)
        with app.app_context():
            owners = db.session.scalars(db.select(SendBatch.lease_owner)
                                        .filter_by(campaign_id=campaign_id)).all()
            db.engine.dispose()
        return {"wall": done - enqueued, "planning": planning,
                "sends": len(fake.calls("/message/send")), "tokens": len(fake.calls("/gettoken")),
                "duplicates": sum(n - 1 for n in fake.deliveries.values()),
                "missed": len(set(people) - set(fake.deliveries)),
                "shares": sorted(Counter(owners).values(), reverse=True)}


def fresh(folder: str, env: dict) -> None:
    """Empty tables in the shared PostgreSQL database, as a new SQLite file would be."""
    app = make_app(folder, env)
    with app.app_context():
        db.drop_all()
        db.engine.dispose()


def main(recipients: int = 100_000, latency_ms: float = 50.0, database: str = "sqlite") -> int:
    with ExitStack() as stack:
        database_url = None
        if database == "postgresql":
            from scripts.throwaway_postgres import throwaway_postgres

            database_url = stack.enter_context(throwaway_postgres(fast=False))  # durable defaults
        return series(recipients, latency_ms, database_url)


def series(recipients: int, latency_ms: float, database_url: str | None) -> int:
    people = [f"user{i:06d}" for i in range(recipients)]
    where = "PostgreSQL (throwaway server, durable defaults)" if database_url else "SQLite database"
    print(f"{recipients:,} recipients, {latency_ms:g} ms per call, {where}, Redis queue")
    print("workers  in flight  wall (s)  messages/s  send  gettoken  duplicates  batches per worker")
    failed = False
    for per_worker in (False, True):
        for workers in WORKERS:
            calls = 4 * workers if per_worker else 4
            r = run(people, latency_ms / 1000, workers, calls, database_url)
            print(f"{workers:7}  {calls:9}  {r['wall']:8.2f}  {recipients / r['wall']:10,.0f}  "
                  f"{r['sends']:4}  {r['tokens']:8}  {r['duplicates']:10}  "
                  f"{'/'.join(map(str, r['shares']))}", flush=True)
            failed |= bool(r["duplicates"] or r["missed"] or r["tokens"] != 1)
    return 1 if failed else 0


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("recipients", nargs="?", type=int, default=100_000)
    parser.add_argument("latency_ms", nargs="?", type=float, default=50.0)
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    sys.exit(main(args.recipients, args.latency_ms, args.db))
