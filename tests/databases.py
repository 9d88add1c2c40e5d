"""Each test's database: a SQLite file in its tmp_path or, with ``pytest --db postgresql``, one
database on a throwaway PostgreSQL server that is emptied after every test.

Emptying (ending the sessions left open, DELETE from every table, sequences back to 1) takes a
few milliseconds; a database per test (CREATE DATABASE ... TEMPLATE, DROP) took some 40 times
as long, minutes over the suite. So on PostgreSQL every app a test makes shares that database."""
from __future__ import annotations

import tempfile
from contextlib import ExitStack, contextmanager
from pathlib import Path

from sqlalchemy import event
from sqlalchemy.engine import make_url

from scripts.throwaway_postgres import throwaway_postgres

SHARED = "tests"


class Postgres:
    """The session's server: an admin connection, the shared database and how to empty it."""

    def __init__(self, url: str, admin):
        self.url, self.admin = make_url(url), admin
        self.made, self.cleaner, self.emptying = [], None, ""

    def url_of(self, name: str, driver: str = "postgresql+psycopg") -> str:
        return self.url.set(drivername=driver, database=name).render_as_string(hide_password=False)

    def create(self, name: str) -> str:
        self.admin.execute(f'CREATE DATABASE "{name}" TEMPLATE template0')
        return self.url_of(name)

    def end_sessions(self, name: str) -> None:
        """End every session on the database but the cleaner's, releasing their locks."""
        self.admin.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> %s", [name, self.cleaner.info.backend_pid])

    def after_test(self) -> None:
        while self.made:
            self.admin.execute(f'DROP DATABASE IF EXISTS "{self.made.pop()}" WITH (FORCE)')
        # Always: an app kept by a module-scoped fixture writes in later tests too
        self.end_sessions(SHARED)
        self.cleaner.execute(self.emptying)


_stack = ExitStack()
_postgres: Postgres | None = None


def start_postgres() -> None:
    """Start the session's server and make the shared database's tables from the models."""
    global _postgres
    import psycopg

    from dashboard import create_app
    from dashboard.extensions import db

    url = _stack.enter_context(throwaway_postgres())
    postgres = Postgres(url, _stack.enter_context(psycopg.connect(url, autocommit=True)))
    app = create_app({"TESTING": True, "SECRET_KEY": "x",
                      "INSTANCE_PATH": _stack.enter_context(tempfile.TemporaryDirectory()),
                      "SQLALCHEMY_DATABASE_URI": postgres.create(SHARED)})
    with app.app_context():
        db.create_all()
        tables = [table.name for table in reversed(db.metadata.sorted_tables)]  # children first
        sequences = db.session.scalars(db.text("SELECT sequencename FROM pg_sequences")).all()
        db.engine.dispose()
    postgres.emptying = "; ".join([f'DELETE FROM "{table}"' for table in tables] +
                                  [f"SELECT setval('\"{name}\"', 1, false)" for name in sequences])
    postgres.cleaner = _stack.enter_context(psycopg.connect(postgres.url_of(SHARED, "postgresql"),
                                                            autocommit=True))
    _postgres = postgres


def stop_postgres() -> None:
    _stack.close()


def on_postgres() -> bool:
    return _postgres is not None


def database_url(tmp_path: Path, *, empty: bool = False) -> str:
    """The URL of the test's database; ``empty``: a new one without tables."""
    if _postgres is None:
        return f"sqlite:///{tmp_path / ('empty.sqlite' if empty else 'test.sqlite')}"
    if empty:
        _postgres.made.append(f"empty_{len(_postgres.made)}")
        return _postgres.create(_postgres.made[-1])
    return _postgres.url_of(SHARED)


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
    _postgres.admin.execute(f'ALTER DATABASE "{SHARED}" ALLOW_CONNECTIONS false')
    _postgres.end_sessions(SHARED)
    try:
        yield
    finally:
        _postgres.admin.execute(f'ALTER DATABASE "{SHARED}" ALLOW_CONNECTIONS true')
        engine.dispose()


def after_test() -> None:
    if _postgres is not None:
        _postgres.after_test()
