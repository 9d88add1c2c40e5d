"""Callback throughput under gunicorn (2 workers) with SQLite in a temp file or PostgreSQL, on 127.0.0.1.

Run from the repo root: ``.venv/bin/python bench/bench_callback.py [--events 5000] [--threads 4]``;
``--db postgresql`` runs the same on a throwaway PostgreSQL server (scripts/throwaway_postgres.py).

It upgrades a fresh database, seeds two sent vote campaigns (one without after-click settings,
one whose clicks get an encrypted "已选择：{option}" passive reply), starts
``gunicorn -w 2 wsgi:app``, and then, from several client threads:

1. GETs the trivial ``/wecom/ping`` N times: the same server's ceiling in the same run;
2. POSTs N distinct, validly signed vote events to the first campaign (fresh timestamps, the
   300 s replay check on), timing each request; then N to the second campaign;
3. POSTs a tenth of them again (WeCom's retries) and checks every event is stored exactly once,
   after the roll-up the worker would run (it writes out each event's options and response code).

It prints stored events/s, p50 and p99, the ping rate and the ratio, and the server's CPU per
request (Linux; steadier than rates on a busy machine), and whether the targets hold for plain
storing: at least 1,000 stored events/s and 0.25 of the ping rate, none lost, none duplicated.
The client writes HTTP/1.1 on raw sockets, so most of the measured CPU is the server's.
"""
from __future__ import annotations

import argparse
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.config import with_driver  # noqa: E402
from dashboard.wecom.crypto import CallbackCrypto  # noqa: E402
from dashboard.wecom.replies import event_xml  # noqa: E402

TOKEN, AES_KEY, CORP = "CampaignTok3n", "03VqSMYhl5vWmK5DSEbeykJ3sNEENDrQyaXRvLUmPYI", "ww0123456789abcdef"
TASKS = {"bench-plain-b1": None, "bench-reply-b1": {"mode": "button", "replace_name": "已选择：{option}"}}
VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q_lunch", "mode": 1, "option_list": [
            {"id": "opt_a", "text": "A", "is_checked": False},
            {"id": "opt_b", "text": "B", "is_checked": False}]},
        "submit_button": {"text": "Vote", "key": "submit_vote"}}
TARGET_RATE, TARGET_RATIO = 1000, 0.25


def environment(tmp: Path, port: int, database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench",
            "WECOM_CORP_ID": CORP, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "bench",
            "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "WECOM_CALLBACK_MAX_AGE": "300",
            "TASK_QUEUE_URL": f"sqlite:///{tmp / 'queue.sqlite'}",
            "DASHBOARD_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}


def seed(env: dict) -> None:
    """A fresh schema (flask db upgrade) and one sent vote campaign per task id in TASKS."""
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    os.environ.update(env)
    from dashboard import create_app
    from dashboard.extensions import db
    from dashboard.models import Campaign, Card, CardVersion, SendBatch

    app = create_app()
    with app.app_context():
        for task_id, after_click in TASKS.items():
            version = CardVersion(card=Card(name=task_id, card_type="vote_interaction"), number=1,
                                  template_card=VOTE, after_click=after_click)
            campaign = Campaign(name=task_id, card_version=version, recipients={"all": True}, status="sent")
            db.session.add(SendBatch(campaign=campaign, number=1, task_id=task_id, status="done"))
        db.session.commit()
        db.engine.dispose()


def requests_bytes(n: int, port: int, task_id: str) -> list[bytes]:
    """N distinct signed vote events as raw HTTP requests (different user, time and code each)."""
    crypto, now, out = CallbackCrypto(TOKEN, AES_KEY, CORP), int(time.time()), []
    for i in range(n):
        xml = event_xml(to_user=CORP, from_user=f"user{i:06d}", create_time=now - i % 60,
                        event_key="submit_vote", task_id=task_id, card_type="vote_interaction",
                        response_code=f"{task_id}-{i:08d}", agent_id=1000002,
                        selected={"q_lunch": ["opt_a"] if i % 3 else ["opt_a", "opt_b"]})
        query, body = crypto.encrypt_message(xml, agent_id=1000002)
        head = (f"POST /wecom/callback?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
                f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
        out.append(head.encode() + body)
    return out


def call(port: int, request: bytes) -> tuple[int, float]:
    """Send one request on a new connection and read the response, closing the connection once
    the whole body is in, as HTTP clients do; (HTTP status, seconds)."""
    start = time.perf_counter()
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # no name lookup per request
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        response = b""
        while not complete(response) and (chunk := sock.recv(65536)):
            response += chunk
    elapsed = time.perf_counter() - start
    return int(response[9:12] or 0), elapsed


def complete(response: bytes) -> bool:
    """Whether ``response`` holds the headers and as many body bytes as Content-Length says."""
    head, blank, body = response.partition(b"\r\n\r\n")
    if not blank:
        return False
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            return len(body) >= int(value)
    return False  # no length: the body ends when the server closes


def run(port: int, requests: list[bytes], threads: int) -> tuple[float, list[int], list[float]]:
    """All requests from ``threads`` threads; (seconds, statuses, latencies)."""
    statuses, latencies, lock, position = [], [], threading.Lock(), iter(range(len(requests)))

    def worker():
        while True:
            with lock:
                index = next(position, None)
            if index is None:
                return
            status, elapsed = call(port, requests[index])
            with lock:
                statuses.append(status)
                latencies.append(elapsed)

    pool = [threading.Thread(target=worker) for _ in range(threads)]
    start = time.perf_counter()
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return time.perf_counter() - start, statuses, latencies


def start_server(env: dict, port: int, log: Path, workers: int, threads: int) -> subprocess.Popen:
    command = [str(ROOT / ".venv/bin/gunicorn"), "-w", str(workers), "--threads", str(threads),
               "--worker-class", "sync" if threads == 1 else "gthread",
               "-b", f"127.0.0.1:{port}",
               "--log-level", "warning", "--error-logfile", str(log), "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    ping = b"GET /wecom/ping HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n"
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, ping)[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer on port {port}; see {log}")


def server_cpu(master: int) -> float | None:
    """CPU seconds used so far by the gunicorn workers (children of ``master``); Linux only."""
    total, found = 0.0, False
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid
            total, found = total + int(fields[11]) + int(fields[12]), True  # utime + stime
    return total / os.sysconf("SC_CLK_TCK") if found else None


def phase(server, port: int, requests: list[bytes], threads: int) -> dict:
    """Rate, statuses, latencies and server CPU ms per request of one batch of requests."""
    before = server_cpu(server.pid)
    seconds, statuses, latencies = run(port, requests, threads)
    after = server_cpu(server.pid)
    cpu = (after - before) / len(requests) * 1000 if None not in (before, after) else None
    return {"rate": len(requests) / seconds, "statuses": statuses, "latencies": latencies, "cpu": cpu}


def stored(database_url: str, task_id: str) -> tuple[int, int, int, int]:
    """(events, distinct dedupe keys, options chosen, response codes) of one task id."""
    engine = create_engine(with_driver(database_url))
    with engine.connect() as conn:
        counts = tuple(conn.execute(text(sql), {"task": task_id}).scalar_one() for sql in (
            "select count(*) from card_event where task_id = :task",
            "select count(distinct dedupe_key) from card_event where task_id = :task",
            "select count(*) from event_selection s join card_event e on e.id = s.event_id"
            " where e.task_id = :task",
            "select count(*) from response_code where code like :task || '-%'"))
    engine.dispose()
    return counts


def pct(values: list[float], q: int) -> float:
    return statistics.quantiles(values, n=100, method="inclusive")[q - 1] * 1000


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def report(label: str, result: dict, ping: dict, counts: tuple, n: int) -> bool:
    """Print one phase; True when every event was answered 200 and stored exactly once."""
    lat, cpu = result["latencies"], result["cpu"]
    selections = sum(1 if i % 3 else 2 for i in range(n))
    exact = counts == (n, n, selections, n) and set(result["statuses"]) == {200}
    print(f"{label:30s}: {result['rate']:6.0f} events/s  p50 {pct(lat, 50):5.1f} ms"
          f"  p99 {pct(lat, 99):6.1f} ms  ratio to ping {result['rate'] / ping['rate']:.2f}"
          + (f"  server CPU {cpu:.2f} ms/req (ping {ping['cpu']:.2f})" if cpu and ping["cpu"] else ""))
    print(f"{'':30s}  {counts[0]} rows for {n} events, {counts[1]} distinct keys, {counts[2]}/{selections} "
          f"options chosen, {counts[3]} codes, statuses {sorted(set(result['statuses']))}: "
          f"{'exactly once' if exact else 'LOST OR DUPLICATED'}")
    return exact


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=5000, help="per phase, 100..50000")
    parser.add_argument("--threads", type=int, default=4,
                        help="client threads; 4 keeps both sync workers busy, more only queue and "
                             "contend for the 2 cores the client shares with the server")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers (the target is for 2)")
    parser.add_argument("--server-threads", type=int, default=1,
                        help="threads per gunicorn worker (gunicorn.conf.py's default is 4; 1: sync workers)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="SQLite (WAL) in a temp file, or a throwaway PostgreSQL server")
    args = parser.parse_args()
    n = max(100, min(args.events, 50_000))
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-callback-")))
        port = free_port()
        if args.db == "postgresql":
            from scripts.throwaway_postgres import throwaway_postgres

            database_url = stack.enter_context(throwaway_postgres(fast=False))  # durable defaults
        else:
            database_url = f"sqlite:///{tmp / 'bench.sqlite'}"
        env = environment(tmp, port, database_url)
        seed(env)
        batches = {task_id: requests_bytes(n, port, task_id) for task_id in TASKS}
        server = start_server(env, port, tmp / "gunicorn.log", args.workers, args.server_threads)
        try:
            ping_request = f"GET /wecom/ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            ping = phase(server, port, [ping_request.encode()] * n, args.threads)
            results = {task: phase(server, port, batch, args.threads) for task, batch in batches.items()}
            retries = [r for batch in batches.values() for r in batch[: n // 10]]  # WeCom's retries
            retried = phase(server, port, retries, args.threads)
        finally:
            server.terminate()
            server.wait(timeout=30)
        folded = roll_up()
        counts = {task_id: stored(database_url, task_id) for task_id in TASKS}
    return summary(args, n, ping, results, retried, counts, folded)


def roll_up() -> tuple[int, float]:
    """What the worker's sweep does after the callbacks: count the events into the report
    summaries, their options and response codes included; (events, seconds)."""
    from dashboard import create_app
    from dashboard.extensions import db
    from dashboard.callback import rollup

    app, start = create_app(), time.perf_counter()
    with app.app_context():
        folded = rollup.catch_up()
        db.engine.dispose()
    return folded, time.perf_counter() - start


def summary(args, n: int, ping: dict, results: dict, retried: dict, counts: dict, folded: tuple) -> int:
    """Print the figures; 0 when the targets hold for plain storing."""
    database = {"sqlite": "SQLite (WAL) in a temp file",
                "postgresql": "PostgreSQL (throwaway server, default durability)"}[args.db]
    print(f"gunicorn -w {args.workers} --threads {args.server_threads}, {database}, {args.threads} client threads on "
          f"127.0.0.1, {n} events per phase; load average {os.getloadavg()[0]:.1f} on {os.cpu_count()} CPUs")
    print(f"{'trivial GET /wecom/ping':30s}: {ping['rate']:6.0f} req/s")
    print(f"{'roll-up after the phases':30s}: {folded[0]:,} events in {folded[1]:.1f} s (the worker's sweep; it "
          "writes out each event's options and response code, counted below)")
    plain, with_reply = results.values()
    exact = report("stored (no after-click reply)", plain, ping, counts["bench-plain-b1"], n)
    exact &= report("stored + encrypted reply", with_reply, ping, counts["bench-reply-b1"], n)
    exact &= set(retried["statuses"]) == {200} and set(ping["statuses"]) == {200}
    print(f"{'retries (a tenth again)':30s}: {len(retried['statuses'])} answered "
          f"{sorted(set(retried['statuses']))}; " + ("nothing stored twice" if exact else "SEE ABOVE"))
    ok = exact and plain["rate"] >= TARGET_RATE and plain["rate"] / ping["rate"] >= TARGET_RATIO
    print(f"targets (>= {TARGET_RATE} stored events/s and >= {TARGET_RATIO} of ping, none lost or "
          f"duplicated): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
