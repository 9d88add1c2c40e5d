"""Issue 28, point 4: login throttling slows attackers, not owners.

Failures count per account, per address and per (account, address) pair, atomically in the
database; delays grow per pair; a locked state says so, with its minutes. Addresses come from
X-Forwarded-For behind one trusted proxy, as in production behind nginx.
"""
import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from werkzeug.serving import make_server

from dashboard.auth.service import create_user
from dashboard.extensions import db
from dashboard.models import AuditLog
from tests.conftest import PASSWORD, make_app
from tests.servers import free_port

WRONG = "Wrong username or password."
ATTACKER, OWNER, OTHERS = "203.0.113.9", "198.51.100.7", ("192.0.2.1", "192.0.2.2", "192.0.2.3")
FAST = {"LOGIN_SLOW_SECONDS": 0.01, "LOGIN_SLOW_MAX": 0.05, "TRUSTED_PROXIES": 1}


def throttled_app(tmp_path, **overrides):
    app = make_app(tmp_path, **{**FAST, **overrides})
    with app.app_context():
        create_user("staff", "staff", PASSWORD, actor="test")
        db.session.commit()
    return app


def attempt(client, password, address, username="staff", **headers):
    """(signed in, the page's words) of one login attempt from address."""
    response = client.post("/login", data={"username": username, "password": password},
                           headers={"X-Forwarded-For": address, **headers})
    return response.status_code == 302, response.get_data(as_text=True)


def actions(app, action):
    with app.app_context():
        return db.session.scalar(db.select(db.func.count()).select_from(AuditLog).filter_by(action=action))


def test_an_attackers_ten_wrong_passwords_do_not_lock_the_owner_out(tmp_path):
    app = throttled_app(tmp_path)
    attacker, owner = app.test_client(), app.test_client()
    for n in range(10):
        signed_in, page = attempt(attacker, f"guess-{n}", ATTACKER)
        assert not signed_in and WRONG in page
    signed_in, page = attempt(attacker, PASSWORD, ATTACKER)  # the 11th, right or not: locked
    assert not signed_in and "Too many attempts; try again in 15 minutes." in page and WRONG not in page
    assert attempt(owner, PASSWORD, OWNER)[0]  # the owner, from their own address, signs in
    assert actions(app, "login_failed") == 10 and actions(app, "login_refused") == 1


@pytest.mark.parametrize("window, words", [(900, "try again in 15 minutes."), (120, "try again in 2 minutes."),
                                           (60, "try again in 1 minute.")])
def test_the_locked_state_says_so_with_its_minutes(tmp_path, window, words):
    app = throttled_app(tmp_path, LOGIN_REFUSE_AFTER=2, LOGIN_WINDOW=window)
    client = app.test_client()
    attempt(client, "wrong", ATTACKER), attempt(client, "wrong", ATTACKER)
    signed_in, page = attempt(client, PASSWORD, ATTACKER)
    assert not signed_in and f"Too many attempts; {words}" in page


def test_the_locked_state_says_so_in_chinese(tmp_path):
    """The locked state in Chinese, from dashboard/translations/zh."""
    app = throttled_app(tmp_path, LOGIN_REFUSE_AFTER=1, DEFAULT_LANGUAGE="zh")
    client = app.test_client()
    attempt(client, "wrong", ATTACKER, **{"Accept-Language": "zh-CN"})
    signed_in, page = attempt(client, PASSWORD, ATTACKER, **{"Accept-Language": "zh-CN"})
    assert not signed_in and "尝试次数过多，请 15 分钟后再试。" in page


def test_forty_parallel_attempts_get_no_more_password_checks_than_allowed(tmp_path):
    """Every attempt is counted before its check, atomically: 40 at once over real HTTP (one
    thread each in the server) get exactly LOGIN_REFUSE_AFTER checks; the rest are locked."""
    app, port = throttled_app(tmp_path, LOGIN_REFUSE_AFTER=10), free_port()
    server = make_server("127.0.0.1", port, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    start = threading.Barrier(40)

    def one(n):
        start.wait()
        return requests.post(f"http://127.0.0.1:{port}/login", allow_redirects=False, timeout=30,
                             data={"username": "staff", "password": f"guess-{n}"},
                             headers={"X-Forwarded-For": ATTACKER})

    try:
        with ThreadPoolExecutor(40) as pool:
            pages = [response.text for response in pool.map(one, range(40))]
    finally:
        server.shutdown()
    assert actions(app, "login_failed") == 10 and actions(app, "login_refused") == 30
    assert sum("Too many attempts" in page for page in pages) == 30


def test_one_address_failing_on_many_accounts_is_locked_out_of_all(tmp_path):
    app = throttled_app(tmp_path, LOGIN_IP_REFUSE_AFTER=5)
    client = app.test_client()
    for name in ("a", "b", "c", "d", "e"):
        assert not attempt(client, "wrong", ATTACKER, username=name)[0]
    signed_in, page = attempt(client, PASSWORD, ATTACKER)
    assert not signed_in and "Too many attempts" in page
    assert attempt(client, PASSWORD, OWNER)[0]


def test_an_account_attacked_from_many_addresses_locks_out_only_the_failing_ones(tmp_path):
    app = throttled_app(tmp_path, LOGIN_SLOW_AFTER=2, LOGIN_ACCOUNT_REFUSE_AFTER=6)
    client = app.test_client()
    for address in OTHERS:
        attempt(client, "wrong-1", address), attempt(client, "wrong-2", address)
    signed_in, page = attempt(client, PASSWORD, OTHERS[0])  # failing here: locked, right or not
    assert not signed_in and "Too many attempts" in page
    assert attempt(client, PASSWORD, OWNER)[0]  # an address that has not been failing: checked


def test_delays_grow_per_pair_and_a_success_starts_the_pair_afresh(tmp_path):
    app = throttled_app(tmp_path, LOGIN_SLOW_AFTER=1, LOGIN_REFUSE_AFTER=4, LOGIN_SLOW_SECONDS=0.2,
                        LOGIN_SLOW_MAX=10.0)
    client = app.test_client()
    waits = []
    for n in range(3):
        started = time.monotonic()
        attempt(client, f"wrong-{n}", OWNER)
        waits.append(time.monotonic() - started)
    assert waits[1] >= 0.2 and waits[2] >= 0.4  # after the first failure 0.2 s, then doubled
    assert attempt(client, PASSWORD, OWNER)[0]  # the 4th: 3 failures, not yet locked
    for n in range(3):
        attempt(client, f"wrong-again-{n}", OWNER)
    assert attempt(client, PASSWORD, OWNER)[0]  # counted afresh after the success: 3 again, not 7


def test_a_lock_ends_with_its_window(tmp_path):
    app = throttled_app(tmp_path, LOGIN_REFUSE_AFTER=1, LOGIN_WINDOW=1)
    client = app.test_client()
    attempt(client, "wrong", ATTACKER)
    assert "Too many attempts" in attempt(client, PASSWORD, ATTACKER)[1]
    time.sleep(1.1)
    assert attempt(client, PASSWORD, ATTACKER)[0]
