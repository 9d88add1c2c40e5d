"""The WeCom directory, cached: departments, members and tags as the contacts API returned them.

Campaign recipients are expanded through this cache, so the ledger lists people, not groups.
"""
from datetime import datetime

from sqlalchemy import String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import JSONType, UTCDateTime, utcnow


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
