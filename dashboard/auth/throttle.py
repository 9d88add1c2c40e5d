"""Login throttling from the audit log: failures per account and per address slow, then refuse.

The failed-login rows the audit log keeps anyway are the counter, so every web process and
machine sees the same figures without another store.
"""
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import AuditLog, utcnow


def verdict(username: str, source: str) -> str | None:
    """"refuse", "slow" or None for a login attempt, from the failures of the last window."""
    config = current_app.config
    since = utcnow() - timedelta(seconds=config["LOGIN_WINDOW"])
    failed = db.select(AuditLog).filter_by(action="login_failed").where(AuditLog.created_at >= since)
    account = db.session.scalar(db.select(db.func.count()).select_from(
        failed.filter_by(actor_name=username[:64]).subquery()))
    limit = config["LOGIN_IP_REFUSE_AFTER"]
    recent = db.session.scalars(db.select(AuditLog.details).filter_by(action="login_failed")
                                .where(AuditLog.created_at >= since)
                                .order_by(AuditLog.id.desc()).limit(limit * 20))
    address = sum(1 for details in recent if (details or {}).get("source") == source)
    if account >= config["LOGIN_REFUSE_AFTER"] or address >= limit:
        return "refuse"
    if account >= config["LOGIN_SLOW_AFTER"]:
        return "slow"
    return None
