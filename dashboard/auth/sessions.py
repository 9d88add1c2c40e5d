"""Sign-ins that can be ended.

A signed-in browser carries, signed by Flask, the user's id and session token (User.get_id) and
the id of its UserSession row. It is refused when the token has been rotated (sign-out, a new
password, role or deactivation, "sign out everywhere", an admin's "end sessions") or its row is
gone, so every copy of an old session or remember cookie stops at once.

Rows are written in a short transaction of their own: the user loader runs inside requests
that never commit (every GET), and a row must exist before the next request comes.
"""
import hmac
import secrets
from datetime import timedelta

from flask import current_app, request, session

from ..extensions import db
from ..models import User, UserSession, utcnow

SIGN_IN = "sign_in"  # the key of the UserSession id in the Flask session
TOUCH_EVERY = timedelta(minutes=1)  # last_seen_at is written at most this often per sign-in


def start(user: User) -> None:
    """Record a sign-in from this browser (after login_user, or a remember cookie's return), and
    forget the user's sign-ins that have not been seen for longer than a session lasts."""
    now = utcnow()
    row = {"id": secrets.token_urlsafe(16), "user_id": user.id, "created_at": now, "last_seen_at": now,
           "ip": (request.remote_addr or "")[:64], "user_agent": request.user_agent.string[:256]}
    stale = now - current_app.permanent_session_lifetime - TOUCH_EVERY
    with db.engine.begin() as connection:
        connection.execute(db.delete(UserSession).where(UserSession.user_id == user.id,
                                                        UserSession.last_seen_at < stale))
        connection.execute(db.insert(UserSession).values(**row))
    session[SIGN_IN] = row["id"]


def load_user(user_id: str) -> User | None:
    """Flask-Login's user loader: the active user whose current token the cookie carries, on a
    sign-in that has not been ended. A browser without a sign-in id comes back on its remember
    cookie: that starts a new sign-in."""
    number, _colon, token = user_id.partition(":")
    user = db.session.get(User, int(number)) if number.isdigit() and token else None
    if user is None or not user.active or not hmac.compare_digest(user.session_token, token):
        return None
    if SIGN_IN not in session:
        start(user)
        return user
    return user if _seen(session[SIGN_IN], user.id) else None


def _seen(sign_in: str, user_id: int) -> bool:
    """Whether the sign-in is still there. Once a minute its last_seen_at is brought up to date
    and the session cookie signed again: Flask refuses a cookie signed longer ago than
    PERMANENT_SESSION_LIFETIME (SESSION_HOURS), so a sign-in in use slides on and an idle one
    ends. (Not a permanent session refreshed on every request: the API must set no cookie.)"""
    last_seen = db.session.scalar(db.select(UserSession.last_seen_at).filter_by(id=sign_in, user_id=user_id))
    now = utcnow()
    if last_seen is None:
        return False
    if now - last_seen >= TOUCH_EVERY:
        with db.engine.begin() as connection:
            connection.execute(db.update(UserSession).filter_by(id=sign_in)
                               .where(UserSession.last_seen_at < now - TOUCH_EVERY).values(last_seen_at=now))
        session.modified = True
    return True


def end_all(user: User) -> None:
    """Sign the user out everywhere: a new token refuses every cookie issued before, and their
    sign-ins are deleted. In the caller's transaction: the caller commits."""
    user.rotate_session_token()
    db.session.execute(db.delete(UserSession).where(UserSession.user_id == user.id))


def active(user: User) -> list[UserSession]:
    """The user's sign-ins, the most recently seen first."""
    return list(db.session.scalars(db.select(UserSession).filter_by(user_id=user.id)
                                   .order_by(UserSession.last_seen_at.desc())))


def current() -> str | None:
    """The id of this browser's sign-in."""
    return session.get(SIGN_IN)
