"""Authentication and user management, with audit rows; callers commit."""
import time
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import User, audit, utcnow
from .throttle import verdict


@cache
def _dummy_hash(method: str) -> str:
    """Checked when the username is unknown, so both failures take the same time."""
    return generate_password_hash("not-a-real-password", method=method)


def authenticate(username: str, password: str, *, source: str = "") -> User | None:
    """The active user with these credentials, or None; writes a login audit row either way.

    After repeated failures for the account the answer is slowed, and past the limits (per
    account or per address) refused for a while without checking the password."""
    throttle = verdict(username, source)
    if throttle == "refuse":
        audit("login_refused", actor=username[:64] or "anonymous", username=username[:64], source=source)
        return None
    if throttle == "slow":
        time.sleep(current_app.config["LOGIN_SLOW_SECONDS"])
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    elif user.check_password(password) and user.active:
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


class LastAdminError(ValueError):
    """Refused: the change would leave no active admin."""


def update_user(user: User, *, role: str, active: bool, password: str | None, actor=None) -> None:
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
    if changes:
        audit("user_changed", user, actor=actor, **changes)


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
