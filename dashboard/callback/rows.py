"""Writing the callback's rows fast: whole-row INSERTs through the driver and, on SQLite, one
writer at a time, for the callbacks that arrive together (GroupCommit).

Each statement is compiled once by SQLAlchemy for the database's dialect and its values go
through the column types' own bind processors, so the rows are exactly what Core writes (a test
compares them, on SQLite and PostgreSQL); only Core's per-execution machinery, which cost more
than SQLite itself, is skipped. On SQLite that also shortens the time the write lock is held;
on PostgreSQL (psycopg) an INSERT and COMMIT take about 240 µs of the worker's CPU instead of
370. Measured with bench/bench_callback.py.
"""
from __future__ import annotations

import logging
import threading
from contextlib import contextmanager

from sqlalchemy import Table
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import DBAPIError, OperationalError

try:
    import fcntl
except ImportError:  # pragma: no cover - Windows: SQLite's own polling only
    fcntl = None

log = logging.getLogger(__name__)


class RowInsert:
    """``INSERT INTO table (every column but id) VALUES (...)``, optionally skipping a row whose
    ``skip_conflicts_on`` column already holds the value."""

    def __init__(self, table: Table, *, skip_conflicts_on: str | None = None):
        self.table, self.skip_conflicts_on = table, skip_conflicts_on
        self.columns = [c.key for c in table.columns if c.key != "id"]
        self._compiled: dict[str, tuple] = {}

    def __call__(self, conn, row: dict) -> int:
        """Insert ``row`` (missing columns are NULL) in the connection's transaction; commit with
        :func:`commit`. The number of rows written: 0 when ``skip_conflicts_on`` skipped it.
        Driver errors come out as SQLAlchemy's (IntegrityError ...), as from Core."""
        sql, names, processors, positional = self._for(conn.dialect)
        values = [p(row.get(n)) if p else row.get(n) for n, p in zip(names, processors)]
        params = values if positional else dict(zip(names, values))
        dbapi = conn.dialect.loaded_dbapi
        cursor = conn.connection.driver_connection.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.rowcount
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


class _Write:
    __slots__ = ("work", "done", "result", "error")

    def __init__(self, work) -> None:
        self.work, self.done, self.result, self.error = work, False, None, None

    def outcome(self):
        if self.error is not None:
            raise self.error
        return self.result


class GroupCommit:
    """Writes that arrive together share one transaction and one COMMIT (group commit).

    ``write(conn, work)`` runs ``work(conn)`` (INSERTs, no COMMIT) and returns its result once
    it is committed, so an answer given after it still means "stored". The first thread to come
    leads: it takes every write waiting, runs them on its own connection in one writer turn and
    one transaction, commits, and wakes the others; writes that arrive meanwhile wait for the
    next leader. Under load a COMMIT, the writer turn and the GIL handovers of each database call
    are shared by several callbacks; alone, a write is led by its own thread at once.

    When the shared transaction fails on a write's data (a constraint, a value the database
    refuses), each write is tried again in a transaction of its own, so only that one fails; a
    database that cannot write at all (OperationalError) fails them all, each with the error.

    Only where writers take turns anyway: on SQLite (one writer at a time, ``writer_turn``).
    PostgreSQL writes in parallel and shares the flush of transactions that commit together
    itself; there a leader would only make the others wait (bench/README.md), so with
    ``together`` false each write commits on its own, at once. One per database and process
    (:func:`group_for`).
    """

    def __init__(self, *, together: bool = True) -> None:
        self.together = together
        self._ready = threading.Condition()
        self._waiting: list[_Write] = []
        self._leading = False

    def write(self, conn, work):
        mine = _Write(work)
        if not self.together:
            _run_alone(conn, mine)
            return mine.outcome()
        with self._ready:
            self._waiting.append(mine)
            while self._leading and not mine.done:
                self._ready.wait()
            if not mine.done:
                self._leading, batch, self._waiting = True, self._waiting, []
        if not mine.done:
            try:
                self._run(conn, batch)
            finally:
                with self._ready:
                    self._leading = False
                    self._ready.notify_all()
        return mine.outcome()

    @staticmethod
    def _run(conn, batch: list[_Write]) -> None:
        with writer_turn(conn):
            try:
                results = [item.work(conn) for item in batch]
                commit(conn)
            except OperationalError as exc:  # the database cannot write: nothing was stored
                _undo(conn)
                for item in batch:
                    item.error, item.done = exc, True
                return
            except Exception:  # noqa: BLE001 - one write's data: each again on its own
                _undo(conn)
                for item in batch:
                    _run_alone(conn, item)
                return
        for item, result in zip(batch, results):
            item.result, item.done = result, True


def _run_alone(conn, item: _Write) -> None:
    try:
        item.result = item.work(conn)
        commit(conn)
    except Exception as exc:  # noqa: BLE001 - raised in the writer's own thread
        _undo(conn)
        item.error = exc
    item.done = True


def _undo(conn) -> None:
    try:
        rollback(conn)
    except Exception:  # noqa: BLE001 - a lost connection: the pool discards it
        log.warning("rollback after a failed group commit failed", exc_info=True)


_groups: dict[str, GroupCommit] = {}


def group_for(conn) -> GroupCommit:
    """This process's GroupCommit for the connection's database."""
    key = str(conn.engine.url)
    group = _groups.get(key)
    if group is None:
        with _locks_guard:
            group = _groups.setdefault(key, GroupCommit(together=conn.dialect.name == "sqlite"))
    return group
