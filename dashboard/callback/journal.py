"""The callback log: one short row per callback (outcome, reason, status), never the body or secrets.

Rows of stored events go into the event's own transaction (one commit per callback); the rest
(rejections, duplicates, failures) are written in a short transaction of their own.
"""
from __future__ import annotations

import logging
import random
from time import perf_counter

from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import CallbackLog, utcnow
from .rows import RowInsert

log = logging.getLogger(__name__)

KEEP = 1000  # rows kept; the page shows the latest 50 and counts over these
PRUNE_CHANCE = 0.01  # prune on about one write in a hundred


def entry(outcome: str, status: int, *, started: float, remote_addr: str | None, method: str = "POST",
          reason: str | None = None, detail: str | None = None, event=None) -> dict:
    """The values of one log row; ``event`` (a parsed event) gives its kind and task id."""
    return {
        "received_at": utcnow(), "method": method, "outcome": outcome, "http_status": status,
        "reason": reason, "detail": detail[:255] if detail else None,
        "remote_addr": (remote_addr or "")[:64] or None,
        "event_kind": (getattr(event, "kind", None) or "")[:64] or None,
        "task_id": (getattr(event, "task_id", None) or "")[:128] or None,
        "duration_ms": round((perf_counter() - started) * 1000, 2),
    }


INSERT = RowInsert(CallbackLog.__table__)


def add(conn, values: dict) -> None:
    """Add the row in the connection's transaction (the caller commits)."""
    INSERT(conn, values)
    prune_now_and_then(conn)


def prune_now_and_then(conn) -> None:
    """On about one write in a hundred (PRUNE_CHANCE), :func:`prune` in the connection's transaction."""
    if random.random() < PRUNE_CHANCE:
        prune(conn)


def write(values: dict) -> None:
    """Write the row in its own transaction; database trouble is logged, never raised."""
    try:
        with db.engine.begin() as conn:
            add(conn, values)
    except OperationalError as exc:
        log.error("callback log row not written (%s): %s", exc.orig, values)


def prune(conn, keep: int = KEEP) -> None:
    """Delete all but the latest ``keep`` rows."""
    newest = conn.execute(db.select(db.func.max(CallbackLog.id))).scalar()
    if newest is not None:
        conn.execute(db.delete(CallbackLog).where(CallbackLog.id <= newest - keep))


def recent(limit: int = 50) -> list[CallbackLog]:
    return list(db.session.scalars(db.select(CallbackLog).order_by(CallbackLog.id.desc()).limit(limit)))


def counts() -> list[tuple[str, str | None, int]]:
    """(outcome, reason, how many) over the kept rows, most frequent first."""
    count = db.func.count(CallbackLog.id)
    query = (db.select(CallbackLog.outcome, CallbackLog.reason, count)
             .group_by(CallbackLog.outcome, CallbackLog.reason).order_by(count.desc()))
    return [tuple(row) for row in db.session.execute(query)]


def oldest():
    """When the oldest kept row was written (the counts cover the time since)."""
    return db.session.scalar(db.select(db.func.min(CallbackLog.received_at)))

