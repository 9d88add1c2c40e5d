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

``--against-peer`` (issue 27) measures ours side by side with the plain receiver an integrator
would write (bench/peer_callback.py) and a route answering "ok", all three under
``gunicorn -c gunicorn.conf.py`` with its defaults (2 workers here, gthread, 4 threads; or
``--server-threads 1``: sync workers), the same pre-encrypted vote events from 8 keep-alive
clients, in alternating rounds; it prints each round, the median ratios ours/peer and ours/ping,
the p99 latency of each, and checks that both stored every event exactly once. With
``--mode message`` the same comparison sends members' TEXT messages instead: both sides have the
same 1,000 keyword rules, store each message once by its MsgId and answer it with the matching
rule's encrypted passive reply; it checks that every message was stored once and answered by its
rule on both sides, and that a retried message gets the same reply from each.

``--mode message`` (issue 26) seeds 1,000 enabled keyword rules as well (whole keywords,
contained keywords and RE2 patterns, a third each, two triggers a rule) and adds a phase of N
encrypted TEXT messages from members, each matching one rule and answered with its encrypted
passive reply; it prints the callback's own time per event (the server's CPU) for card events
and for messages side by side, and their ratio (target: a message at most 2x a card event).
"""
from __future__ import annotations

import argparse
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack, contextmanager
from pathlib import Path
from urllib.parse import urlencode

from sqlalchemy import create_engine, text

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from dashboard.config import with_driver  # noqa: E402
from dashboard.wecom.crypto import CallbackCrypto  # noqa: E402
from dashboard.wecom.replies import event_xml, to_xml  # noqa: E402
from dashboard.wecom.xmlsafe import parse_xml  # noqa: E402

TOKEN, AES_KEY, CORP = "CampaignTok3n", "03VqSMYhl5vWmK5DSEbeykJ3sNEENDrQyaXRvLUmPYI", "ww0123456789abcdef"
TASKS = {"bench-plain-b1": None, "bench-reply-b1": {"mode": "button", "replace_name": "已选择：{option}"}}
VOTE = {"card_type": "vote_interaction", "main_title": {"title": "Lunch?"},
        "checkbox": {"question_key": "q_lunch", "mode": 1, "option_list": [
            {"id": "opt_a", "text": "A", "is_checked": False},
            {"id": "opt_b", "text": "B", "is_checked": False}]},
        "submit_button": {"text": "Vote", "key": "submit_vote"}}
TARGET_RATE, TARGET_RATIO = 1000, 0.25
MESSAGES, RULES, TARGET_MESSAGE_RATIO = "messages", 1000, 2.0  # --mode message
WARM_UP, WARM_UP_TASK = 200, "bench-warm-up-b1"  # --mode message: unmeasured requests of each kind first


def environment(tmp: Path, port: int, database_url: str) -> dict:
    return {**os.environ, "DATABASE_URL": database_url, "SECRET_KEY": "bench-only-" + "0" * 32,
            "WECOM_CORP_ID": CORP, "WECOM_AGENT_ID": "1000002", "WECOM_SECRET": "bench",
            "WECOM_TOKEN": TOKEN, "WECOM_AES_KEY": AES_KEY, "WECOM_CALLBACK_MAX_AGE": "300",
            "TASK_QUEUE_URL": f"sqlite:///{tmp / 'queue.sqlite'}",
            "DASHBOARD_URL": f"http://127.0.0.1:{port}", "LOG_LEVEL": "WARNING"}


def seed(env: dict, rules: int = 0) -> list[int]:
    """A fresh schema (flask db upgrade), one sent vote campaign per task id in TASKS, and
    ``rules`` enabled keyword rules (``rule_triggers``); the rules' ids, in order."""
    flask = [str(ROOT / ".venv/bin/flask"), "--app", "wsgi", "db", "upgrade"]
    subprocess.run(flask, cwd=ROOT, env=env, check=True, capture_output=True, timeout=120)
    os.environ.update(env)
    from dashboard import create_app
    from dashboard.extensions import db
    from dashboard.models import Campaign, Card, CardVersion, ReplyRule, SendBatch

    app = create_app()
    with app.app_context():
        for task_id, after_click in {**TASKS, WARM_UP_TASK: None}.items():
            version = CardVersion(card=Card(name=task_id, card_type="vote_interaction"), number=1,
                                  template_card=VOTE, after_click=after_click)
            campaign = Campaign(name=task_id, card_version=version, recipients={"all": True}, status="sent")
            db.session.add(SendBatch(campaign=campaign, number=1, task_id=task_id, status="done"))
        made = [ReplyRule(name=f"rule {i}", priority=100 + i % 7, triggers=rule_triggers(i),
                          replies=[{"type": "text", "text": f"回复 {i}"}]) for i in range(rules)]
        db.session.add_all(made)
        db.session.commit()
        ids = [rule.id for rule in made]
        db.engine.dispose()
    return ids


def rule_triggers(i: int) -> list[dict]:
    """Rule i's two triggers: whole keywords, contained keywords or patterns, by i % 3."""
    return [[{"match": "whole", "text": f"报修{i:04d}"}, {"match": "whole", "text": f"repair {i:04d}"}],
            [{"match": "contains", "text": f"请假{i:04d}号"}, {"match": "contains", "text": f"leave{i:04d}x"}],
            [{"match": "pattern", "text": rf"^(查询|查)?订单\s*0*{i}$"},
             {"match": "pattern", "text": rf"(?i)^order\s+#?0*{i}\b"}]][i % 3]


def message_text(i: int) -> str:
    """A member's words that rule i (and no other) answers."""
    return [f"报修{i:04d}", f"你好，我想请假{i:04d}号，可以吗？", f"查询订单 {i:04d}"][i % 3]


def requests_bytes(n: int, port: int, task_id: str) -> list[bytes]:
    """N distinct signed vote events as raw HTTP requests (different user, time and code each)."""
    crypto, now, out = CallbackCrypto(TOKEN, AES_KEY, CORP), int(time.time()), []
    for i in range(n):
        xml = event_xml(to_user=CORP, from_user=f"user{i:06d}", create_time=now - i % 60,
                        event_key="submit_vote", task_id=task_id, card_type="vote_interaction",
                        response_code=f"{task_id}-{i:08d}", agent_id=1000002,
                        selected={"q_lunch": ["opt_a"] if i % 3 else ["opt_a", "opt_b"]})
        out.append(http_post(crypto, xml, port))
    return out


def message_requests(n: int, port: int, who: str = "member") -> list[bytes]:
    """N distinct signed TEXT messages (different member and MsgId each); message i asks
    rule i * 7 % RULES, so every kind of trigger is asked in turn."""
    crypto, now = CallbackCrypto(TOKEN, AES_KEY, CORP), int(time.time())
    first = 7_000_000_000_000_000 if who == "member" else 8_000_000_000_000_000
    return [http_post(crypto, to_xml({
        "ToUserName": CORP, "FromUserName": f"{who}{i:06d}", "CreateTime": now - i % 60, "MsgType": "text",
        "Content": message_text(i * 7 % RULES), "MsgId": first + i, "AgentID": 1000002}), port)
        for i in range(n)]


def http_post(crypto: CallbackCrypto, xml: str, port: int) -> bytes:
    """The raw HTTP request WeCom would send for ``xml``."""
    query, body = crypto.encrypt_message(xml, agent_id=1000002)
    head = (f"POST /wecom/callback?{urlencode(query)} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
            f"Content-Type: text/xml\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n")
    return head.encode() + body


def call(port: int, request: bytes) -> tuple[int, float]:
    """Send one request and read the response; (HTTP status, seconds)."""
    start = time.perf_counter()
    response = exchange(port, request)
    elapsed = time.perf_counter() - start
    return int(response[9:12] or 0), elapsed


def exchange(port: int, request: bytes) -> bytes:
    """The response to one request on a new connection, closing the connection once the whole
    body is in, as HTTP clients do."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:  # no name lookup per request
        sock.settimeout(30)
        sock.connect(("127.0.0.1", port))
        sock.sendall(request)
        response = b""
        while not complete(response) and (chunk := sock.recv(65536)):
            response += chunk
    return response


def passive_reply(port: int, request: bytes) -> str | None:
    """The Content of the encrypted passive reply to one message (None for an empty answer)."""
    body = exchange(port, request).partition(b"\r\n\r\n")[2]
    if not body:
        return None
    envelope = parse_xml(body)["xml"]
    return parse_xml(CallbackCrypto(TOKEN, AES_KEY, CORP).decrypt_ciphertext(envelope["Encrypt"]))["xml"].get("Content")


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


def run(port: int, requests: list[bytes], threads: int, connection=None) -> tuple[float, list[int], list[float]]:
    """All requests from ``threads`` threads; (seconds, statuses, latencies). Each thread opens a
    connection per request, or keeps its own ``connection(port)`` (KeepAlive) open."""
    statuses, latencies, lock, position = [], [], threading.Lock(), iter(range(len(requests)))

    def worker():
        kept = connection(port) if connection else None
        try:
            while True:
                with lock:
                    index = next(position, None)
                if index is None:
                    return
                status, elapsed = kept.call(requests[index]) if kept else call(port, requests[index])
                with lock:
                    statuses.append(status)
                    latencies.append(elapsed)
        finally:
            if kept:
                kept.close()

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
               "-b", f"127.0.0.1:{port}", "--max-requests", "0",  # no recycling: a worker's CPU would leave the count
               "--log-level", "warning", "--error-logfile", str(log), "wsgi:app"]
    server = subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                              stderr=subprocess.DEVNULL)
    return answering(server, port, "/wecom/ping", log)


def answering(server: subprocess.Popen, port: int, path: str, log: Path) -> subprocess.Popen:
    """The server, once ``GET path`` answers 200 (within 30 s; else it is stopped)."""
    ping = f"GET {path} HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n".encode()
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if call(port, ping)[0] == 200:
                return server
        except OSError:
            time.sleep(0.1)
    server.terminate()
    raise SystemExit(f"gunicorn did not answer on port {port}; see {log}")


def server_cpu(master: int) -> dict[int, float]:
    """CPU seconds used so far by each gunicorn worker (children of ``master``); Linux only."""
    used = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[1]) == master:  # ppid; then utime + stime
            used[int(stat.parent.name)] = (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    return used


def phase(server, port: int, requests: list[bytes], threads: int) -> dict:
    """Rate, statuses, latencies and server CPU ms per request of one batch of requests (no CPU
    figure when a worker was replaced meanwhile: its CPU left with it)."""
    before = server_cpu(server.pid)
    seconds, statuses, latencies = run(port, requests, threads)
    after = server_cpu(server.pid)
    same = before and before.keys() == after.keys()
    cpu = (sum(after.values()) - sum(before.values())) / len(requests) * 1000 if same else None
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


MEMBERS = "userid like 'member%'"  # the measured messages, not the warm-up's


def answered(database_url: str, rule_ids: list[int], n: int) -> tuple[int, int, int, int]:
    """(messages stored, distinct dedupe keys, passive answers, messages answered by the rule
    they were meant for) of the message phase."""
    meant = {f"member{i:06d}": rule_ids[i * 7 % RULES] for i in range(n)}
    engine = create_engine(with_driver(database_url))
    with engine.connect() as conn:
        counts = tuple(conn.execute(text(sql)).scalar_one() for sql in (
            f"select count(*) from conversation_message where {MEMBERS} and direction = 'in'",
            f"select count(distinct dedupe_key) from conversation_message where {MEMBERS} and direction = 'in'",
            f"select count(*) from conversation_message where {MEMBERS} and direction = 'out' and via = 'passive'"))
        right = sum(meant.get(userid) == rule_id for userid, rule_id in conn.execute(text(
            f"select userid, rule_id from conversation_message where {MEMBERS} and direction = 'in' and answered")))
    engine.dispose()
    return (*counts, right)


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
    parser.add_argument("--server-threads", type=int, default=None,
                        help="threads per gunicorn worker (1: sync workers; default 1, and with "
                             "--against-peer gunicorn.conf.py's 4)")
    parser.add_argument("--db", choices=("sqlite", "postgresql"), default="sqlite",
                        help="SQLite (WAL) in a temp file, or a throwaway PostgreSQL server")
    parser.add_argument("--mode", choices=("card", "message"), default="card",
                        help=f"card: card events; message: also text messages against {RULES:,} keyword "
                             "rules, the callback's time for each side by side (issue 26)")
    parser.add_argument("--against-peer", action="store_true",
                        help="ours, the plain receiver and an ok route side by side (issue 27)")
    parser.add_argument("--rounds", type=int, default=6, help="--against-peer: rounds of each, 2..20")
    args = parser.parse_args()
    if args.against_peer:
        return against_peer(args)
    args.server_threads = args.server_threads or 1
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
        rule_ids = seed(env, RULES if args.mode == "message" else 0)
        batches = {task_id: requests_bytes(n, port, task_id) for task_id in TASKS}
        if args.mode == "message":
            batches[MESSAGES] = message_requests(n, port)
        server = start_server(env, port, tmp / "gunicorn.log", args.workers, args.server_threads)
        try:
            ping_request = f"GET /wecom/ping HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\nConnection: close\r\n\r\n"
            ping = phase(server, port, [ping_request.encode()] * n, args.threads)
            if args.mode == "message":  # each worker connected, its statements and rules compiled
                run(port, requests_bytes(WARM_UP, port, WARM_UP_TASK) + message_requests(WARM_UP, port, "warmup"),
                    args.threads)
            results = {task: phase(server, port, batch, args.threads) for task, batch in batches.items()}
            retries = [r for batch in batches.values() for r in batch[: n // 10]]  # WeCom's retries
            retried = phase(server, port, retries, args.threads)
            replies = [passive_reply(port, request) for request in batches.get(MESSAGES, [])[:3]]  # retried
        finally:
            server.terminate()
            server.wait(timeout=30)
        folded = roll_up()
        counts = {task_id: stored(database_url, task_id) for task_id in TASKS}
        if args.mode == "message":
            counts[MESSAGES] = answered(database_url, rule_ids, n)
    status = summary(args, n, ping, results, retried, counts, folded)
    return side_by_side(results, counts, retried, replies, n) if args.mode == "message" else status


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
    plain, with_reply = results["bench-plain-b1"], results["bench-reply-b1"]
    exact = report("stored (no after-click reply)", plain, ping, counts["bench-plain-b1"], n)
    exact &= report("stored + encrypted reply", with_reply, ping, counts["bench-reply-b1"], n)
    exact &= set(retried["statuses"]) == {200} and set(ping["statuses"]) == {200}
    print(f"{'retries (a tenth again)':30s}: {len(retried['statuses'])} answered "
          f"{sorted(set(retried['statuses']))}; " + ("nothing stored twice" if exact else "SEE ABOVE"))
    ok = exact and plain["rate"] >= TARGET_RATE and plain["rate"] / ping["rate"] >= TARGET_RATIO
    print(f"targets (>= {TARGET_RATE} stored events/s and >= {TARGET_RATIO} of ping, none lost or "
          f"duplicated): {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


def exact_cards(counts: dict, n: int) -> bool:
    """Every card event stored exactly once, its options and code counted."""
    selections = sum(1 if i % 3 else 2 for i in range(n))
    return all(counts[task_id] == (n, n, selections, n) for task_id in TASKS)


def side_by_side(results: dict, counts: dict, retried: dict, replies: list, n: int) -> int:
    """Print the card events' and the text messages' figures side by side; 0 when a message
    costs the callback at most TARGET_MESSAGE_RATIO times a plain card event, and every event and
    message was stored once (retries too) and each message answered by its rule."""
    columns = {"card event": results["bench-plain-b1"], "card + reply": results["bench-reply-b1"],
               "text message": results[MESSAGES]}
    print(f"\n{'':30s}" + "".join(f"  {name:>14s}" for name in columns)
          + f"   (messages: {RULES:,} rules, whole, contains, pattern; answered by a passive reply)")
    print(f"{'events/s':30s}" + "".join(f"  {result['rate']:14.0f}" for result in columns.values()))
    for q in (50, 99):
        print(f"{f'p{q} ms':30s}" + "".join(f"  {pct(result['latencies'], q):14.1f}" for result in columns.values()))
    cpu = all(result["cpu"] for result in columns.values())  # else a worker was replaced, or no /proc
    own = [result["cpu"] if cpu else pct(result["latencies"], 50) for result in columns.values()]
    measure = "server CPU ms/event" if cpu else "p50 ms (no CPU figure)"
    print(f"{'callback: ' + measure:30s}" + "".join(f"  {value:14.2f}" for value in own))
    ratio = own[2] / own[0]
    messages, meant = counts[MESSAGES], [f"回复 {i * 7 % RULES}" for i in range(len(replies))]
    exact = (messages == (n, n, n, n) and set(columns["text message"]["statuses"]) == {200}
             and set(retried["statuses"]) == {200} and replies == meant and exact_cards(counts, n))
    print(f"{'messages':30s}: {messages[0]} stored for {n} sent, {messages[1]} distinct keys, {messages[2]} "
          f"passive replies, {messages[3]} answered by the rule meant; retried replies {replies}: "
          f"{'exactly once, right rule' if exact else 'WRONG'}")
    ok = exact and ratio <= TARGET_MESSAGE_RATIO
    print(f"a message costs the callback {ratio:.2f}x a card event ({own[2] / own[1]:.2f}x one with a reply); "
          f"target <= {TARGET_MESSAGE_RATIO:g}x, none lost, duplicated or misanswered: {'met' if ok else 'NOT met'}")
    return 0 if ok else 1


# --- issue 27: ours against the plain receiver -------------------------------------------------

CLIENTS = 8  # keep-alive clients, as a load balancer or WeCom's senders hold connections open


class KeepAlive:
    """One client's HTTP/1.1 connection, kept open between requests (opened again when the
    server closes it, as sync workers do after each answer)."""

    def __init__(self, port: int) -> None:
        self.port, self.sock = port, None

    def call(self, request: bytes) -> tuple[int, float]:
        start = time.perf_counter()
        for fresh in (False, True):
            if self.sock is None or fresh:
                self.close()
                self.sock = socket.create_connection(("127.0.0.1", self.port), timeout=30)
            try:
                self.sock.sendall(request)
                response = b""
                while not complete(response):
                    chunk = self.sock.recv(65536)
                    if not chunk:
                        raise ConnectionError("closed")
                    response += chunk
            except OSError:
                if fresh:
                    raise
                continue  # a kept connection the server had closed: once more on a new one
            if b"connection: close" in response.partition(b"\r\n\r\n")[0].lower():
                self.close()
            return int(response[9:12] or 0), time.perf_counter() - start
        raise AssertionError("unreachable")

    def close(self) -> None:
        if self.sock is not None:
            self.sock.close()
            self.sock = None


def kept_alive(request: bytes) -> bytes:
    return request.replace(b"Connection: close", b"Connection: keep-alive")


def keep_alive_round(server: subprocess.Popen, port: int, requests: list[bytes]) -> dict:
    """All requests from CLIENTS keep-alive clients; rate, statuses, latencies, and the server's
    CPU µs per request (None when a worker was recycled meanwhile)."""
    before = server_cpu(server.pid)
    seconds, statuses, latencies = run(port, requests, CLIENTS, KeepAlive)
    after = server_cpu(server.pid)
    cpu = (sum(after.values()) - sum(before.values())) / len(requests) * 1e6 if before.keys() == after.keys() else None
    return {"rate": len(requests) / seconds, "statuses": statuses, "latencies": latencies, "cpu": cpu}


def gunicorn(app_path: str, env: dict, port: int, threads: int, log: Path) -> subprocess.Popen:
    """``gunicorn -c gunicorn.conf.py`` with its defaults but for 2 workers and the port (and the
    thread count, when asked); its access log to nowhere."""
    env = {**env, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           "GUNICORN_THREADS": str(threads)}
    server = subprocess.Popen([str(ROOT / ".venv/bin/gunicorn"), "-c", "gunicorn.conf.py",
                               "--error-logfile", str(log), app_path], cwd=ROOT, env=env,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return answering(server, port, "/ok" if "peer" in app_path else "/wecom/ping", log)


def peer_rows(url: str) -> tuple[int, int]:
    """(rows, distinct keys) the plain receiver stored."""
    engine = create_engine(with_driver(url))
    with engine.connect() as conn:
        rows = conn.execute(text("select count(*) from event")).scalar_one()
        keys = conn.execute(text("select count(*) from (select distinct from_user, create_time, task_id,"
                                 " event_key from event) k")).scalar_one()
    engine.dispose()
    return rows, keys


def peer_messages(url: str, n: int) -> tuple[int, int, int, int]:
    """(messages stored, distinct MsgIds, replies stored, replies from the rule each message was
    meant for) the plain receiver stored of the measured messages."""
    meant = {f"member{i:06d}": f"回复 {i * 7 % RULES}" for i in range(n)}
    engine = create_engine(with_driver(url))
    with engine.connect() as conn:
        rows = conn.execute(text("select from_user, msg_id, reply from message where from_user like 'member%'")).all()
    engine.dispose()
    return (len(rows), len({row.msg_id for row in rows}), sum(row.reply is not None for row in rows),
            sum(meant.get(row.from_user) == row.reply for row in rows))


def against_peer(args) -> int:
    rounds, n = max(2, min(args.rounds, 20)), max(100, min(args.events, 20_000))
    task, messages, total = next(iter(TASKS)), args.mode == "message", rounds * n
    with ExitStack() as stack:
        tmp = Path(stack.enter_context(tempfile.TemporaryDirectory(prefix="bench-peer-")))
        ours_port, peer_port = free_port(), free_port()
        if args.db == "postgresql":
            from scripts.throwaway_postgres import throwaway_postgres

            server_url = stack.enter_context(throwaway_postgres(fast=False))  # durable defaults
            ours_url = server_url
            peer_url = create_database(server_url, "peer")
        else:
            ours_url, peer_url = f"sqlite:///{tmp / 'ours.sqlite'}", f"sqlite:///{tmp / 'peer.sqlite'}"
        env = environment(tmp, ours_port, ours_url)
        rule_ids = seed(env, RULES if messages else 0)
        peer_env = {**env, "PEER_DATABASE_URL": peer_url}
        if messages:  # the same rules for the peer, in a file it reads at start
            (tmp / "rules.json").write_text(json.dumps(
                [{"triggers": rule_triggers(i), "reply": f"回复 {i}"} for i in range(RULES)], ensure_ascii=False))
            peer_env["PEER_RULES"] = str(tmp / "rules.json")
            made = message_requests(total, ours_port)
            warm_up = [kept_alive(r) for r in message_requests(WARM_UP, ours_port, "warmup")]
        else:
            made, warm_up = requests_bytes(total, ours_port, task), []
        events = [kept_alive(r) for r in made]
        ok = kept_alive(f"GET /ok HTTP/1.1\r\nHost: 127.0.0.1:{peer_port}\r\n\r\n".encode())
        threads = args.server_threads or 4
        kind = f"text messages against {RULES:,} keyword rules" if messages else "vote events"
        print(f"{rounds} rounds of {n:,} {kind} each, {CLIENTS} keep-alive clients, gunicorn -c "
              f"gunicorn.conf.py (2 workers, {threads} thread(s)), {args.db}")
        with running(gunicorn("wsgi:app", env, ours_port, threads, tmp / "ours.log")) as ours, \
                running(gunicorn("bench.peer_callback:app", peer_env, peer_port, threads, tmp / "peer.log")) as peer:
            for server, port in ((ours, ours_port), (peer, peer_port)) if warm_up else ():
                keep_alive_round(server, port, warm_up)  # connections, statements, rules compiled
            print("round   ours ev/s   peer ev/s   ok req/s   ours/peer   ours/ok   server CPU µs/request: ours"
                  "   peer      ok")
            try:
                ratios, latencies = rounds_of(rounds, n, events, ok, (ours, ours_port), (peer, peer_port))
            except SystemExit:  # a server answered other than 200: what its log says, then stop
                for side in ("ours", "peer"):
                    print(f"--- the end of {side}.log\n{(tmp / f'{side}.log').read_text()[-3000:]}", file=sys.stderr)
                raise
            replies = [passive_reply(port, made[0]) for port in (ours_port, peer_port)] if messages else []
        if messages:
            counts_ours, counts_peer = answered(ours_url, rule_ids, total), peer_messages(peer_url, total)
            exact = counts_ours == counts_peer == (total,) * 4 and replies == ["回复 0"] * 2
        else:
            counts_ours, counts_peer = stored(ours_url, task)[:2], peer_rows(peer_url)
            exact = counts_ours == (total, total) and counts_peer == (total, total)
    print(f"median ours/peer {statistics.median(r[0] for r in ratios):.2f}   "
          f"median ours/ok {statistics.median(r[1] for r in ratios):.2f}")
    print(f"p99 latency: ours {pct(latencies['ours'], 99):.1f} ms, peer {pct(latencies['peer'], 99):.1f} ms;"
          f" p50: ours {pct(latencies['ours'], 50):.1f} ms, peer {pct(latencies['peer'], 50):.1f} ms")
    print(f"stored: ours {counts_ours[0]:,} rows, {counts_ours[1]:,} distinct; peer {counts_peer[0]:,} rows, "
          f"{counts_peer[1]:,} distinct, of {total:,} {'messages' if messages else 'events'}: "
          f"{'exactly once' if exact else 'LOST OR DUPLICATED'}")
    if messages:
        print(f"answered by the rule meant: ours {counts_ours[3]:,}, peer {counts_peer[3]:,}; "
              f"a retried first message answered: ours {replies[0]!r}, peer {replies[1]!r}")
    return 0 if exact else 1


def rounds_of(rounds: int, n: int, events: list[bytes], ok: bytes, ours: tuple, peer: tuple):
    """Each round: n events to ours and the same n to the peer, and n oks, the order of ours and
    the peer alternating; prints the round. ``ours`` and ``peer`` are (server, port). Returns
    ([(ours/peer, ours/ok)], latencies by side)."""
    ratios, latencies = [], {"ours": [], "peer": []}
    for r in range(rounds):
        batch = events[r * n:(r + 1) * n]
        sides = [("ours", ours, batch), ("peer", peer, batch)]
        results = {}
        for name, (server, port), requests in [*(sides if r % 2 == 0 else sides[::-1]), ("ok", peer, [ok] * n)]:
            results[name] = keep_alive_round(server, port, requests)
            if set(results[name]["statuses"]) != {200}:
                raise SystemExit(f"round {r + 1}: {name} answered {sorted(set(results[name]['statuses']))}")
        for name in latencies:
            latencies[name] += results[name]["latencies"]
        rate = {name: result["rate"] for name, result in results.items()}
        ratios.append((rate["ours"] / rate["peer"], rate["ours"] / rate["ok"]))
        cpu = "   ".join(f"{results[name]['cpu']:7.0f}" if results[name]["cpu"] else "      -"
                       for name in ("ours", "peer", "ok"))
        print(f"{r + 1:5}   {rate['ours']:9.0f}   {rate['peer']:9.0f}   {rate['ok']:8.0f}   "
              f"{ratios[-1][0]:9.2f}   {ratios[-1][1]:7.2f}   {cpu}", flush=True)
    return ratios, latencies


def create_database(server_url: str, name: str) -> str:
    """A second database on the throwaway server, for the plain receiver."""
    engine = create_engine(with_driver(server_url), isolation_level="AUTOCOMMIT")
    with engine.connect() as conn:
        conn.execute(text(f"create database {name}"))
    engine.dispose()
    return server_url.rsplit("/", 1)[0] + f"/{name}"


@contextmanager
def running(server: subprocess.Popen):
    try:
        yield server
    finally:
        server.terminate()
        server.wait(timeout=30)


if __name__ == "__main__":
    sys.exit(main())

