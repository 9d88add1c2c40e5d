"""People who log in, and the API tokens they hold."""
import hashlib
import secrets
from datetime import datetime

from flask import current_app
from flask_login import UserMixin
from sqlalchemy import ForeignKey, String, UniqueConstraint, false, true
from sqlalchemy.orm import Mapped, mapped_column, relationship
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from .base import UTCDateTime, utcnow

ROLES = ("admin", "staff", "manager")
#: How much each role may do: managers read, staff also write, admins do everything. The highest
#: of several grants covering a member is the role they get.
ROLE_RANK = {"manager": 0, "staff": 1, "admin": 2}
GRANT_KINDS = ("department", "tag")
TOKEN_SCOPES = ("full", "read")  # read: GET requests only


def new_session_token() -> str:
    return secrets.token_urlsafe(32)


class User(UserMixin, db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    password_hash: Mapped[str] = mapped_column(String(256))
    role: Mapped[str] = mapped_column(String(16), index=True)
    active: Mapped[bool] = mapped_column(default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    language: Mapped[str | None] = mapped_column(String(8))  # zh, en; None: follow the browser
    # The user's own WeCom member (test sends go there); set on the account page, or by WeCom sign-in.
    wecom_userid: Mapped[str | None] = mapped_column(String(64), index=True)
    # Signed into the session and remember cookies (get_id); a new one ends every sign-in at once.
    session_token: Mapped[str] = mapped_column(String(64), default=new_session_token)
    # Off: the password login refuses this user, who signs in with WeCom (an admin's choice for
    # WeCom-linked users; local accounts such as break-glass admins keep it on).
    password_login: Mapped[bool] = mapped_column(default=True, server_default=true())
    # The RoleGrant this user came in by (WeCom sign-in made the row), while their access rests on
    # grants alone; None for users made by hand. No foreign key: role_grant already points at
    # user (created_by_id), and a removed grant's id stays as the reason the user was let in.
    granted_by_id: Mapped[int | None] = mapped_column(index=True)
    # Approves other people's big sends (approvals/), as admins do; needs a wecom_userid.
    may_approve: Mapped[bool] = mapped_column(default=False, server_default=false())
    # Off: no WeCom notices about this user's own campaigns (finished, started, decided).
    wecom_notices: Mapped[bool] = mapped_column(default=True, server_default=true())

    tokens: Mapped[list["ApiToken"]] = relationship(back_populates="user")

    def set_password(self, password: str) -> None:
        self.password_hash = generate_password_hash(
            password, method=current_app.config["PASSWORD_HASH_METHOD"]
        )

    def check_password(self, password: str) -> bool:
        return check_password_hash(self.password_hash, password)

    @property
    def is_active(self) -> bool:
        return self.active

    def get_id(self) -> str:
        """Flask-Login's alternative id: the cookies carry the session token, so a new token
        (rotate_session_token) turns every copy of an old session or remember cookie away."""
        return f"{self.id}:{self.session_token}"

    def rotate_session_token(self) -> None:
        self.session_token = new_session_token()

    def has_role(self, *roles: str) -> bool:
        """Admins may do everything; otherwise the user's role must be one of roles."""
        return self.role == "admin" or self.role in roles

    def __repr__(self) -> str:
        return f"<User {self.username} ({self.role})>"


class RoleGrant(db.Model):
    """A role for everyone in a WeCom department (or below it) or with a WeCom tag, given at
    their first WeCom sign-in ("everyone in 人力资源部 is staff")."""

    __table_args__ = (UniqueConstraint("kind", "wecom_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(16))  # GRANT_KINDS
    wecom_id: Mapped[int]  # the department's id or the tag's tagid in WeCom
    role: Mapped[str] = mapped_column(String(16))
    created_by_id: Mapped[int | None] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    created_by = relationship("User")

    def __repr__(self) -> str:
        return f"<RoleGrant {self.kind} {self.wecom_id}: {self.role}>"


class ApiToken(db.Model):
    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(String(80))
    prefix: Mapped[str] = mapped_column(String(12))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    revoked_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # None: until revoked
    scope: Mapped[str] = mapped_column(String(8), default="full", server_default="full")

    user: Mapped[User] = relationship(back_populates="tokens")

    @staticmethod
    def hash(token: str) -> str:
        """Tokens are long random strings, so one fast hash is enough (no salt, no KDF)."""
        return hashlib.sha256(token.encode()).hexdigest()

    @classmethod
    def issue(cls, user: User, name: str, *, scope: str = "full",
              expires_at: datetime | None = None) -> tuple["ApiToken", str]:
        """A new token row and the plaintext, which is shown once and never stored."""
        if scope not in TOKEN_SCOPES:
            raise ValueError(f"scope must be one of {TOKEN_SCOPES}, not {scope!r}")
        plaintext = "wcd_" + secrets.token_urlsafe(32)
        row = cls(user=user, name=name, prefix=plaintext[:10], token_hash=cls.hash(plaintext),
                  scope=scope, expires_at=expires_at)
        return row, plaintext

    @property
    def expired(self) -> bool:
        return self.expires_at is not None and self.expires_at <= utcnow()

    @classmethod
    def revoke_all(cls, user: User) -> int:
        """Revoke every live token of user (deactivation, a new password); how many there were.

        Here, not in the API package, because the users page (auth) calls it and auth may not
        import the API feature that builds on it."""
        now = utcnow()
        live = [token for token in user.tokens if token.revoked_at is None]
        for token in live:
            token.revoked_at = now
        return len(live)
