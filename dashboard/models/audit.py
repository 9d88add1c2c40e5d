"""Who did what, when: every state change writes a row."""
from datetime import datetime

from flask_login import current_user
from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow


class AuditLog(db.Model):
    __table_args__ = (Index("ix_audit_log_actor_time", "actor_name", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    actor_name: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(64), index=True)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[str | None] = mapped_column(String(64))
    details: Mapped[Json | None] = mapped_column(JSONType)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)


def audit(action: str, obj=None, *, actor=None, **details) -> AuditLog:
    """Add an audit row to the session (the caller commits); actor defaults to the logged-in user."""
    if actor is None and current_user and current_user.is_authenticated:
        actor = current_user
    row = AuditLog(
        actor_id=getattr(actor, "id", None),
        actor_name=getattr(actor, "username", None) or (actor if isinstance(actor, str) else "system"),
        action=action,
        object_type=type(obj).__name__.lower() if obj is not None else None,
        object_id=str(obj.id) if obj is not None and getattr(obj, "id", None) is not None else None,
        details=details or None,
    )
    db.session.add(row)
    return row

