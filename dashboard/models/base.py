"""Column helpers shared by the models, and the SQL helper the queries on them share."""
from datetime import datetime, timezone
from typing import Any

from sqlalchemy import JSON, DateTime, Integer, TypeDecorator, cast, func
from sqlalchemy.dialects.postgresql import JSONB

from ..extensions import db


def utcnow() -> datetime:
    return datetime.now(timezone.utc)


def epoch(column):
    """A stored UTC datetime as Unix seconds, in the database's own dialect."""
    if db.engine.dialect.name == "sqlite":
        return cast(func.strftime("%s", column), Integer)
    return cast(func.extract("epoch", column), Integer)


class UTCDateTime(TypeDecorator):
    """Timezone-aware UTC datetimes on every engine (SQLite stores them naive)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime; use dashboard.models.utcnow()")
        return value.astimezone(timezone.utc) if value is not None else None

    def process_result_value(self, value: datetime | None, dialect) -> datetime | None:
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=timezone.utc)
        return value


class JSONType(TypeDecorator):
    """JSON, stored as JSONB on PostgreSQL."""

    impl = JSON
    cache_ok = True

    def load_dialect_impl(self, dialect):
        return dialect.type_descriptor(JSONB() if dialect.name == "postgresql" else JSON())


Json = dict[str, Any]
