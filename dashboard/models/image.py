"""Pictures uploaded to WeCom for cards: WeCom hosts them (media/uploadimg gives a permanent URL);
this table is the library the designer's picker offers, so one file is uploaded once."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ..extensions import db
from .base import UTCDateTime, utcnow


class Image(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1024))  # WeCom's URL, what card fields carry
    name: Mapped[str] = mapped_column(String(255), index=True)  # the file's name, shown only
    bytes: Mapped[int]
    width: Mapped[int]
    height: Mapped[int]
    sha256: Mapped[str] = mapped_column(String(64), unique=True)  # the same file is reused
    content_type: Mapped[str] = mapped_column(String(32))  # image/png or image/jpeg
    uploaded_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    uploaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)

    uploaded_by = relationship("User")

    #: Not stored: True on the row images.service.upload() returned for a file already kept.
    reused = False
