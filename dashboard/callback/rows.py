"""Writing the callback's rows fast: whole-row INSERTs through the driver and, on SQLite, one
writer at a time.

Each statement is compiled once by SQLAlchemy for the database's dialect and its values go
through the column types' own bind processors, so the rows are exactly what Core writes (a test
compares them, on SQLite and PostgreSQL); only Core's per-execution machinery, which cost more
than SQLite itself, is skipped. On SQLite that also shortens the time the write lock is held;
on PostgreSQL (psycopg) an INSERT and COMMIT take about 240 µs of the worker's CPU instead of
370. Measured with bench/bench_callback.py.
"""
from __future__ import annotations

import threading
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own polling only
    fcntl = None


class RowInsert:
    """``INSERT INTO table (every column but id) VALUES (...)``, optionally skipping a row whose
    ``skip_conflicts_on`` column already holds the value."""

    def __init__(self, table: Table, *, skip_conflicts_on: str | None = None):
        self.table, self.skip_conflicts_on = table, skip_conflicts_on
        self.columns = [c.key for c in table.columns if c.key != "id"]
        self._compiled: dict[str, tuple] = {}

    def __call__(self, conn, row: dict) -> None:
        """Insert ``row`` (missing columns are NULL) in the connection's transaction; commit with
        :func:`commit`. Driver errors come out as SQLAlchemy's (IntegrityError ...), as from Core."""
        sql, names, processors, positional = self._for(conn.dialect)
        values = [p(row.get(n)) if p else row.get(n) for n, p in zip(names, processors)]
        params = values if positional else dict(zip(names, values))
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql, params)
        except dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect) from None
        finally:
            cursor.close()

    def _for(self, dialect) -> tuple:
        if dialect.name not in self._compiled:
            compiled = self._statement(dialect).compile(dialect=dialect, column_keys=self.columns)
            names = list(compiled.positiontup) if compiled.positional else self.columns
            types = {c.key: c.type for c in self.table.columns}
            processors = [types[n].dialect_impl(dialect).bind_processor(dialect) for n in names]
            self._compiled[dialect.name] = (compiled.string, names, processors, compiled.positional)
        return self._compiled[dialect.name]

    def _statement(self, dialect):
        if self.skip_conflicts_on and dialect.name in ("sqlite", "postgresql"):
            insert = (sqlite if dialect.name == "sqlite" else postgresql).insert(self.table)
            return insert.on_conflict_do_nothing(index_elements=[self.skip_conflicts_on])
        return self.table.insert()


def commit(conn) -> None:
    """COMMIT what RowInsert wrote; errors come out as SQLAlchemy's, as from Core."""
    if conn.in_transaction():  # Core began one (a SELECT, or another database than SQLite)
        conn.commit()
        return
    dbapi = conn.dialect.loaded_dbapi
    try:
        conn.connection.driver_connection.commit()
    except dbapi.Error as exc:
        raise DBAPIError.instance("COMMIT", None, exc, dbapi.Error, dialect=conn.dialect) from None


def rollback(conn) -> None:
    """ROLL BACK what RowInsert wrote."""
    if conn.in_transaction():
        conn.rollback()
    else:
        conn.connection.driver_connection.rollback()


_locks: dict[str, tuple] = {}  # lock file path -> (open file, lock for this process's threads)
_locks_guard = threading.Lock()


@contextmanager
def writer_turn(conn):
    """One writer at a time on a SQLite file, queued on a blocking file lock.

    SQLite admits one writer and makes the others poll with growing sleeps (1, 2, 5, 10 ms ...),
    so under load most of a callback's time went into sleeping; waiting on a file lock instead,
    the next writer starts the moment the lock is free. The file stays open for the process; its
    threads take turns on a thread lock first (a flock is shared by whoever holds the file).
    Other databases queue writers themselves.
    """
    path = conn.engine.url.database if conn.dialect.name == "sqlite" and fcntl else None
    held = _lock_for(f"{path}-writer.lock") if path and path != ":memory:" else None
    if held is None:
        yield
        return
    file, threads = held
    with threads:
        fcntl.flock(file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(file, fcntl.LOCK_UN)


def _lock_for(path: str) -> tuple | None:
    with _locks_guard:
        if path not in _locks:
            try:
                _locks[path] = (open(path, "a"), threading.Lock())
            except OSError:  # e.g. a read-only folder: SQLite's own polling, and its error if it cannot write
                return None
        return _locks[path]
