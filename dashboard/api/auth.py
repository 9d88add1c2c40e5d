"""Bearer-token authentication and the per-token rate limit of the JSON API.

No cookies and no CSRF: a request is authenticated by its ``Authorization: Bearer <token>``
header alone (a session cookie sent along is ignored) and acts with the token owner's role,
narrowed to reading by a token of the read scope.
"""
from __future__ import annotations

import math
import threading
import time
from datetime import timedelta
from functools import wraps
from typing import Callable, Protocol

from flask import current_app, g, request
from flask_babel import gettext as _

from ..extensions import db, login_manager
from ..models import ApiToken, User, utcnow
from .errors import ApiError, either

TOUCH_EVERY = timedelta(minutes=1)  # last_used_at is written at most this often per token
READ_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})  # all a token of the read scope may send


def how_to() -> str:
    """How to authenticate, in the request's language."""
    return _("Send the header Authorization: Bearer <token>; create a token on the page "
             "/account/tokens.")


def init_app(app) -> None:
    """The API's rate limiter, in app.extensions."""
    app.extensions["api_rate_limiter"] = RateLimiter(
        app.config["API_RATE_LIMIT"], app.config["API_RATE_WINDOW"], MemoryCounter())


def limiter() -> RateLimiter:
    return current_app.extensions["api_rate_limiter"]


def api_user() -> User:
    """The owner of the token that authenticated this request."""
    return g.api_token.user


# --- tokens ------------------------------------------------------------------------------------


def unauthorized(message: str, error: str | None = "invalid_token") -> ApiError:
    challenge = 'Bearer realm="api"' + (f', error="{error}"' if error else "")
    return ApiError(401, message, headers={"WWW-Authenticate": challenge})


def authenticate(header: str | None) -> ApiToken:
    """The live token named by an Authorization header; 401 when missing, unknown, revoked or
    expired."""
    scheme, _space, plaintext = (header or "").strip().partition(" ")
    if scheme.lower() != "bearer" or not plaintext.strip():
        raise unauthorized(_("No API token. %(how_to)s", how_to=how_to()), error=None)
    token = db.session.scalar(db.select(ApiToken).filter_by(token_hash=ApiToken.hash(plaintext.strip())))
    if token is None or token.revoked_at is not None or not token.user.active:
        raise unauthorized(_("The token is unknown or revoked, or its user is deactivated. "
                             "%(how_to)s", how_to=how_to()))
    if token.expired:
        raise unauthorized(_("The token expired on %(time)s (UTC). %(how_to)s",
                             time=token.expires_at.isoformat(sep=" ", timespec="minutes")[:16],
                             how_to=how_to()))
    touch(token)
    return token


def touch(token: ApiToken) -> None:
    """Record the use, at most once per TOUCH_EVERY (a conditional UPDATE: one write a minute)."""
    now = utcnow()
    if token.last_used_at is not None and now - token.last_used_at < TOUCH_EVERY:
        return
    db.session.execute(db.update(ApiToken).where(
        ApiToken.id == token.id,
        db.or_(ApiToken.last_used_at.is_(None), ApiToken.last_used_at < now - TOUCH_EVERY),
    ).values(last_used_at=now))
    db.session.commit()


def api_role_required(*roles: str):
    """Bearer token (401), within its rate limit (429), a write only with a token of the full
    scope (403), and one of roles (403; admins pass)."""

    def decorator(view):
        @wraps(view)
        def wrapped(*args, **kwargs):
            g.api_token = token = authenticate(request.headers.get("Authorization"))
            if (wait := limiter().retry_after(f"token:{token.id}")) is not None:
                raise ApiError(429, _("This token made more than %(limit)s requests in "
                                      "%(window)s s. Retry in %(wait)s s.", limit=limiter().limit,
                                      window=limiter().window, wait=wait),
                               headers={"Retry-After": str(wait)})
            if token.scope == "read" and request.method not in READ_METHODS:
                raise ApiError(403, _("This token is read-only: it may only make GET requests. "
                                      "Use a token of the full scope to make changes."),
                               scope=token.scope)
            # Services that fall back to flask_login's current_user see the token's owner.
            login_manager._update_request_context_with_user(token.user)
            if not token.user.has_role(*roles):
                raise ApiError(403, _("Your role (%(role)s) may not do this; it takes "
                                      "%(roles)s.", role=token.user.role,
                                      roles=either((*roles, "admin"))))
            return view(*args, **kwargs)

        wrapped.access = roles
        return wrapped

    return decorator


# --- rate limit --------------------------------------------------------------------------------


class Counter(Protocol):
    """Where the limiter counts: in this process now; Redis (INCR + EXPIRE) could back it later."""

    def hit(self, key: str, window_start: int, window: int) -> int:
        """Count one request in key's window starting at window_start; the count so far."""


class MemoryCounter:
    """Fixed-window counts in this process (each gunicorn worker counts on its own)."""

    def __init__(self):
        self._windows: dict[str, tuple[int, int]] = {}
        self._lock = threading.Lock()

    def hit(self, key: str, window_start: int, window: int) -> int:
        with self._lock:
            start, count = self._windows.get(key, (window_start, 0))
            count = count + 1 if start == window_start else 1
            self._windows[key] = (window_start, count)
            return count


class RateLimiter:
    """At most limit requests per key in each fixed window of window seconds."""

    def __init__(self, limit: int, window: int, counter: Counter,
                 clock: Callable[[], float] = time.time):
        self.limit, self.window, self.counter, self.clock = limit, window, counter, clock

    def retry_after(self, key: str) -> int | None:
        """Count a request: None when it is allowed, else whole seconds until the window ends."""
        if not self.limit:
            return None
        now = self.clock()
        start = int(now // self.window * self.window)
        if self.counter.hit(key, start, self.window) <= self.limit:
            return None
        return max(1, math.ceil(start + self.window - now))
