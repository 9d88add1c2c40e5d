"""Authentication and user management, with audit rows; callers commit."""
import secrets
import time
from functools import cache
from urllib.parse import urlsplit

from flask import current_app
from flask_babel import gettext as _
from werkzeug.security import check_password_hash, generate_password_hash

from ..extensions import db
from ..models import ApiToken, RoleGrant, User, audit, utcnow
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
    admit(username, source, refused="login_refused")
    user = db.session.scalar(db.select(User).filter_by(username=username))
    if user is None:
        check_password_hash(_dummy_hash(current_app.config["PASSWORD_HASH_METHOD"]), password)
    elif user.check_password(password) and user.active and not user.password_login:
        throttle.succeeded(username, source)  # the right password: not a guess to slow down
        audit("login_failed", user, actor=user, username=username[:64], source=source,
              reason="password_login_off")
        raise PasswordSignInOff(username)
    elif user.check_password(password) and user.active:
        throttle.succeeded(username, source)
        user.last_login_at = utcnow()
        audit("login", user, actor=user, source=source)
        return user
    audit("login_failed", actor=username[:64] or "anonymous", username=username[:64], source=source)
    return None


class PasswordSignInOff(Exception):
    """Refused after the right password: an admin turned password sign-in off for this user, who
    signs in with WeCom."""


def admit(username: str, source: str, *, refused: str) -> None:
    """Count an attempt to prove username's password (throttle.py) and wait as long as it says;
    when locked, write the audit row named refused and raise TooManyAttempts, unchecked. WeCom
    sign-in counts its attempts here too (under a name no username can have)."""
    verdict = throttle.admit(username, source)
    if verdict.locked_until is not None:
        audit(refused, actor=username[:64] or "anonymous", username=username[:64], source=source,
              reason=verdict.reason)
        raise TooManyAttempts(verdict.minutes)
    time.sleep(verdict.wait)


class WrongPassword(ValueError):
    """Refused: the current password given is not the user's."""


def change_password(user: User, current: str, new: str, *, revoke_tokens: bool = True,
                    source: str = "") -> None:
    """The user's own new password. The current one is asked for, and checked under the login
    throttle, so a borrowed session can neither take the account over nor guess it faster than
    the login page allows. As with an admin's change, every sign-in ends and, unless
    revoke_tokens is False, so do the API tokens; the caller signs this browser in again."""
    source = source or ""
    admit(user.username, source, refused="password_change_refused")
    if not user.check_password(current):
        audit("password_change_failed", user, actor=user, source=source)
        raise WrongPassword(_("That is not your current password."))
    throttle.succeeded(user.username, source)
    update_user(user, role=user.role, active=user.active, password=new, revoke_tokens=revoke_tokens,
                actor=user)


def create_user(username: str, role: str, password: str | None, *, wecom_userid: str | None = None,
                password_login: bool = True, granted_by: RoleGrant | None = None, actor=None,
                **details) -> User:
    """A new user. Without a password (one who signs in with WeCom) an unusable random one is
    set, which nobody knows. granted_by: the grant that let a WeCom member in; details: more for
    the audit row (how they came, their name in the directory)."""
    user = User(username=username, role=role, wecom_userid=(wecom_userid or "").strip() or None,
                password_login=password_login, granted_by_id=granted_by.id if granted_by else None)
    user.set_password(password or secrets.token_urlsafe(32))
    db.session.add(user)
    db.session.flush()
    more = {"wecom_userid": user.wecom_userid, "granted_by": user.granted_by_id, **details}
    more["password_login"] = None if password_login else False
    audit("user_created", user, actor=actor, username=username, role=role,
          **{key: value for key, value in more.items() if value is not None})
    return user


def set_wecom_userid(user: User, userid: str | None, *, actor=None) -> None:
    """The user's own WeCom member (None: none): their test sends go there unless they say otherwise."""
    userid = (userid or "").strip() or None
    if userid != user.wecom_userid:
        audit("user_wecom_userid_set", user, actor=actor, wecom_userid=[user.wecom_userid, userid])
        user.wecom_userid = userid


class LastAdminError(ValueError):
    """Refused: the change would leave no active admin."""


class _Keep:
    """update_user's default for wecom_userid: leave it as it is."""


KEEP = _Keep()


def update_user(user: User, *, role: str, active: bool, password: str | None,
                revoke_tokens: bool = True, wecom_userid: str | None | _Keep = KEEP,
                password_login: bool | None = None, may_approve: bool | None = None,
                by_hand: bool = True, actor=None) -> None:
    """Deactivating revokes the user's API tokens; so does a new password, unless revoke_tokens
    is False (a leaked password may have made tokens too). Any change ends the user's sign-ins.
    A user a grant let in is taken over by hand (by_hand: an admin, the CLI) when their role
    changes or they are reactivated: from then on the grants no longer set their role."""
    if user.role == "admin" and (role != "admin" or not active) and _active_admins() <= 1:
        raise LastAdminError(_("This is the last active admin; make another admin first."))
    changes = {}
    if by_hand and user.granted_by_id is not None and (role != user.role or active and not user.active):
        changes["granted_by"] = [user.granted_by_id, None]
        user.granted_by_id = None
    wanted = {"role": role, "active": active}
    if not isinstance(wecom_userid, _Keep):
        wanted["wecom_userid"] = (wecom_userid or "").strip() or None
    if password_login is not None:
        wanted["password_login"] = password_login
    if may_approve is not None:
        wanted["may_approve"] = may_approve
    for name, value in wanted.items():
        if value != getattr(user, name):
            changes[name] = [getattr(user, name), value]
            setattr(user, name, value)
    if password:
        user.set_password(password)
        changes["password"] = "changed"
    if changes:  # a new role, password or WeCom link, or (de)activation: no old cookie carries it over
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
