"""The callback on PostgreSQL: its connections (rows.connection), kept from one callback to the
next without the pool's ping, replaced when the server closed them, never left inside a
transaction, closed by engine.dispose(); and its rows written by one statement
(rows.OneStatement). On SQLite each callback checks a connection out, as before."""
import logging
import time

import pytest
from sqlalchemy import event

from dashboard.callback import rows
from dashboard.extensions import db
from dashboard.models import CardEvent
from tests import databases
from tests.test_callback import callback_app, card_xml, counts, make_campaign, outcomes, post

postgresql_only = pytest.mark.skipif(not databases.on_postgres(), reason="kept connections: not on SQLite")


def state_of(pid: int) -> str | None:
    """The state of a session of the tests' database ('idle', 'idle in transaction' ...), None
    once it is gone. (Sessions ended after earlier tests may linger a moment: ask by pid.)"""
    row = databases._postgres.admin.execute("SELECT state FROM pg_stat_activity WHERE pid = %s", [pid]).fetchone()
    return row[0] if row else None


def gone(pid: int, within: float = 10.0) -> bool:
    """Whether the session ends (its backend exits a moment after the client closes)."""
    deadline = time.monotonic() + within
    while state_of(pid) is not None:
        if time.monotonic() > deadline:
            return False
        time.sleep(0.02)
    return True


def backend_pid(conn) -> int:
    return conn.execute(db.select(db.func.pg_backend_pid())).scalar_one()


def test_callbacks_in_a_row_check_out_one_connection_on_postgresql_and_one_each_on_sqlite(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    checkouts = []
    with app.app_context():
        event.listen(db.engine, "checkout", lambda *args: checkouts.append(1))
    client = app.test_client()
    for user in ("u1", "u2", "u3", "u4", "u5"):
        assert post(client, card_xml(user=user, code=f"RC-{user}")).status_code == 200
    assert len(checkouts) == (1 if databases.on_postgres() else 5)
    assert counts(app)[0] == 5


@postgresql_only
def test_a_kept_connection_the_server_closed_is_replaced_and_the_event_stored_once(tmp_path, caplog):
    caplog.set_level(logging.INFO, logger="dashboard.callback.service")
    app = callback_app(tmp_path)
    make_campaign(app)
    client = app.test_client()
    assert post(client, card_xml(user="u1", code="RC-1")).status_code == 200
    databases._postgres.end_sessions(databases.SHARED)  # a restart, as the callback's connection sees it
    assert post(client, card_xml(user="u2", code="RC-2")).status_code == 200
    assert counts(app)[0] == 2
    assert [outcome for outcome, _, _ in outcomes(app)] == ["stored", "stored"]
    assert "once more on a new one" in caplog.text
    assert post(client, card_xml(user="u2", code="RC-2"), nonce="2").status_code == 200  # and the retry
    assert counts(app)[0] == 2


@postgresql_only
def test_no_transaction_is_left_open_between_callbacks(tmp_path):
    """A handler that reads after its COMMIT (a duplicate's stored reply, the after-click job's
    event id) leaves Core's transaction open; the kept connection is rolled back first."""
    app = callback_app(tmp_path)
    with app.app_context():
        with rows.connection(db.engine) as conn:
            assert conn.execute(db.select(db.func.count()).select_from(CardEvent)).scalar_one() == 0
            assert conn.in_transaction()
            pid = conn.connection.driver_connection.info.backend_pid
        assert state_of(pid) == "idle"
        with rows.connection(db.engine) as again:
            assert again is conn and not again.in_transaction()  # kept, and clean


@postgresql_only
def test_dispose_closes_the_kept_connections(tmp_path):
    app = callback_app(tmp_path)
    make_campaign(app)
    assert post(app.test_client(), card_xml()).status_code == 200
    with app.app_context():
        with rows.connection(db.engine) as conn:  # the callback's, kept
            pid = backend_pid(conn)
        db.session.remove()
        db.engine.dispose()
    assert gone(pid)
    assert post(app.test_client(), card_xml(user="u2", code="RC-2")).status_code == 200  # and opens anew
    assert counts(app)[0] == 2



@postgresql_only
def test_one_statement_writes_what_core_writes_in_order_and_only_the_log_row_for_a_taken_key(tmp_path):
    from dashboard.callback import journal, service
    from dashboard.models import CallbackLog, ResponseCode, utcnow

    app = callback_app(tmp_path)
    now = utcnow()
    event = {"dedupe_key": "k", "from_user": "张三", "msg_type": "event", "selected": {"q": ["a", "选"]},
             "create_time": 1, "xml": "<xml/>", "received_at": now, "rolled_up": False}
    codes = [service.code_row(f"RC-{i}", None, None, "张三", "callback", now) for i in range(3)]
    entry = {"received_at": now, "method": "POST", "outcome": "stored", "http_status": 200, "duration_ms": 1.5}
    write = rows.OneStatement()
    insert_event, insert_code = rows.RowInsert(CardEvent.__table__, skip_conflicts_on="dedupe_key"), \
        rows.RowInsert(ResponseCode.__table__, skip_conflicts_on="code")
    with app.app_context():
        with db.engine.begin() as conn:  # the same rows through Core, to compare with
            conn.execute(CardEvent.__table__.insert(), {**event, "dedupe_key": "core"})
        with rows.connection(db.engine) as conn:
            assert write(conn, (insert_event, event), (journal.INSERT, entry), [(insert_code, c) for c in codes])
            assert not write(conn, (insert_event, event), (journal.INSERT, entry), [(insert_code, codes[0])])
            assert not conn.in_transaction()
        raw = db.session.connection().exec_driver_sql("select * from card_event order by id").all()
        assert [r[2:] for r in raw[:1]] == [r[2:] for r in raw[1:]]
        assert db.session.scalars(db.select(ResponseCode.code).order_by(ResponseCode.id)).all() == \
            ["RC-0", "RC-1", "RC-2"]  # one each, in the order given
        assert db.session.scalars(db.select(CallbackLog.outcome).order_by(CallbackLog.id)).all() == \
            ["stored", "duplicate"]
