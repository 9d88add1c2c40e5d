"""Writing the callback's rows fast: whole-row INSERTs through the driver and, on SQLite, one
writer at a time, for the callbacks that arrive together (GroupCommit), with the WAL checkpointed
on a thread of its own rather than inside a callback's COMMIT (Checkpoints); on PostgreSQL, an
event and all its rows in one statement (OneStatement), on connections kept from one callback to
the next, unpinged (connection).

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
import time
import weakref
from contextlib import contextmanager

from sqlalchemy import Table, event
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


class OneStatement:
    """PostgreSQL: an event, the rows that go with it and its log row written by one statement.

    ``WITH e AS (INSERT the event ON CONFLICT DO NOTHING RETURNING 1), a1 AS (INSERT a row
    WHERE EXISTS (SELECT FROM e)), a2 AS (... after a1) ... INSERT the log row``, its outcome the
    given one when the event is new, else ``duplicate``. PostgreSQL runs a statement's parts in
    no set order, so each row waits for the one before (its condition counts that one's rows):
    rows of one table, a conversation's message and its answers, get ascending ids as before.

    Sent with the connection in autocommit, it is one round trip and the server's own
    transaction (all the rows or none), where BEGIN, an INSERT per row and COMMIT took a round
    trip each (bench/README.md: ours/peer on PostgreSQL 0.60-0.84 -> 0.89-1.00). The statement's
    text is made once per combination of tables; values go through the column types' bind
    processors, as RowInsert's do.
    """

    def __init__(self) -> None:
        self._made: dict[tuple, tuple[str, list]] = {}

    def __call__(self, conn, event: tuple[RowInsert, dict], log_row: tuple[RowInsert, dict],
                 also=(), duplicate: str = "duplicate") -> bool:
        """Write them, committed; True when the event was new (then every row was written),
        False when its key was taken (then only the log row, with outcome ``duplicate``)."""
        inserts = (event[0], *(insert for insert, _ in also), log_row[0])
        rows = (event[1], *(row for _, row in also), log_row[1])
        sql, parts = self._statement(conn.dialect, inserts)
        params = {"duplicate": duplicate}
        for (prefix, names, processors), row in zip(parts, rows):
            params.update({f"{prefix}{n}": p(row.get(n)) if p else row.get(n) for n, p in zip(names, processors)})
        commit(conn)  # what a read began: nothing is written yet
        driver, dbapi = conn.connection.driver_connection, conn.dialect.loaded_dbapi
        driver.autocommit = True
        cursor = driver.cursor()
        try:
            cursor.execute(sql, params)
            return cursor.fetchone()[0] == 1
        except dbapi.Error as exc:
            raise DBAPIError.instance(sql, params, exc, dbapi.Error, dialect=conn.dialect) from None
        finally:
            cursor.close()
            if not driver.closed:
                driver.autocommit = False

    def _statement(self, dialect, inserts: tuple[RowInsert, ...]) -> tuple[str, list]:
        """The text and, per insert, (parameter prefix, column names, bind processors). Only the
        tables' and columns' names (quoted) and placeholders go into the text (nosec B608)."""
        key = tuple(id(insert) for insert in inserts)
        if key not in self._made:
            quote = dialect.identifier_preparer.quote
            event, *also, log_insert = inserts
            parts, ctes = [], []
            for i, insert in enumerate(inserts):
                prefix = "e_" if i == 0 else "l_" if i == len(inserts) - 1 else f"a{i}_"
                _, names, processors, _ = insert._for(dialect)
                parts.append((prefix, names, processors))
            columns = [", ".join(quote(n) for n in names) for _, names, _ in parts]
            values = [[f"%({prefix}{n})s" for n in names] for prefix, names, _ in parts]
            ctes.append(f"e AS (INSERT INTO {quote(event.table.name)} ({columns[0]}) VALUES ({', '.join(values[0])})"  # nosec B608
                        f" ON CONFLICT ({quote(event.skip_conflicts_on)}) DO NOTHING RETURNING 1)")
            for i, insert in enumerate(also, start=1):
                skip = f" ON CONFLICT ({quote(insert.skip_conflicts_on)}) DO NOTHING" if insert.skip_conflicts_on else ""  # nosec B608
                after = f" AND (SELECT count(*) FROM a{i - 1}) >= 0" if i > 1 else ""  # nosec B608 - in order: ids ascend
                ctes.append(f"a{i} AS (INSERT INTO {quote(insert.table.name)} ({columns[i]}) SELECT "  # nosec B608
                            f"{', '.join(values[i])} WHERE EXISTS (SELECT FROM e){after}{skip} RETURNING 1)")
            outcome = parts[-1][1].index("outcome")
            values[-1][outcome] = f"CASE WHEN EXISTS (SELECT FROM e) THEN {values[-1][outcome]} ELSE %(duplicate)s END"  # nosec B608
            sql = (f"WITH {', '.join(ctes)} INSERT INTO {quote(log_insert.table.name)} ({columns[-1]}) "  # nosec B608
                   f"SELECT {', '.join(values[-1])} RETURNING (SELECT count(*) FROM e)")
            self._made[key] = (sql, parts)
        return self._made[key]


class Reconnect(Exception):
    """A connection kept from an earlier callback was found closed by the server (a restart, an
    ended session): the callback may run again on a fresh one (:func:`connection`)."""


SPARE = 4  # connections kept between callbacks, per process: gunicorn.conf.py's default threads


@contextmanager
def connection(engine):
    """A connection for one callback's reads and rows.

    On SQLite, a checkout from the pool, as anywhere. On other databases the process keeps up to
    SPARE connections from one callback to the next: a checkout pings the server (pool_pre_ping, a
    round trip) and resets the connection after use, which cost about a fifth of a callback's
    time on PostgreSQL (bench/README.md). Nothing stays open between callbacks: a transaction
    left open is rolled back before the connection is kept. A kept connection the server closed
    meanwhile raises Reconnect, and is not kept; the next call checks out a fresh, pinged one.
    Only the latest engine's connections are kept, and ``engine.dispose()`` closes them.
    """
    if engine.dialect.name == "sqlite":
        with engine.connect() as conn:
            yield conn
        return
    conn = _spares.take(engine)
    reused = conn is not None
    if conn is None:
        conn = engine.connect()
    try:
        yield conn
    except DBAPIError as exc:
        if not (exc.connection_invalidated or conn.invalidated or _lost(conn, exc)):
            raise
        _close(conn, discard=True)
        conn = None
        if reused:
            raise Reconnect(str(exc.orig)) from exc
        raise
    finally:
        if conn is not None:
            _spares.give_back(engine, conn)


class _Spares:
    """The connections kept between callbacks: the latest engine's, as of its pool then."""

    def __init__(self) -> None:
        self.guard, self.engine, self.pool, self.kept = threading.Lock(), None, None, []

    def take(self, engine):
        with self.guard:
            if self.engine is engine and self.pool is engine.pool and self.kept:
                return self.kept.pop()
        return None

    def give_back(self, engine, conn) -> None:
        try:
            rollback(conn)  # nothing stays open between callbacks
        except Exception:  # noqa: BLE001 - a connection that cannot roll back is not kept
            _close(conn, discard=True)
            return
        stale = []
        with self.guard:
            if self.engine is not engine or self.pool is not engine.pool:
                stale, self.kept = self.kept, []
                if not event.contains(engine, "engine_disposed", self.forget):
                    event.listen(engine, "engine_disposed", self.forget)
                self.engine, self.pool = engine, engine.pool
            if len(self.kept) < SPARE and not conn.invalidated:
                self.kept.append(conn)
                conn = None
        for old in stale:  # an earlier engine's, or from before the pool was disposed
            _close(old, discard=True)
        if conn is not None:
            _close(conn)

    def forget(self, engine) -> None:
        """engine.dispose(): close its kept connections now."""
        with self.guard:
            stale = self.kept if self.engine is engine else []
            if self.engine is engine:
                self.kept = []
        for old in stale:
            _close(old, discard=True)


_spares = _Spares()


def _lost(conn, exc: DBAPIError) -> bool:
    """Whether the error says the server closed the connection (our driver-level INSERTs pass
    errors on without Core's check)."""
    try:
        return conn.dialect.is_disconnect(exc.orig, conn.connection.dbapi_connection, None)
    except Exception:  # noqa: BLE001 - no way to tell: treat it as lost
        return True


def _close(conn, *, discard: bool = False) -> None:
    """Give the connection back to its pool or, ``discard``, close it (lost, or its pool disposed)."""
    try:
        if discard:
            conn.invalidate()
        conn.close()
    except Exception:  # noqa: BLE001 - already gone
        log.debug("closing a callback connection failed", exc_info=True)


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
    A database that writes in parallel shares the flush of transactions that commit together
    itself; there a leader would only make the others wait (bench/README.md, measured on
    PostgreSQL, which now writes with OneStatement instead), so with ``together`` false each
    write commits on its own, at once. One per database and process (:func:`group_for`).
    """

    def __init__(self, *, together: bool = True, checkpoints=None) -> None:
        self.together, self.checkpoints = together, checkpoints
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

    def _run(self, conn, batch: list[_Write]) -> None:
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
        if self.checkpoints is not None:
            self.checkpoints.nudge(conn.engine)


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
    except Exception as exc:  # noqa: BLE001 - a lost connection: the pool discards it
        log.warning("rollback after a failed group commit failed: %s", exc)


_groups: dict[str, GroupCommit] = {}


def group_for(conn) -> GroupCommit:
    """This process's GroupCommit for the connection's database."""
    key = str(conn.engine.url)
    group = _groups.get(key)
    if group is None:
        with _locks_guard:
            if key not in _groups:
                sqlite = conn.dialect.name == "sqlite"
                _groups[key] = GroupCommit(together=sqlite, checkpoints=Checkpoints() if sqlite else None)
                if sqlite:
                    event.listen(conn.engine, "engine_disposed", lambda engine: _disposed(key))
            group = _groups[key]
    return group


def _disposed(key: str) -> None:
    """The engine's connections were closed (a shutdown, or a restore about to replace the file):
    no checkpoint runs after this; the next COMMIT starts a new checkpoint thread."""
    if (group := _groups.get(key)) is not None and group.checkpoints is not None:
        group.checkpoints.stop()
        group.checkpoints = Checkpoints()


class Checkpoints:
    """Copies SQLite's WAL into the database on a thread of this process, within EVERY seconds of
    a group's COMMIT. ``PRAGMA wal_checkpoint(PASSIVE)`` neither waits for a writer nor makes one
    wait, so the WAL stays short and callbacks' COMMITs seldom reach the auto-checkpoint, which
    copies the WAL inside the COMMIT that crosses its mark (extensions.py) while every other
    writer waits for the lock. bench/README.md: text messages' p99 40 ms -> 18-25 ms, the plain
    receiver's. The thread ends after IDLE seconds without a COMMIT and starts again with the
    next; it holds the engine weakly, so an app dropped (tests make many) closes its files."""

    EVERY, IDLE = 0.25, 60.0

    def __init__(self) -> None:
        self.engine, self.due, self.thread, self.stopped = None, threading.Event(), None, False
        self._guard, self._busy = threading.Lock(), threading.Lock()

    def nudge(self, engine) -> None:
        """A COMMIT on the engine: a checkpoint within EVERY seconds."""
        self.engine = weakref.ref(engine)
        self.due.set()
        with self._guard:
            if self.thread is None and not self.stopped:
                self.thread = threading.Thread(target=self._run, name="wal-checkpoints", daemon=True)
                self.thread.start()

    def stop(self) -> None:
        """No checkpoint after this returns (one in progress ends first)."""
        with self._busy:
            self.stopped = True
        self.due.set()  # the thread wakes, and ends

    def _run(self) -> None:
        while not self.stopped:
            if not self.due.wait(timeout=self.IDLE):
                with self._guard:  # a nudge now either finds this thread going on or starts another
                    if not self.due.is_set():
                        self.thread = None
                        return
                continue
            time.sleep(self.EVERY)
            self.due.clear()
            if not self._checkpoint():
                with self._guard:
                    self.thread = None
                return

    def _checkpoint(self) -> bool:
        """One passive checkpoint; False when stopped or the engine is gone."""
        with self._busy:
            if self.stopped or (engine := self.engine()) is None:
                return False
            try:
                with engine.connect() as conn:
                    conn.exec_driver_sql("PRAGMA wal_checkpoint(PASSIVE)")
            except Exception:  # noqa: BLE001 - the COMMITs' auto-checkpoint remains the backstop
                log.warning("WAL checkpoint failed", exc_info=True)
            return True
