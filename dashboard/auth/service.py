"""Authentication and user management, with audit rows; callers commit."""
import time
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, User, audit, utcnow
from . import sessions, throttle


@cache
def _dummy_hash(method: str) -> str:
    """Checked when the username is unknown, so both failures take the same time."""
    return generate_password_hash("not-a-real-password", method=method)


class TooManyAttempts(Exception):
    """Refused without a password check: too many attempts; the lock ends in minutes."""

    def __init__(self, minutes: int):
        super().__init__(minutes)
        self.minutes = minutes


def authenticate(username: str, password: str, *, source: str = "") -> User | None:
    """The active user with these credentials, or None; writes a login audit row either way.

    Throttled (throttle.py): after repeated failures of this account from this address each try
    waits longer, and past the limits it raises TooManyAttempts without checking the password."""
    source = source or ""
    verdict = throttle.admit(username, source)
    if verdict.locked_until is not None:
        audit("login_refused", actor=username[:64] or "anonymous", username=username[:64], source=source,
              reason=verdict.reason)
        raise TooManyAttempts(verdict.minutes)
    time.sleep(verdict.wait)
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    elif user.check_password(password) and user.active:
        throttle.succeeded(username, source)
        user.last_login_at = utcnow()
        audit("login", user, actor=user, source=source)
        return user
    audit("login_failed", actor=username[:64] or "anonymous", username=username[:64], source=source)
    return None


def create_user(username: str, role: str, password: str, *, actor=None) -> User:
    user = User(username=username, role=role)
    user.set_password(password)
    db.session.add(user)
    db.session.flush()
    audit("user_created", user, actor=actor, username=username, role=role)
    return user

def set_wecom_userid(user: User, userid: str | None, *, actor=None) -> None:
    """The user's own WeCom member (None: none): their test sends go there unless they say otherwise."""
    userid = (userid or "").strip() or None
    if userid != user.wecom_userid:
        audit("user_wecom_userid_set", user, actor=actor, wecom_userid=[user.wecom_userid, userid])
        user.wecom_userid = userid


class LastAdminError(ValueError):
    """Refused: the change would leave no active admin."""


def update_user(user: User, *, role: str, active: bool, password: str | None,
                revoke_tokens: bool = True, actor=None) -> None:
    """Deactivating revokes the user's API tokens; so does a new password, unless revoke_tokens
    is False (a leaked password may have made tokens too)."""
    if user.role == "admin" and (role != "admin" or not active) and _active_admins() <= 1:
        raise LastAdminError(_("This is the last active admin; make another admin first."))
    changes = {}
    if role != user.role:
        changes["role"] = [user.role, role]
        user.role = role
    if active != user.active:
        changes["active"] = [user.active, active]
        user.active = active
    if password:
        user.set_password(password)
        changes["password"] = "changed"
    if changes:  # a new role or password, or (de)activation: no old cookie carries it over
        sessions.end_all(user)
    if (not active or password and revoke_tokens) and (revoked := ApiToken.revoke_all(user)):
        changes["api_tokens_revoked"] = revoked
    if changes:
        audit("user_changed", user, actor=actor, **changes)


def end_sessions(user: User, *, action: str = "sessions_ended", actor=None) -> None:
    """Sign user out everywhere; signing out ("logout") does it too, so that no copy of the
    cookie outlives it."""
    sessions.end_all(user)
    audit(action, user, actor=actor)


def _active_admins() -> int:
    return db.session.scalar(
        db.select(db.func.count()).select_from(User).filter_by(role="admin", active=True)
    )


def safe_next(target: str | None) -> str | None:
    """target if it is a path on this site, else None (no open redirects)."""
    if not target or not target.startswith("/") or target.startswith("//") or "\\" in target:
        return None
    parts = urlsplit(target)
    return target if not parts.scheme and not parts.netloc else None
