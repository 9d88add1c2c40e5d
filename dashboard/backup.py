"""Online backups of the SQLite database: a consistent copy while the app keeps writing.

SQLite's online backup API copies every page inside one read transaction, so the copy is the
database as of one commit whatever writers do meanwhile (WAL lets them go on). It is written to a
temporary file beside the target, made a single file (journal_mode DELETE), counted, optionally
checked, and renamed into place, so the target never holds half a backup.

The Huey queue is not copied: it only holds "look at campaign N" hints, and the worker's sweep
finds every campaign with work due from the database within 20 seconds.
"""
from __future__ import annotations

import os
import sqlite3
from contextlib import closing
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.engine import URL


class BackupError(Exception):
    """The backup cannot be made; the message says why and what to do."""


@dataclass
class Result:
    path: Path
    size: int  # bytes
    rows: dict[str, int]  # table -> rows in the copy
    integrity: str | None  # "ok" after --verify, None without


def target(path: Path, now: datetime) -> Path:
    """The file to write: path itself, or a timestamped file inside it when it is a directory."""
    return path / f"dashboard-{now:%Y%m%dT%H%M%SZ}.sqlite" if path.is_dir() else path


def sqlite_backup(source: str, path: Path, *, verify: bool = False) -> Result:
    """Copy the database file source to path. :raises BackupError: see the message."""
    live = Path(source).resolve()
    if not live.is_file():
        raise BackupError(f"No database file at {live}.")
    if path.resolve() == live:
        raise BackupError("The backup cannot overwrite the live database: give another path.")
    if not path.parent.is_dir():
        raise BackupError(f"No directory {path.parent}: create it first.")
    temporary = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with closing(sqlite3.connect(f"{live.as_uri()}?mode=ro", uri=True)) as src, \
                closing(sqlite3.connect(temporary)) as copy:
            src.backup(copy)  # all pages in one step: one consistent snapshot
            copy.execute("PRAGMA journal_mode=DELETE")  # one self-contained file, no -wal beside it
            rows = row_counts(copy)
            integrity = "\n".join(r[0] for r in copy.execute("PRAGMA integrity_check")) if verify else None
        if integrity not in (None, "ok"):
            raise BackupError(f"The copy failed integrity_check: {integrity[:500]}")
        os.replace(temporary, path)
    except sqlite3.Error as exc:
        raise BackupError(f"SQLite: {exc}") from None
    finally:
        temporary.unlink(missing_ok=True)
    return Result(path, path.stat().st_size, rows, integrity)


def row_counts(conn: sqlite3.Connection) -> dict[str, int]:
    """Rows per table: what the copy holds, printed so a person can compare."""
    names = [r[0] for r in conn.execute(
        "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name")]
    # Not an injection (bandit B608): the names are the copy's own tables, from sqlite_master
    return {name: conn.execute(f'SELECT count(*) FROM "{name}"').fetchone()[0] for name in names}  # nosec B608


def pg_dump_advice(url) -> str:
    """What to run instead on PostgreSQL (the password is left to PGPASSWORD or ~/.pgpass)."""
    safe = URL.create("postgresql", username=url.username, host=url.host, port=url.port,
                      database=url.database, query=url.query).render_as_string(hide_password=False)
    return ("This database is PostgreSQL: back it up with its own tool, for example\n"
            f"  pg_dump --format=custom --file=dashboard.dump '{safe}'\n"
            "(the password from PGPASSWORD or ~/.pgpass); restore with\n"
            f"  pg_restore --clean --if-exists --no-owner --dbname='{safe}' dashboard.dump")
