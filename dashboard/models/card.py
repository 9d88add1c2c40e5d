"""Cards and their versions: campaigns pin the version they sent."""
from datetime import datetime

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow


class Card(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), index=True)
    card_type: Mapped[str] = mapped_column(String(32), index=True)
    archived: Mapped[bool] = mapped_column(default=False, index=True)
    draft: Mapped[Json | None] = mapped_column(JSONType)  # autosaved, not yet a version
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow)

    versions: Mapped[list["CardVersion"]] = relationship(
        back_populates="card", order_by="CardVersion.number", cascade="all, delete-orphan"
    )
    created_by = relationship("User")

    @property
    def latest(self) -> "CardVersion | None":
        return self.versions[-1] if self.versions else None


class CardVersion(db.Model):
    __table_args__ = (UniqueConstraint("card_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    card_id: Mapped[int] = mapped_column(ForeignKey("card.id"), index=True)
    number: Mapped[int]
    template_card: Mapped[Json] = mapped_column(JSONType)
    after_click: Mapped[Json | None] = mapped_column(JSONType)  # what the callback replies
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    card: Mapped[Card] = relationship(back_populates="versions")
    author = relationship("User")
