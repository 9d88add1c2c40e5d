"""The sandbox's own state: a fake WeCom's directory, tokens, messages, inboxes and faults.

Kept in the database (tables prefixed ``sandbox_``) so every web worker and the background
worker see the same WeCom. Only the sandbox package reads or writes these tables.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, LargeBinary, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow


class SandboxDepartment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # WeCom's id
    name: Mapped[str] = mapped_column(String(64))
    name_en: Mapped[str] = mapped_column(String(64), default="")
    parent_id: Mapped[int] = mapped_column(default=0)
    sort_order: Mapped[int] = mapped_column(default=0)


class SandboxEmployee(db.Model):
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64))
    position: Mapped[str] = mapped_column(String(64), default="")
    departments: Mapped[list] = mapped_column(JSONType, default=list)  # department ids
    licensed: Mapped[bool] = mapped_column(default=True)  # unlicensed: sends skip them


class SandboxTag(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # WeCom's tagid
    name: Mapped[str] = mapped_column(String(32))
    userids: Mapped[list] = mapped_column(JSONType, default=list)
    department_ids: Mapped[list] = mapped_column(JSONType, default=list)


class SandboxToken(db.Model):
    token: Mapped[str] = mapped_column(String(128), primary_key=True)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class SandboxMessage(db.Model):
    """One accepted message/send call, with the answer given (replayed by the duplicate check)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    msgid: Mapped[str] = mapped_column(String(64), unique=True)
    task_id: Mapped[str | None] = mapped_column(String(128), unique=True)
    card_type: Mapped[str] = mapped_column(String(32))
    card: Mapped[Json] = mapped_column(JSONType)
    request: Mapped[Json] = mapped_column(JSONType)
    body_hash: Mapped[str] = mapped_column(String(64), index=True)
    answer: Mapped[Json] = mapped_column(JSONType)
    recipients: Mapped[list] = mapped_column(JSONType, default=list)  # userids it reached
    dropped: Mapped[list] = mapped_column(JSONType, default=list)  # over the per-member limits
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxResponseCode(db.Model):
    """A one-time code for update_template_card: from the send (userid None) or a callback."""

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sandbox_message.id"), index=True)
    userid: Mapped[str | None] = mapped_column(String(64))
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    message: Mapped[SandboxMessage] = relationship()


class SandboxInboxCard(db.Model):
    """A message as one employee sees it: greyed by update_button, or replaced by a new card."""

    __table_args__ = (
        UniqueConstraint("message_id", "userid"),
        Index("ix_sandbox_inbox_card_userid_delivered", "userid", "delivered_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    message_id: Mapped[int] = mapped_column(ForeignKey("sandbox_message.id"))
    userid: Mapped[str] = mapped_column(String(64))
    card: Mapped[Json | None] = mapped_column(JSONType)  # the replacement; None: as sent
    replace_name: Mapped[str | None] = mapped_column(String(128))  # greyed with this caption
    answer: Mapped[Json | None] = mapped_column(JSONType)  # the employee's last selections
    version: Mapped[int] = mapped_column(default=1)  # bumped on every change the inbox shows
    delivered_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    message: Mapped[SandboxMessage] = relationship()


class SandboxCallback(db.Model):
    """One event the sandbox posts to the app's callback URL, with every attempt and the reply."""

    __table_args__ = (Index("ix_sandbox_callback_userid_created", "userid", "created_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    inbox_card_id: Mapped[int] = mapped_column(ForeignKey("sandbox_inbox_card.id"), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    event: Mapped[str] = mapped_column(String(32))
    event_key: Mapped[str] = mapped_column(String(1024))
    selected: Mapped[Json | None] = mapped_column(JSONType)
    xml: Mapped[str] = mapped_column(Text)  # the plaintext event
    query: Mapped[Json | None] = mapped_column(JSONType)  # signed, reused by every retry
    body: Mapped[str | None] = mapped_column(Text)  # the encrypted POST body
    status: Mapped[str] = mapped_column(String(16), default="queued")
    attempts: Mapped[list] = mapped_column(JSONType, default=list)
    reply: Mapped[str | None] = mapped_column(Text)  # the decrypted passive reply
    reply_kind: Mapped[str | None] = mapped_column(String(32))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    inbox_card: Mapped[SandboxInboxCard] = relationship()


class SandboxSettings(db.Model):
    """The fault-injection switches; a single row (id 1)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    latency_ms: Mapped[int] = mapped_column(default=0)
    fail_next: Mapped[int] = mapped_column(default=0)  # errcode -1 for the next N calls
    limit_next: Mapped[int] = mapped_column(default=0)  # errcode 45009 for the next N calls
    token_ttl: Mapped[int] = mapped_column(default=7200)
    duplicate_callbacks: Mapped[bool] = mapped_column(default=False)
    slow_callbacks: Mapped[int] = mapped_column(default=0)  # next N answers count as too late
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class SandboxApiCall(db.Model):
    """The sandbox API's access log, for the control page (old rows are pruned)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    method: Mapped[str] = mapped_column(String(8))
    path: Mapped[str] = mapped_column(String(64))
    errcode: Mapped[int | None]
    millis: Mapped[int] = mapped_column(default=0)
    note: Mapped[str] = mapped_column(String(255), default="")


class SandboxAuthCode(db.Model):
    """A sign-in code the sandbox's login pages hand back to the app: auth/getuserinfo takes it
    once, within its 5 minutes, as WeCom does."""

    code: Mapped[str] = mapped_column(String(64), primary_key=True)
    userid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)


class SandboxImage(db.Model):
    """A picture the app uploaded with media/uploadimg, served at /sandbox/media/<token>.<ext> as
    WeCom's CDN serves its own."""

    id: Mapped[int] = mapped_column(primary_key=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)  # random: the URL's name
    content_type: Mapped[str] = mapped_column(String(32))
    data: Mapped[bytes] = mapped_column(LargeBinary)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
