"""What happened to each recent callback (stored, duplicate, rejected and why), for diagnostics.

Never the body, a signature or a key: only what an admin needs to see why WeCom's calls fail.
Pruned to the most recent rows, so it stays small and the latest 50 come by primary key.
"""
from datetime import datetime

from sqlalchemy import Float, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

CALLBACK_OUTCOMES = ("stored", "unmatched", "duplicate", "rejected", "verified", "error", "self-test")


class CallbackLog(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    outcome: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str | None] = mapped_column(String(64))  # short and countable, e.g. "bad signature"
    detail: Mapped[str | None] = mapped_column(String(255))  # the library's message, no secrets
    http_status: Mapped[int]
    remote_addr: Mapped[str | None] = mapped_column(String(64))
    event_kind: Mapped[str | None] = mapped_column(String(64))
    task_id: Mapped[str | None] = mapped_column(String(128))
    duration_ms: Mapped[float | None] = mapped_column(Float)
