"""Callbacks from WeCom: one row per event, stored exactly once."""
from datetime import datetime

from sqlalchemy import BigInteger, ForeignKey, Index, String, Text, false, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow

REPLY = "template_card_event"  # CardEvent.event of an answer: a click, a vote, a choice
MENU = "template_card_menu_event"  # and of a choice in a card's menu


class CardEvent(db.Model):
    # Few indexes: each one is written by every callback; reports read the summaries instead.
    __table_args__ = (
        Index("ix_card_event_campaign_user", "campaign_id", "from_user"),
        Index("ix_card_event_campaign_received", "campaign_id", "received_at"),
        # events not yet counted in the report summaries (dashboard/callback/rollup.py)
        Index("ix_card_event_pending", "id", sqlite_where=text("rolled_up = 0"),
              postgresql_where=text("NOT rolled_up")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    batch_id: Mapped[int | None] = mapped_column(ForeignKey("send_batch.id"))
    from_user: Mapped[str] = mapped_column(String(64))
    msg_type: Mapped[str] = mapped_column(String(32))
    event: Mapped[str | None] = mapped_column(String(64))
    event_key: Mapped[str | None] = mapped_column(String(1024))
    task_id: Mapped[str | None] = mapped_column(String(128))
    card_type: Mapped[str | None] = mapped_column(String(32))
    response_code: Mapped[str | None] = mapped_column(String(256))
    selected: Mapped[Json | None] = mapped_column(JSONType)
    create_time: Mapped[int] = mapped_column(BigInteger)
    xml: Mapped[str | None] = mapped_column(Text)  # decrypted body; purged by retention
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    rolled_up: Mapped[bool] = mapped_column(default=False, server_default=false())  # counted in reports yet?

    selections: Mapped[list["EventSelection"]] = relationship(
        back_populates="event", cascade="all, delete-orphan"
    )


class EventSelection(db.Model):
    """One chosen option of one event: the summaries count these instead of unpacking JSON. The
    roll-up writes them from ``CardEvent.selected`` when it counts the event (callback/rollup.py)."""

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("card_event.id"), index=True)
    campaign_id: Mapped[int | None] = mapped_column(ForeignKey("campaign.id"))
    question_key: Mapped[str] = mapped_column(String(1024))
    option_id: Mapped[str] = mapped_column(String(128))

    event: Mapped[CardEvent] = relationship(back_populates="selections")
