"""What /healthz checks: one cheap round trip each to the database and to the queue."""
import logging

from flask import current_app

from ..extensions import db

log = logging.getLogger(__name__)


def _database() -> None:
    try:
        db.session.execute(db.text("SELECT 1"))
    finally:
        db.session.rollback()


def _queue() -> None:
    current_app.extensions["huey"].storage.queue_size()  # LLEN on Redis, a COUNT on SQLite


CHECKS = {"database": _database, "queue": _queue}


def check() -> dict[str, str]:
    """"ok" per part, or "error: <exception class>" (the message may hold a URL or password)."""
    results = {}
    for part, probe in CHECKS.items():
        try:
            probe()
            results[part] = "ok"
        except Exception as exc:  # any failure is the answer; the log keeps the detail
            log.warning("health check: the %s failed: %s", part, exc)
            results[part] = f"error: {type(exc).__name__}"
    return results
