"""Each test's database: a SQLite file in its tmp_path or, with ``pytest --db postgresql``, a
database of its own on a throwaway PostgreSQL server, cloned from a template holding the schema
(``CREATE DATABASE ... TEMPLATE`` copies files: far quicker than creating the tables)."""
from __future__ import annotations

import hashlib
import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url

from scripts.throwaway_postgres import throwaway_postgres

TEMPLATE = "template_schema"


class Postgres:
    """The session's server: an admin connection, the template, and the databases made per test."""

    def __init__(self, url: str, admin):
        self.url, self.admin, self.made = make_url(url).set(drivername="postgresql+psycopg"), admin, []

    def create(self, name: str, template: str = "template0") -> str:
        if name not in self.made:
            self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE "{template}"')
            self.made.append(name)
        return self.url.set(database=name).render_as_string(hide_password=False)

    def drop_made(self) -> None:
        """Drop the test's databases, ending sessions its apps or threads left open."""
        while self.made:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.made.pop()}" WITH (FORCE)')


_stack = ExitStack()
_postgres: Postgres | None = None


def start_postgres() -> None:
    """Start the session's server and build the template from the models."""
    global _postgres
    import psycopg

    from dashboard import create_app
    from dashboard.extensions import db

    url = _stack.enter_context(throwaway_postgres())
    postgres = Postgres(url, _stack.enter_context(psycopg.connect(url, autocommit=True)))
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "INSTANCE_PATH": _stack.enter_context(tempfile.TemporaryDirectory()),
                      "SQLALCHEMY_DATABASE_URI": postgres.create(TEMPLATE)})
    with app.app_context():
        db.create_all()
        db.engine.dispose()
    postgres.made.remove(TEMPLATE)  # kept for the whole session
    _postgres = postgres


def stop_postgres() -> None:
    _stack.close()


def on_postgres() -> bool:
    return _postgres is not None


def database_url(tmp_path: Path, *, empty: bool = False) -> str:
    """The URL of this test's database (one per tmp_path); ``empty``: one without tables."""
    if _postgres is None:
        return f"sqlite:///{tmp_path / ('empty.sqlite' if empty else 'test.sqlite')}"
    name = ("e_" if empty else "t_") + hashlib.sha1(str(tmp_path).encode()).hexdigest()[:20]
    return _postgres.create(name, "template0" if empty else TEMPLATE)


@contextmanager
def unavailable(engine):
    """The app's database refuses writes (SQLite) or connections (PostgreSQL) inside the block."""
    engine.dispose()
    if _postgres is None:
        def read_only(connection, _record):
            connection.execute("PRAGMA query_only=ON")

        event.listen(engine, "connect", read_only)
        try:
            yield
        finally:
            event.remove(engine, "connect", read_only)
            engine.dispose()
        return
    name = engine.url.database
    _postgres.admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS false')
    _postgres.admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = %s", [name])
    try:
        yield
    finally:
        _postgres.admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        engine.dispose()


def drop_test_databases() -> None:
    if _postgres is not None:
        _postgres.drop_made()
