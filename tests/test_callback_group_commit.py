"""Callbacks that arrive together share one COMMIT (rows.GroupCommit), and a 200 still means
stored: each write gets its own result or error, one write's bad data fails alone, and the web
process killed with SIGKILL mid-storm loses nothing it answered 200 and counts nothing twice."""
import os
import signal
import sqlite3
import subprocess
import threading
import time
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
import requests
from sqlalchemy import text
from sqlalchemy.exc import IntegrityError, OperationalError

from dashboard.callback import rows, service, targets
from dashboard.extensions import db
from dashboard.models import CallbackLog, CardEvent
from dashboard.wecom.events import parse_event
from tests.campaign_factories import ROOT, wait_until
from tests.servers import free_port
from tests.test_callback import KEY_SET_N, callback_app, card_xml, counts, make_campaign, signed
from tests.test_serving import GUNICORN


@contextmanager
def held(app):
    """The app's GroupCommit with a write in progress: writes made meanwhile wait for the next
    leader, so they are committed together once the block ends. Yields (group, waiting count)."""
    gate, started = threading.Event(), threading.Event()

    def slow(conn):
        started.set()
        gate.wait(10)

    with app.app_context(), db.engine.connect() as conn:
        group = rows.group_for(conn)
    leader = threading.Thread(target=_write_on, args=(app, lambda conn: group.write(conn, slow)))
    leader.start()
    started.wait(10)
    try:
        yield group, lambda: len(group._waiting)
    finally:
        gate.set()
        leader.join(10)


def _write_on(app, write):
    with app.app_context(), db.engine.connect() as conn:
        return write(conn)


def together(app, writes):
    """Run each write(conn) in its own thread while a write is in progress: on SQLite they all
    queue and one leader commits them together; on PostgreSQL each commits on its own at once,
    while the first is still in progress. Their results (or errors), in order, and the group."""
    results = [None] * len(writes)

    def run(i):
        try:
            results[i] = _write_on(app, writes[i])
        except Exception as exc:  # noqa: BLE001 - the test looks at it
            results[i] = exc

    threads = [threading.Thread(target=run, args=(i,)) for i in range(len(writes))]
    with held(app) as (group, waiting):
        for thread in threads:
            thread.start()
        if group.together:
            wait_until(lambda: waiting() == len(writes), timeout=10)
        else:  # nobody waits for the write in progress
            for thread in threads:
                thread.join(10)
            assert not any(thread.is_alive() for thread in threads)
    for thread in threads:
        thread.join(10)
    return results, group


@pytest.fixture
def scratch(tmp_path):
    """An app with a table of unique names (dropped after: on PostgreSQL tests share a database)."""
    app = callback_app(tmp_path)
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP TABLE IF EXISTS scratch"))
        conn.execute(text("CREATE TABLE scratch (name VARCHAR(20) UNIQUE NOT NULL)"))
    yield app
    with app.app_context(), db.engine.begin() as conn:
        conn.execute(text("DROP TABLE scratch"))


def _names(app):
    with app.app_context(), db.engine.connect() as conn:
        return sorted(conn.execute(text("SELECT name FROM scratch")).scalars())


def _insert_row(conn, name):
    conn.exec_driver_sql("INSERT INTO scratch (name) VALUES (:n)" if conn.dialect.name == "sqlite"
                         else "INSERT INTO scratch (name) VALUES (%(n)s)", {"n": name})


def _insert(*names):
    """A write through the group: INSERT each name; its result says which thread ran it."""
    def write(conn):
        for name in names:
            _insert_row(conn, name)
        return names[0], threading.get_ident()
    return lambda conn: rows.group_for(conn).write(conn, write)


def test_writes_that_arrive_together_share_a_commit_on_sqlite_each_with_its_own_result(scratch):
    app = scratch
    results, group = together(app, [_insert(f"w{i}") for i in range(6)])
    assert [name for name, _ in results] == [f"w{i}" for i in range(6)]  # each caller its own result
    threads = {thread for _, thread in results}
    assert group.together == app.config["SQLALCHEMY_DATABASE_URI"].startswith("sqlite")
    assert len(threads) == (1 if group.together else 6)  # one leader ran them all, in one transaction
    assert _names(app) == [f"w{i}" for i in range(6)]


def test_one_writes_bad_data_fails_it_alone_and_the_others_are_stored(scratch):
    app = scratch
    _write_on(app, _insert("x"))
    results, _ = together(app, [_insert("a"), _insert("b", "x"), _insert("c")])
    assert results[0][0] == "a" and results[2][0] == "c"
    assert isinstance(results[1], IntegrityError)  # "x" is taken: b's write is undone whole
    assert _names(app) == ["a", "c", "x"]


def test_a_database_that_cannot_write_fails_every_write_of_its_commit(scratch):
    app = scratch

    def broken(conn):
        raise OperationalError("INSERT", {}, Exception("disk I/O error"))

    results, group = together(app, [_insert("a"), lambda conn: rows.group_for(conn).write(conn, broken),
                                     _insert("c")])
    assert isinstance(results[1], OperationalError)
    if group.together:  # nothing half-written: WeCom retries each after its 503
        assert all(isinstance(result, OperationalError) for result in results)
        assert _names(app) == []
    else:  # each its own commit
        assert _names(app) == ["a", "c"]


def test_the_same_event_twice_in_one_commit_is_stored_once_and_logged_as_a_duplicate(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    xml = card_xml(user="wangwu", selected={"q_lunch": ["opt_a"]})
    call = service.Call("sig", str(int(time.time())), "nonce", "127.0.0.1", time.perf_counter())

    def store(conn):
        target = targets.lookup(conn, "camp-1-b1")
        return service.store(conn, parse_event(xml), xml, call, target, "stored")

    assert sorted(together(app, [store, store, store])[0]) == [False, False, True]
    assert counts(app) == (1, 1, 1)
    with app.app_context():
        logged = sorted(db.session.scalars(db.select(CallbackLog.outcome)))
    assert logged == ["duplicate", "duplicate", "stored"]


def _in_main_file(app, tmp_path) -> list[str]:
    """The scratch names the database file itself holds, without its WAL: what was checkpointed."""
    copy = tmp_path / "main-file-only.sqlite"
    copy.write_bytes(Path(app.config["SQLALCHEMY_DATABASE_URI"].removeprefix("sqlite:///")).read_bytes())
    with closing(sqlite3.connect(copy)) as conn:
        try:
            return sorted(name for (name,) in conn.execute("SELECT name FROM scratch"))
        except sqlite3.OperationalError:  # the table itself is still only in the WAL
            return []


@pytest.mark.sqlite_only("the WAL and its checkpoints are SQLite's")
def test_a_groups_commits_reach_the_database_file_soon_off_the_write_lock(scratch, tmp_path, monkeypatch):
    """Far below the auto-checkpoint's mark, the thread copies the WAL within a fraction of a second;
    it ends when idle and starts again with the next commit."""
    monkeypatch.setattr(rows.Checkpoints, "IDLE", 0.5)
    app = scratch
    together(app, [_insert(f"w{i}") for i in range(3)])
    assert wait_until(lambda: _in_main_file(app, tmp_path) == ["w0", "w1", "w2"], timeout=10)
    with app.app_context(), db.engine.connect() as conn:
        checkpoints = rows.group_for(conn).checkpoints
    wait_until(lambda: checkpoints.thread is None, timeout=10)  # idle: the thread has ended
    _write_on(app, lambda conn: rows.group_for(conn).write(conn, lambda c: _insert_row(c, "again")))
    assert checkpoints.thread is not None
    assert wait_until(lambda: "again" in _in_main_file(app, tmp_path), timeout=10)
    with app.app_context():  # closing the connections (before a restore) stops the checkpoints at once
        db.engine.dispose()
    assert checkpoints.stopped and wait_until(lambda: checkpoints.thread is None or not checkpoints.thread.is_alive())
    _write_on(app, lambda conn: rows.group_for(conn).write(conn, lambda c: _insert_row(c, "after")))
    assert wait_until(lambda: "after" in _in_main_file(app, tmp_path), timeout=10)  # a new thread


# --- the web process killed mid-storm ------------------------------------------------------------

EVENTS, CLIENTS = 1200, 8


@contextmanager
def web_process(app, port, log):
    """gunicorn -c gunicorn.conf.py (2 workers, 4 threads) on the app's database, in its own
    process group; killed with SIGKILL at the end if still running."""
    env = {**os.environ, **KEY_SET_N, "GUNICORN_BIND": f"127.0.0.1:{port}", "WEB_CONCURRENCY": "2",
           "GUNICORN_THREADS": "4", "SECRET_KEY": app.config["SECRET_KEY"],
           "DATABASE_URL": app.config["SQLALCHEMY_DATABASE_URI"], "TASK_QUEUE_URL": app.config["TASK_QUEUE_URL"]}
    server = subprocess.Popen([GUNICORN, "-c", "gunicorn.conf.py", "wsgi:app"], cwd=ROOT, env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        wait_until(lambda: _pinged(port), timeout=30)
        yield server
    finally:
        if server.poll() is None:
            os.killpg(server.pid, signal.SIGKILL)
            server.wait(10)


def _pinged(port):
    try:
        return requests.get(f"http://127.0.0.1:{port}/wecom/ping", timeout=2).status_code == 200
    except requests.RequestException:
        return False


def storm(port, events, kill_after=None, server=None):
    """POST every (user, query, body) from CLIENTS keep-alive clients; with ``kill_after``, SIGKILL
    the web process once that many were answered 200. The users answered 200."""
    answered, lock, position = set(), threading.Lock(), iter(events)

    def client():
        with requests.Session() as session:
            while True:
                with lock:
                    event = next(position, None)
                if event is None:
                    return
                user, query, body = event
                try:
                    status = session.post(f"http://127.0.0.1:{port}/wecom/callback", params=query,
                                          data=body, timeout=10).status_code
                except requests.RequestException:
                    continue  # the server is gone: WeCom would retry it later
                if status == 200:
                    with lock:
                        answered.add(user)

    threads = [threading.Thread(target=client) for _ in range(CLIENTS)]
    for thread in threads:
        thread.start()
    if kill_after:
        wait_until(lambda: len(answered) >= kill_after, timeout=60)
        os.killpg(server.pid, signal.SIGKILL)
    for thread in threads:
        thread.join(60)
    return answered


def stored_users(app):
    with app.app_context():
        return list(db.session.scalars(db.select(CardEvent.from_user)))


@pytest.mark.slow
def test_the_web_process_killed_mid_storm_loses_nothing_it_answered_and_counts_nothing_twice(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    now = int(time.time())
    events = [(f"user{i:05d}", *signed(card_xml(user=f"user{i:05d}", create_time=now - i % 30, code=f"RC-{i}",
                                                 selected={"q_lunch": ["opt_a"]})))
              for i in range(EVENTS)]
    with open(tmp_path / "web.log", "wb") as log:
        port = free_port()
        with web_process(app, port, log) as server:
            answered = storm(port, events, kill_after=EVENTS // 3, server=server)
            server.wait(10)
        before = stored_users(app)
        assert EVENTS // 3 <= len(answered) < EVENTS  # killed mid-storm
        assert answered <= set(before)  # every 200 was committed before it was sent
        assert len(before) == len(set(before))
        port = free_port()
        with web_process(app, port, log):  # back up: WeCom retries every one of them
            retried = storm(port, events)
    assert retried == {user for user, *_ in events}
    after = stored_users(app)
    assert sorted(after) == sorted(user for user, *_ in events)  # each exactly once
    assert counts(app) == (EVENTS, EVENTS, EVENTS)  # its option and response code once too
