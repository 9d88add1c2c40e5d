"""Small values the web and worker processes share through the database when there is no Redis."""
from sqlalchemy import Float, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db


class SharedValue(db.Model):
    """A named value: the WeCom access token and the lock for fetching it (wecom_tokens.py), and
    the row that campaign claims lock (campaigns/leases.py)."""

    name: Mapped[str] = mapped_column(String(200), primary_key=True)
    value: Mapped[str | None] = mapped_column(Text)
    expires_at: Mapped[float | None] = mapped_column(Float)  # time.time() seconds; None: never
