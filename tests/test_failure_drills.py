"""Failure drills: what WeCom and the people see when the disk, the database or WeCom fails, and
that nothing is lost or sent twice once it recovers.

(a) The database read-only: the app opens the SQLite file with ``mode=ro``, so SQLite itself
    refuses every write (SQLITE_READONLY), as on a read-only file or mount. chmod cannot stage
    this in CI, which runs as root (root writes through file modes) and may not mount file
    systems. tests/test_callback.py::test_database_unavailable_answers_503_and_the_retry_is_stored
    drills the same 503 with ``PRAGMA query_only`` on every connection.
(b) The disk full: ``PRAGMA max_page_count`` at the file's current size on every connection, so
    the next page SQLite needs fails with SQLITE_FULL ("database or disk is full").
(c) The worker killed mid-batch (SIGKILL of a real worker process, then a new one):
    tests/test_campaigns_delivery.py::test_worker_killed_mid_campaign_resumes_with_nothing_twice_and_nothing_skipped
    and, for the batch it leaves 'sending', test_a_batch_left_sending_by_a_dead_worker.
(d) WeCom unreachable (connection refused): the campaign waits, says why, and completes when
    WeCom is back.
"""
from collections import Counter

import pytest
from sqlalchemy import event as sa_event

from dashboard import tasks
from dashboard.extensions import db
from tests.campaign_factories import make_campaign, send_now, status_of, wait_until, wired_app
from tests.conftest import PASSWORD
from tests.fake_wecom import FakeWeCom
from tests.test_callback import callback_app, card_xml, counts, make_campaign as callback_campaign
from tests.test_callback import outcomes, post, signed

MANY = {"q_lunch": [f"opt_{n:03d}_{'x' * 40}" for n in range(100)]}  # a vote of a few pages


def replayed_once(app, query, body, stored: tuple) -> None:
    """WeCom's retry of the very same signed request, after recovery: stored once, then a no-op."""
    client = app.test_client()
    for _ in range(2):
        assert post(client, query=query, body=body).status_code == 200
        assert counts(app) == stored


@pytest.mark.sqlite_only("opens the SQLite file read-only")
def test_read_only_database_answers_503_and_the_retry_after_recovery_is_stored(tmp_path, caplog):
    app = callback_app(tmp_path)
    callback_campaign(app)
    read_only = callback_app(tmp_path, SQLALCHEMY_DATABASE_URI=f"sqlite:///file:{tmp_path / 'test.sqlite'}"
                                                              "?mode=ro&uri=true")
    query, body = signed(card_xml(selected={"q_lunch": ["opt_a", "opt_b"]}))
    response = post(read_only.test_client(), query=query, body=body)
    assert response.status_code == 503 and b"retry" in response.data
    assert "attempt to write a readonly database" in caplog.text
    assert counts(app) == (0, 0, 0)
    with read_only.app_context():
        db.engine.dispose()
    replayed_once(app, query, body, (1, 2, 1))
    assert [outcome for outcome, _, _ in outcomes(app)] == ["stored", "duplicate"]


@pytest.mark.sqlite_only("fills the SQLite file with PRAGMA max_page_count")
def test_disk_full_answers_503_with_no_partial_rows_and_the_retry_is_stored_once(tmp_path, caplog):
    app = callback_app(tmp_path)
    callback_campaign(app)

    def full_disk(connection, _record):  # the file may not grow past its current size
        pages = connection.execute("PRAGMA page_count").fetchone()[0]
        connection.execute(f"PRAGMA max_page_count = {pages}")

    with app.app_context():
        db.engine.dispose()
        sa_event.listen(db.engine, "connect", full_disk)
        query, body = signed(card_xml(selected=MANY))
        response = post(app.test_client(), query=query, body=body)
        sa_event.remove(db.engine, "connect", full_disk)
        db.engine.dispose()  # space freed
    assert response.status_code == 503 and "database or disk is full" in caplog.text
    assert counts(app) == (0, 0, 0)  # the event, its 100 selections, its code: all or nothing
    replayed_once(app, query, body, (1, 100, 1))


def waiting_page(client, cid: int) -> str | None:
    """The campaign page once it says a batch waits for a retry."""
    html = client.get(f"/campaigns/{cid}").get_data(as_text=True)
    return html if "Waiting: retry" in html else None


def test_wecom_unreachable_the_campaign_waits_says_why_and_completes_when_back(tmp_path):
    fake = FakeWeCom(users=["lisi", "wangwu"]).start()
    app = wired_app(tmp_path, fake, CAMPAIGN_MAX_ATTEMPTS=20, CAMPAIGN_RETRY_BASE=0.1)
    fake.stop()  # connection refused from now on
    client = app.test_client()
    client.post("/login", data={"username": "staff", "password": PASSWORD})
    with app.app_context():
        cid = send_now(make_campaign({"users": ["lisi", "wangwu"]}))
    try:
        with tasks.running(app):
            page = wait_until(lambda: waiting_page(client, cid))
            assert "No answer from WeCom (timeout or connection failure), resumes" in page
            assert status_of(app, cid) == "sending" and not fake.deliveries
            fake.start()
            wait_until(lambda: status_of(app, cid) == "sent")
    finally:
        fake.stop()
    assert fake.deliveries == Counter(["lisi", "wangwu"])
    assert "Waiting" not in client.get(f"/campaigns/{cid}/progress").get_json()["state"]
    with app.app_context():
        db.engine.dispose()
