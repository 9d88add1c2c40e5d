"""Sign-ins (one row per signed-in browser) and the counters that throttle login attempts."""
from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ..extensions import db
from .base import UTCDateTime, utcnow

# What a person recognises in a User-Agent header, most specific first (Edge and WeCom's own
# browser also say Chrome and Safari). Product names: not translated.
BROWSERS = (("wxwork", "WeCom"), ("MicroMessenger", "WeChat"), ("Edg/", "Edge"),
            ("Firefox/", "Firefox"), ("Chrome/", "Chrome"), ("Safari/", "Safari"))
SYSTEMS = (("Windows", "Windows"), ("Android", "Android"), ("iPhone", "iOS"), ("iPad", "iPadOS"),
           ("Mac OS X", "macOS"), ("Linux", "Linux"))


class UserSession(db.Model):
    """A browser signed in as a user; its id is kept in that browser's Flask session, and a
    session whose row is gone is refused (auth/sessions.py)."""

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    ip: Mapped[str] = mapped_column(String(64), default="")
    user_agent: Mapped[str] = mapped_column(String(256), default="")

    @property
    def browser(self) -> str:
        """"Chrome · Windows" from the User-Agent header, or its start when neither is known."""
        found = [next((name for token, name in table if token in self.user_agent), None)
                 for table in (BROWSERS, SYSTEMS)]
        return " · ".join(name for name in found if name) or self.user_agent[:60]


class LoginCounter(db.Model):
    """Login attempts in the current window, per scope ("account", "address" or "pair": both)
    and subject; counted up before a password is checked, down again after a success
    (auth/throttle.py)."""

    scope: Mapped[str] = mapped_column(String(8), primary_key=True)
    subject: Mapped[str] = mapped_column(String(160), primary_key=True)
    count: Mapped[int]
    window_start: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
