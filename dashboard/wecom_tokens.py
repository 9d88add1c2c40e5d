"""Access-token caches shared by every web and worker process, so they make one gettoken call
between them: in Redis when the queue is Redis, else in the database (the shared_value table),
each behind a copy kept in the process (:class:`ProcessTokenCache`), so a blip of Redis costs no
call while the token lasts.

Both follow wecom.client.TokenCache; refresh times are time.time() seconds, the same on every
machine. The fetch lock expires after LOCK_SECONDS, so a process that dies holding it blocks the
others no longer than that.
"""
from __future__ import annotations

import json
import logging
import secrets
import threading
import time
from contextlib import contextmanager
from functools import cached_property

from redis.exceptions import RedisError
from sqlalchemy.exc import IntegrityError, OperationalError

from .extensions import db
from .models import SharedValue
from .wecom.client import REFRESH_MARGIN, AccessToken

log = logging.getLogger(__name__)

LOCK_SECONDS = 15  # longer than a gettoken call can take (3.05 s connect + 10 s read timeouts)
_DISCARD = """if redis.call('HGET', KEYS[1], 'value') == ARGV[1] then
  return redis.call('DEL', KEYS[1]) end return 0"""


def _lifetime(token: AccessToken) -> int:
    """Seconds to keep a token: until it expires (REFRESH_MARGIN after it is due for renewal)."""
    return max(1, int(token.refresh_at - time.time() + REFRESH_MARGIN))


SHARED_DOWN = (RedisError, OperationalError, TimeoutError)  # the shared cache cannot answer now


class ProcessTokenCache:
    """The token kept in this process for its remaining life, in front of the ``shared`` cache:
    read from it only when due for renewal (or rejected by WeCom). While the shared cache cannot
    answer (Redis restarting), a token still valid is used, and a renewal is made by this
    process alone and kept here; the shared cache gets it back once it answers again."""

    def __init__(self, shared, clock=time.time) -> None:
        self.shared, self.clock = shared, clock
        self._kept: dict[str, AccessToken] = {}
        self._local_lock = threading.Lock()

    def get(self, key: str) -> AccessToken | None:
        kept = self._kept.get(key)
        if kept is not None and self.clock() < kept.refresh_at:
            return kept
        try:
            token = self.shared.get(key)
        except SHARED_DOWN as exc:
            if kept is not None and self.clock() < kept.refresh_at + REFRESH_MARGIN:  # still valid
                log.warning("the shared token cache is down (%s): using this process's token", exc)
                return kept
            log.warning("the shared token cache is down (%s): renewing the token here", exc)
            return None
        if token is not None:
            self._kept[key] = token
        return token

    def set(self, key: str, token: AccessToken) -> None:
        self._kept[key] = token
        try:
            self.shared.set(key, token)
        except SHARED_DOWN as exc:
            log.warning("token kept in this process only: the shared cache is down (%s)", exc)

    def discard(self, key: str, value: str) -> None:
        if (kept := self._kept.get(key)) is not None and kept.value == value:
            del self._kept[key]
        try:
            self.shared.discard(key, value)
        except SHARED_DOWN as exc:
            log.warning("rejected token not discarded from the shared cache (%s)", exc)

    @contextmanager
    def lock(self, key: str):
        """The shared fetch lock; this process's own while the shared cache cannot answer."""
        try:
            shared = self.shared.lock(key)
            shared.__enter__()
        except SHARED_DOWN:
            with self._local_lock:
                yield
            return
        try:
            yield
        finally:
            try:
                shared.__exit__(None, None, None)
            except SHARED_DOWN as exc:  # it expires by itself (LOCK_SECONDS)
                log.warning("token fetch lock not released (%s)", exc)


class RedisTokenCache:
    """Tokens in a Redis hash per key; the fetch lock is redis-py's SET NX lock."""

    def __init__(self, redis, prefix: str = "dashboard:") -> None:
        self.redis, self.prefix = redis, prefix
        self._discard = redis.register_script(_DISCARD)

    def get(self, key: str) -> AccessToken | None:
        value, refresh_at = self.redis.hmget(self.prefix + key, "value", "refresh_at")
        return AccessToken(value.decode(), float(refresh_at)) if value and refresh_at else None

    def set(self, key: str, token: AccessToken) -> None:
        with self.redis.pipeline() as pipe:  # MULTI/EXEC: never a token without its expiry
            pipe.hset(self.prefix + key, mapping={"value": token.value,
                                                  "refresh_at": repr(token.refresh_at)})
            pipe.expire(self.prefix + key, _lifetime(token))
            pipe.execute()

    def discard(self, key: str, value: str) -> None:
        self._discard(keys=[self.prefix + key], args=[value])

    def lock(self, key: str):
        return self.redis.lock(f"{self.prefix}{key}:lock", timeout=LOCK_SECONDS,
                               blocking_timeout=2 * LOCK_SECONDS, sleep=0.02)


class DatabaseTokenCache:
    """Tokens as JSON in shared_value rows; the fetch lock is a row with an expiry, taken by a
    conditional UPDATE or the INSERT that creates it. Each step is its own short transaction."""

    def __init__(self, app) -> None:
        self.app = app

    @cached_property
    def engine(self):
        """Reached without an app context: clients call from worker threads too."""
        with self.app.app_context():
            return db.engine

    def _row(self, name: str):
        with self.engine.connect() as connection:
            return connection.scalar(db.select(SharedValue.value).filter_by(name=name))

    def _put(self, name: str, value: str | None, expires_at: float | None, *where) -> bool:
        """Update the row (if it matches where), or create it; True when either happened."""
        with self.engine.begin() as connection:
            if connection.execute(db.update(SharedValue).filter_by(name=name).where(*where).values(
                    value=value, expires_at=expires_at)).rowcount:
                return True
        try:
            with self.engine.begin() as connection:
                connection.execute(db.insert(SharedValue).values(name=name, value=value,
                                                                 expires_at=expires_at))
            return True
        except IntegrityError:  # the row exists: it did not match where
            return False

    def get(self, key: str) -> AccessToken | None:
        raw = self._row(key)
        return AccessToken(**json.loads(raw)) if raw else None

    def set(self, key: str, token: AccessToken) -> None:
        raw = json.dumps({"value": token.value, "refresh_at": token.refresh_at})
        expires_at = time.time() + _lifetime(token)
        if not self._put(key, raw, expires_at):  # another process made the row meanwhile
            self._put(key, raw, expires_at)

    def discard(self, key: str, value: str) -> None:
        raw = self._row(key)
        if raw and json.loads(raw)["value"] == value:
            with self.engine.begin() as connection:  # compare-and-swap on the whole row
                connection.execute(db.delete(SharedValue).filter_by(name=key, value=raw))

    @contextmanager
    def lock(self, key: str):
        name, owner = f"{key}:lock", secrets.token_hex(8)
        deadline = time.monotonic() + 2 * LOCK_SECONDS
        while not self._put(name, owner, time.time() + LOCK_SECONDS,
                            db.or_(SharedValue.expires_at.is_(None),
                                   SharedValue.expires_at < time.time())):
            if time.monotonic() > deadline:
                raise TimeoutError(f"the access-token lock stayed taken for {2 * LOCK_SECONDS} s")
            time.sleep(0.02)
        try:
            yield
        finally:
            with self.engine.begin() as connection:
                connection.execute(db.update(SharedValue).filter_by(name=name, value=owner)
                                   .values(value=None, expires_at=None))
