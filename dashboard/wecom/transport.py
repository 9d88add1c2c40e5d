"""Talking to WeCom, whatever the call: HTTP, the access-token cache, redaction, error mapping.

The API chapters in :mod:`dashboard.wecom.api` build on :class:`Transport` and call
:meth:`Transport._call`; an invalid or expired token is dropped, fetched anew and the call
retried exactly once.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import threading
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Callable, Protocol

import requests
from urllib3.exceptions import ConnectTimeoutError

from .errors import ApiError, RetryableError

# The client's name, as before the split, so log configuration and filters keep matching.
log = logging.getLogger("dashboard.wecom.client")

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin"
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
#: Suggested seconds to wait before a retry, by errcode.
RETRY_AFTER = {-1: 1.0, 45033: 2.0, 45009: 60.0}
NETWORK_RETRY_AFTER = 2.0
REFRESH_MARGIN = 300.0  # renew a token when less than this many seconds of it are left


# --- access tokens ---


@dataclass(frozen=True)
class AccessToken:
    value: str
    refresh_at: float  # on the client's clock


class TokenCache(Protocol):
    """Where access tokens live between calls; share one across clients or processes."""

    def get(self, key: str) -> AccessToken | None: ...

    def set(self, key: str, token: AccessToken) -> None: ...

    def discard(self, key: str, value: str) -> None:
        """Forget the token under ``key`` only if it is still ``value`` (compare-and-swap)."""

    def lock(self, key: str) -> AbstractContextManager:
        """Held while fetching a token, so concurrent callers make one gettoken call."""


class MemoryTokenCache:
    """The default :class:`TokenCache`: a dict in this process, safe across threads."""

    def __init__(self) -> None:
        self._tokens: dict[str, AccessToken] = {}
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def get(self, key: str) -> AccessToken | None:
        return self._tokens.get(key)

    def set(self, key: str, token: AccessToken) -> None:
        self._tokens[key] = token

    def discard(self, key: str, value: str) -> None:
        with self._guard:
            if key in self._tokens and self._tokens[key].value == value:
                del self._tokens[key]

    def lock(self, key: str) -> threading.Lock:
        with self._guard:
            return self._locks.setdefault(key, threading.Lock())


# --- bodies, redaction, errors ---


def encode_body(body: dict) -> bytes:
    """The exact bytes posted to WeCom: compact UTF-8 JSON, no ``\\u`` escapes."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


#: Query parameters whose values never reach a log: the secret, the access token and a sign-in's
#: one-time ``code`` (a whole word: ``response_code=`` and ``errcode=`` stay readable).
_SECRET_PARAMS = re.compile(r"\b(access_token|corpsecret|code)=[^&\s'\")]+")
#: Failures on the way to or from WeCom; other requests errors (a bad URL) are bugs.
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _mask(token: str) -> str:
    return token[:6] + "..." if len(token) > 12 else "***"


def redact(text: str) -> str:
    """``text`` with the values of ``access_token``, ``corpsecret`` and ``code`` in any URL replaced
    by ***."""
    return _SECRET_PARAMS.sub(r"\1=***", text)


class RedactingFilter(logging.Filter):
    """For loggers that print request URLs (urllib3's DEBUG lines, web servers' access logs):
    the secret, the access token and a sign-in code of a URL become ***."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except (TypeError, ValueError):  # a malformed call: the handler reports it as usual
            return True
        if _SECRET_PARAMS.search(message):
            record.msg, record.args = redact(message), None
        return True


def _network_error(exc: requests.RequestException) -> RetryableError:
    """The request counts as sent unless the connection never opened."""
    reason = getattr(exc.args[0], "reason", None) if exc.args else None
    never_connected = isinstance(exc, (requests.ConnectTimeout, requests.exceptions.SSLError)) or (
        isinstance(exc, requests.ConnectionError) and isinstance(reason, ConnectTimeoutError)
    )
    return RetryableError(
        -1,
        redact(f"{type(exc).__name__}: {exc}"),
        retry_after=NETWORK_RETRY_AFTER,
        request_sent=not never_connected,
        explanation="No answer from WeCom (timeout or connection failure).",
    )


def _parse(resp: requests.Response, path: str) -> dict:
    if resp.status_code >= 500:
        raise RetryableError(
            -1,
            f"HTTP {resp.status_code} from {path}",
            retry_after=NETWORK_RETRY_AFTER,
            request_sent=True,
            explanation="WeCom (or a proxy) failed with a server error.",
        )
    try:
        data = resp.json() if resp.status_code == 200 else None
    except ValueError:
        data = None
    if not isinstance(data, dict):
        raise ApiError(
            -1,
            f"HTTP {resp.status_code} from {path}, not a JSON object",
            explanation="The answer was not WeCom JSON; check the API base URL.",
        )
    errcode = data.get("errcode", 0)
    if errcode == 0:
        return data
    if errcode in RETRY_AFTER:
        raise RetryableError(errcode, data.get("errmsg", ""), retry_after=RETRY_AFTER[errcode])
    raise ApiError(errcode, data.get("errmsg", ""), response=data)


# --- the session ---


class Transport:
    """One app's session and token, shared by every API chapter (see ``WeComClient``)."""

    def __init__(
        self,
        corp_id: str,
        secret: str,
        agent_id: int,
        *,
        base_url: str = DEFAULT_BASE_URL,
        session: requests.Session | None = None,
        timeout: tuple[float, float] = (3.05, 10),
        clock: Callable[[], float] = time.monotonic,
        token_cache: TokenCache | None = None,
    ) -> None:
        self.corp_id = corp_id
        self.agent_id = int(agent_id)
        self.base_url = base_url.rstrip("/")
        self.timeout = timeout
        self.clock = clock
        self._secret = secret
        self._own_session = session is None
        self.session = session or requests.Session()
        self.token_cache = token_cache or MemoryTokenCache()
        digest = hashlib.sha256(f"{corp_id}\0{secret}".encode()).hexdigest()[:16]
        self._cache_key = f"wecom-token:{corp_id}:{digest}"

    def __repr__(self) -> str:
        return f"<{type(self).__name__} corp_id={self.corp_id!r} agent_id={self.agent_id}>"

    def close(self) -> None:
        """Close the HTTP session if this client made it."""
        if self._own_session:
            self.session.close()

    def get_access_token(self) -> str:
        """Return the cached access token, fetching one (once, across threads) when due.

        A token is renewed when less than 5 minutes of it are left (half its life if shorter).
        """
        token = self.token_cache.get(self._cache_key)
        if token is None or token.refresh_at <= self.clock():
            with self.token_cache.lock(self._cache_key):
                token = self.token_cache.get(self._cache_key)
                if token is None or token.refresh_at <= self.clock():
                    token = self._fetch_token()
                    self.token_cache.set(self._cache_key, token)
        return token.value

    def _fetch_token(self) -> AccessToken:
        params = {"corpid": self.corp_id, "corpsecret": self._secret}
        data = self._http("GET", "gettoken", params)
        value, expires_in = data["access_token"], float(data.get("expires_in", 7200))
        log.info("new access token %s for corp %s (%d s)", _mask(value), self.corp_id, expires_in)
        return AccessToken(value, self.clock() + max(expires_in - REFRESH_MARGIN, expires_in / 2))

    def _http(
        self, method: str, path: str, params: dict, body: dict | None = None, files: dict | None = None
    ) -> dict:
        """One request: a JSON ``body``, or ``files`` posted as multipart/form-data (``requests``'
        ``files=`` form: field -> (filename, bytes, content type))."""
        data = None if body is None else encode_body(body)
        headers = None if body is None else {"Content-Type": "application/json; charset=utf-8"}
        url = f"{self.base_url}/{path}"
        try:
            resp = self.session.request(
                method, url, params=params, data=data, headers=headers, files=files,
                timeout=self.timeout,
            )
        except _NETWORK_ERRORS as exc:
            raise _network_error(exc) from None  # the cause's text holds the token
        return _parse(resp, path)

    def _call(
        self,
        method: str,
        path: str,
        params: dict | None = None,
        body: dict | None = None,
        *,
        files: dict | None = None,
    ) -> dict:
        """Call with the token in the query; on a token error renew it and retry exactly once
        (a multipart upload too: ``files`` holds bytes, so the retry sends the same ones)."""
        token = self.get_access_token()
        try:
            return self._http(method, path, {"access_token": token, **(params or {})}, body, files)
        except ApiError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            log.warning("token %s rejected on %s (%s); renewing", _mask(token), path, exc.errcode)
            self.token_cache.discard(self._cache_key, token)
        token = self.get_access_token()
        return self._http(method, path, {"access_token": token, **(params or {})}, body, files)
