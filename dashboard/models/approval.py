"""Approvals: a second person's yes before a big send, and the notices a campaign's author gets.

An :class:`Approval` is one request to approve one campaign (a campaign edited while it waits
asks again: a new row); each approver gets an :class:`ApprovalCard` in WeCom, with its own task
id (kept out of reports). A :class:`Notice` row is written before a notice is sent, so each is
sent once however many workers see the campaign finish.
"""
from datetime import datetime

from sqlalchemy import ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow

DECISIONS = ("approved", "rejected", "withdrawn")  # None: still waiting


class Approval(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    recipients: Mapped[int]  # after expansion, as the check showed it
    everyone: Mapped[bool] = mapped_column(default=False)  # sent to @all
    decision: Mapped[str | None] = mapped_column(String(16), index=True)  # DECISIONS
    decided_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_via: Mapped[str | None] = mapped_column(String(8))  # "wecom" (a card) or "web"
    reason: Mapped[str] = mapped_column(Text, default="")  # a rejection's, or why it was withdrawn

    campaign = relationship("Campaign")
    requested_by = relationship("User", foreign_keys=[requested_by_id])
    decided_by = relationship("User", foreign_keys=[decided_by_id])
    cards: Mapped[list["ApprovalCard"]] = relationship(back_populates="approval",
                                                       order_by="ApprovalCard.id")


class ApprovalCard(db.Model):
    """The card one approver got in WeCom: its task id routes their click back to the approval;
    the send's response_code updates it once someone decides."""

    id: Mapped[int] = mapped_column(primary_key=True)
    approval_id: Mapped[int] = mapped_column(ForeignKey("approval.id"), index=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    userid: Mapped[str] = mapped_column(String(64))  # the approver's WeCom userid
    task_id: Mapped[str] = mapped_column(String(128), unique=True)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    response_code: Mapped[str | None] = mapped_column(String(256))
    error: Mapped[str | None] = mapped_column(Text)  # why WeCom did not take the card
    updated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # shown the decision

    approval: Mapped[Approval] = relationship(back_populates="cards")
    user = relationship("User")


class Notice(db.Model):
    """A notice to a campaign's author in WeCom: "started", "finished", or "approved"/"rejected"
    (``ref`` tells which approval), written before the call so it goes out once."""

    __table_args__ = (UniqueConstraint("campaign_id", "kind", "ref"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    campaign_id: Mapped[int] = mapped_column(ForeignKey("campaign.id"), index=True)
    kind: Mapped[str] = mapped_column(String(16))
    ref: Mapped[int] = mapped_column(default=0)
    userid: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    error: Mapped[str | None] = mapped_column(Text)
