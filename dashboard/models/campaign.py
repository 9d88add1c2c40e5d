"""Campaigns, the WeCom send calls they make, and the per-recipient ledger."""
from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow

CAMPAIGN_STATUSES = (
    "draft", "awaiting_approval", "scheduled", "sending", "paused", "sent", "partially_sent", "failed", "cancelled",
)
BATCH_STATUSES = ("pending", "sending", "unknown", "done", "failed", "cancelled")
DELIVERY_STATES = ("pending", "accepted", "invalid", "unlicensed", "failed", "cancelled")


class Campaign(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120))
    notes: Mapped[str] = mapped_column(Text, default="")
    card_version_id: Mapped[int] = mapped_column(ForeignKey("card_version.id"), index=True)
    # The selection (users, departments, tags, all, exclude) and its expansion can hold 100,000
    # userids: loaded only when read, not with every status check of the worker's loop.
    recipients: Mapped[Json] = mapped_column(JSONType, deferred=True)
    options: Mapped[Json] = mapped_column(JSONType, default=dict)
    status: Mapped[str] = mapped_column(String(32), default="draft", index=True)
    timezone: Mapped[str] = mapped_column(String(64), default="Asia/Shanghai")
    send_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    privacy: Mapped[str] = mapped_column(String(16), default="named")  # or "aggregate"
    is_test: Mapped[bool] = mapped_column(default=False, index=True)
    parent_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"), index=True)
    status_reason: Mapped[str] = mapped_column(Text, default="")
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    purged_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # retention: see retention.py
    purged_people: Mapped[int | None]  # people pseudonymised in its report (campaign and reminders)
    # The check page's expansion of the recipients and the directory version it was made from: a
    # send goes to exactly these people, or shows the check again with the difference.
    checked_version: Mapped[int | None]
    checked_userids: Mapped[list | None] = mapped_column(JSONType, deferred=True)
    # Unused since batches carry their own lease (dropping a column rebuilds the table on SQLite).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    card_version = relationship("CardVersion")
    created_by = relationship("User")
    batches: Mapped[list["SendBatch"]] = relationship(
        back_populates="campaign", order_by="SendBatch.number"
    )


class SendBatch(db.Model):
    """One WeCom message/send call: at most 1000 users, 100 departments, 100 tags."""

    __table_args__ = (UniqueConstraint("campaign_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    number: Mapped[int]
    task_id: Mapped[str] = mapped_column(String(128), unique=True)
    status: Mapped[str] = mapped_column(String(16), default="pending", index=True)
    request: Mapped[Json | None] = mapped_column(JSONType)  # the exact body, reused on retry
    response: Mapped[Json | None] = mapped_column(JSONType)
    errcode: Mapped[int | None]
    errmsg: Mapped[str | None] = mapped_column(Text)
    msgid: Mapped[str | None] = mapped_column(String(128))
    response_code: Mapped[str | None] = mapped_column(String(256))
    invalid_users: Mapped[list | None] = mapped_column(JSONType)
    invalid_parties: Mapped[list | None] = mapped_column(JSONType)
    invalid_tags: Mapped[list | None] = mapped_column(JSONType)
    unlicensed_users: Mapped[list | None] = mapped_column(JSONType)
    attempts: Mapped[int] = mapped_column(default=0)
    not_before: Mapped[datetime | None] = mapped_column(UTCDateTime)  # waiting for a limit
    wait_reason: Mapped[str | None] = mapped_column(String(255))  # why, for the progress line
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    # Indexed for the claims: which campaigns sent in the last hour (campaigns/limits.py).
    finished_at: Mapped[datetime | None] = mapped_column(UTCDateTime, index=True)
    recalled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recall_error: Mapped[str | None] = mapped_column(Text)
    # The worker ("host:pid") that claimed the batch last, kept after the call; and until when
    # its claim holds while the call is in flight (campaigns/leases.py).
    lease_owner: Mapped[str | None] = mapped_column(String(128))
    lease_until: Mapped[datetime | None] = mapped_column(UTCDateTime)

    campaign: Mapped[Campaign] = relationship(back_populates="batches")


class Delivery(db.Model):
    """The ledger: one row per recipient and campaign."""

    __table_args__ = (
        UniqueConstraint("campaign_id", "userid"),
        Index("ix_delivery_campaign_state_user", "campaign_id", "state", "userid"),  # the report reads only it
        Index("ix_delivery_userid_sent", "userid", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("send_batch.id"), index=True)
    userid: Mapped[str] = mapped_column(String(64))
    state: Mapped[str] = mapped_column(String(16), default="pending")
    detail: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)


class ResponseCode(db.Model):
    """Every response_code WeCom hands out: each allows one card update before it expires."""

    __table_args__ = (
        # A campaign's valid codes (unused, not yet expired) and their batches from the index
        # alone, however many have expired: the campaign page, close poll, the home page's
        # "codes about to expire".
        Index("ix_response_code_campaign_valid", "campaign_id", "used_at", "expires_at", "batch_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(256), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("send_batch.id"))
    userid: Mapped[str | None] = mapped_column(String(64))
    source: Mapped[str] = mapped_column(String(16))  # "send" or "callback"
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    used_for: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
