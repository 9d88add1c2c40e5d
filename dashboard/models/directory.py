"""The WeCom directory, cached: departments, members and tags as the contacts API returned them,
kept current by a periodic read and by WeCom's ``change_contact`` callbacks (dashboard/directory/).

Campaign recipients are expanded through this cache, so the ledger lists people, not groups.
"""
from datetime import datetime

from sqlalchemy import BigInteger, Index, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import Json, JSONType, UTCDateTime, utcnow


class DirectoryDepartment(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # WeCom's id
    name: Mapped[str] = mapped_column(String(64))
    parent_id: Mapped[int] = mapped_column(default=0, index=True)
    sort_order: Mapped[int] = mapped_column(default=0)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryUser(db.Model):
    userid: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(64), index=True)
    departments: Mapped[list] = mapped_column(JSONType, default=list)  # department ids
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryTag(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)  # WeCom's tagid
    name: Mapped[str] = mapped_column(String(64))
    userids: Mapped[list] = mapped_column(JSONType, default=list)
    department_ids: Mapped[list] = mapped_column(JSONType, default=list)
    refreshed_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class DirectoryState(db.Model):
    """One row (id 1): where the cached copy came from and whether a read is under way."""

    id: Mapped[int] = mapped_column(primary_key=True, autoincrement=False)
    version: Mapped[int] = mapped_column(default=0)  # +1 whenever the cached copy changes
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the last good read ended
    read_started_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # ... and began
    running_since: Mapped[datetime | None] = mapped_column(UTCDateTime)  # a read under way
    progress_done: Mapped[int] = mapped_column(default=0)
    progress_total: Mapped[int] = mapped_column(default=0)
    error: Mapped[str | None] = mapped_column(Text)  # the last failed read's reason
    error_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    names_hidden: Mapped[bool] = mapped_column(default=False)  # WeCom gave ids without names
    imported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # names from the admin export


class DirectoryChange(db.Model):
    """A ``change_contact`` callback waiting to be applied (or applied) to the cached copy.

    Written with its CardEvent in the callback's transaction; the worker applies pending ones in
    CreateTime order (dashboard/directory/changes.py).
    """

    __table_args__ = (
        Index("ix_directory_change_pending", "create_time", "id", sqlite_where=text("applied_at IS NULL"),
              postgresql_where=text("applied_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    dedupe_key: Mapped[str] = mapped_column(String(64), unique=True)  # the CardEvent's
    change_type: Mapped[str] = mapped_column(String(32))
    create_time: Mapped[int] = mapped_column(BigInteger)
    data: Mapped[Json] = mapped_column(JSONType)  # the event's fields, as parsed
    received_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    applied_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    outcome: Mapped[str | None] = mapped_column(String(255))  # what applying it did, in English


class DirectoryStamp(db.Model):
    """The CreateTime of the last change applied to a member, department or tag, and whether it was
    a deletion: a change older than the stamp is stale (events arrive out of order)."""

    kind: Mapped[str] = mapped_column(String(16), primary_key=True)  # user, department, tag
    key: Mapped[str] = mapped_column(String(64), primary_key=True)
    create_time: Mapped[int] = mapped_column(BigInteger)
    deleted: Mapped[bool] = mapped_column(default=False)
