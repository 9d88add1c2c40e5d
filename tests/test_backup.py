"""`flask backup`: a consistent copy of the live SQLite database while callbacks keep arriving,
and the README's restore procedure (stop, copy the file back) giving a working app."""
import shutil
import sqlite3
import threading
from pathlib import Path

import pytest
from sqlalchemy.engine import make_url

from dashboard import backup, create_app
from dashboard.extensions import db
from dashboard.models import CardEvent, ResponseCode
from dashboard.callback import rollup
from tests.campaign_factories import wait_until
from tests.test_callback import KEY_SET_N, card_xml, make_campaign, post


def migrated_app(tmp_path, database: Path):
    """An app on a database built by the migrations, as in production."""
    app = create_app({"TESTING": True, "SECRET_KEY": "x", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{database}",
                      "INSTANCE_PATH": str(tmp_path / "instance"), **KEY_SET_N})
    result = app.test_cli_runner().invoke(args=["db", "upgrade"])
    assert result.exit_code == 0, result.output
    return app


def stored_users(path: Path) -> list[str]:
    with sqlite3.connect(path) as conn:
        events = [row[0] for row in conn.execute("SELECT from_user FROM card_event ORDER BY id")]
        logged = conn.execute("SELECT count(*) FROM callback_log").fetchone()[0]
    assert logged == len(events)  # each callback's event and log row commit together: none torn
    return events


def schema_and_events(app) -> tuple[str, int]:
    """The Alembic revision and the events, read through the app."""
    with app.app_context():
        return (db.session.scalar(db.text("SELECT version_num FROM alembic_version")),
                db.session.scalar(db.select(db.func.count()).select_from(CardEvent)))


def test_backup_during_callbacks_is_consistent_and_restores(tmp_path):
    live = tmp_path / "live.sqlite"
    app = migrated_app(tmp_path, live)
    make_campaign(app)
    stop, sent = threading.Event(), []

    def callbacks():  # WeCom posting votes, one after another
        client = app.test_client()
        while not stop.is_set():
            user = f"w{len(sent) + 1}"
            assert post(client, card_xml(user=user, code=f"RC-{user}")).status_code == 200
            sent.append(user)

    writer = threading.Thread(target=callbacks)
    writer.start()
    try:
        wait_until(lambda: len(sent) >= 20)
        result = app.test_cli_runner().invoke(args=["backup", str(tmp_path), "--verify"])
        during = len(sent)
        wait_until(lambda: len(sent) >= during + 20)  # the writes went on
    finally:
        stop.set()
        writer.join()
    assert result.exit_code == 0, result.output
    assert "tables" in result.output and "rows" in result.output and "integrity_check: ok" in result.output
    (copy,) = tmp_path.glob("dashboard-*Z.sqlite")
    assert str(copy) in result.output and not list(tmp_path.glob(".*.tmp"))
    users = stored_users(copy)
    assert users == sent[:len(users)] and 20 <= len(users) < len(sent)  # a prefix of the writes

    copied = create_app({"SECRET_KEY": "x" * 32, "SQLALCHEMY_DATABASE_URI": f"sqlite:///{copy}",
                         "INSTANCE_PATH": str(tmp_path / "instance")})
    assert schema_and_events(copied) == (schema_and_events(app)[0], len(users))
    with copied.app_context():  # the roll-up adds each copied event's response code to the ledger
        assert rollup.catch_up() == len(users)
        assert db.session.scalar(db.select(db.func.count()).select_from(ResponseCode)) == len(users)

    with app.app_context():  # restore as the README says: stop, copy the file back, drop -wal/-shm
        db.engine.dispose()
    shutil.copyfile(copy, live)
    for sidecar in ("-wal", "-shm"):
        Path(f"{live}{sidecar}").unlink(missing_ok=True)
    restored = migrated_app(tmp_path, live)
    assert post(restored.test_client(), card_xml(user="after", code="RC-after")).status_code == 200
    assert schema_and_events(restored)[1] == len(users) + 1
    with copied.app_context(), restored.app_context():
        db.engine.dispose()


@pytest.mark.sqlite_only("the online backup API copies SQLite files; PostgreSQL gets the pg_dump advice")
def test_backup_to_a_file_and_the_errors_people_make(app, runner, tmp_path):
    result = runner.invoke(args=["backup", str(tmp_path / "copy.sqlite")])
    assert result.exit_code == 0 and "integrity_check" not in result.output, result.output
    assert sqlite3.connect(tmp_path / "copy.sqlite").execute("SELECT count(*) FROM user").fetchone() == (3,)
    live = make_url(app.config["SQLALCHEMY_DATABASE_URI"]).database
    for path, message in ((live, "cannot overwrite the live database"),
                          (str(tmp_path / "missing" / "x.sqlite"), "No directory")):
        result = runner.invoke(args=["backup", path])
        assert result.exit_code == 1 and message in result.output


@pytest.mark.parametrize("url", ["postgresql://dash:secret@db.example:5432/dash",
                                 "postgresql+psycopg://dash@db.example/dash"])
def test_postgresql_is_told_the_pg_dump_command_without_the_password(url):
    advice = backup.pg_dump_advice(make_url(url))
    assert "pg_dump --format=custom" in advice and "pg_restore" in advice
    assert "secret" not in advice and "'postgresql://dash@db.example" in advice
