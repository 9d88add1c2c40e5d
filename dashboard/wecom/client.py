"""WeCom server API client: access-token cache, template-card send/update/recall, directory reads.

Failures are exceptions, never dicts to inspect: :class:`RetryableError` when a later attempt may
pass (busy, rate limited, network), :class:`ApiError` otherwise. An invalid or expired access
token is dropped, fetched anew and the call retried exactly once.
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
from typing import Any, Callable, Iterable, Protocol

import requests
from urllib3.exceptions import ConnectTimeoutError

from .errors import ApiError, RetryableError

log = logging.getLogger(__name__)

DEFAULT_BASE_URL = "https://qyapi.weixin.qq.com/cgi-bin"
TOKEN_ERRCODES = frozenset({40001, 40014, 42001})
#: Suggested seconds to wait before a retry, by errcode.
RETRY_AFTER = {-1: 1.0, 45033: 2.0, 45009: 60.0}
NETWORK_RETRY_AFTER = 2.0
REFRESH_MARGIN = 300.0  # renew a token when less than this many seconds of it are left
MAX_USERS, MAX_PARTIES, MAX_TAGS = 1000, 100, 100
MAX_DUPLICATE_CHECK_INTERVAL = 14400

Recipients = str | Iterable[str | int] | None


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


# --- payloads and results ---


def _split(value: Recipients) -> list[str]:
    """Ids from a list or a `|`-joined string: stripped, non-empty, first occurrence kept."""
    if value is None:
        return []
    items = value.split("|") if isinstance(value, str) else value
    return list(dict.fromkeys(s for s in (str(i).strip() for i in items) if s))


def _checked(name: str, value: Recipients, limit: int) -> list[str]:
    ids = _split(value)
    if len(ids) > limit:
        raise ValueError(f"{name}: {len(ids)} ids, WeCom allows at most {limit} per call")
    return ids


def build_send_body(
    template_card: dict,
    agent_id: int,
    *,
    touser: Recipients = None,
    toparty: Recipients = None,
    totag: Recipients = None,
    enable_id_trans: bool = False,
    enable_duplicate_check: bool = False,
    duplicate_check_interval: int = 1800,
) -> dict:
    """Build the ``message/send`` body: the one payload both the preview and the sender use.

    Recipients are lists or `|`-joined strings (``"@all"`` allowed as touser), de-duplicated
    and joined with `|`. Every key is always present, in a fixed order, with empty recipient
    fields as ``""`` (as in WeCom's examples), so a card always gives the same bytes.

    :raises ValueError: over 1000 users, 100 parties or 100 tags; an interval not in 1..14400.
    """
    if not 0 < duplicate_check_interval <= MAX_DUPLICATE_CHECK_INTERVAL:
        raise ValueError(f"duplicate_check_interval must be 1..{MAX_DUPLICATE_CHECK_INTERVAL}")
    return {
        "touser": "|".join(_checked("touser", touser, MAX_USERS)),
        "toparty": "|".join(_checked("toparty", toparty, MAX_PARTIES)),
        "totag": "|".join(_checked("totag", totag, MAX_TAGS)),
        "msgtype": "template_card",
        "agentid": int(agent_id),
        "template_card": template_card,
        "enable_id_trans": int(enable_id_trans),
        "enable_duplicate_check": int(enable_duplicate_check),
        "duplicate_check_interval": int(duplicate_check_interval),
    }


def build_update_body(
    response_code: str,
    agent_id: int,
    *,
    userids: Recipients = None,
    partyids: Recipients = None,
    tagids: Recipients = None,
    atall: bool = False,
    template_card: dict | None = None,
    replace_name: str | None = None,
    enable_id_trans: bool = False,
) -> dict:
    """Build the ``message/update_template_card`` body (see ``WeComClient.update_template_card``).

    Empty id lists are left out; ``enable_id_trans`` only goes with ``template_card``.
    """
    if (template_card is None) == (replace_name is None):
        raise ValueError("give exactly one of template_card and replace_name")
    if not response_code:
        raise ValueError("response_code is required")
    targets: dict[str, Any] = {
        "userids": _checked("userids", userids, MAX_USERS),
        "partyids": [int(i) for i in _checked("partyids", partyids, MAX_PARTIES)],
        "tagids": [int(i) for i in _checked("tagids", tagids, MAX_TAGS)],
    }
    if not (atall or any(targets.values())):
        raise ValueError("give userids, partyids or tagids to update, or atall=True")
    body = {k: v for k, v in targets.items() if v}
    body.update(atall=int(atall), agentid=int(agent_id), response_code=response_code)
    if replace_name is not None:
        body["button"] = {"replace_name": replace_name}
    else:
        body.update(template_card=template_card, enable_id_trans=int(enable_id_trans))
    return body


def encode_body(body: dict) -> bytes:
    """The exact bytes posted to WeCom: compact UTF-8 JSON, no ``\\u`` escapes."""
    return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


@dataclass(frozen=True)
class SendResult:
    """A successful ``message/send``: who was skipped, and the ids to recall or update it."""

    errcode: int
    errmsg: str
    msgid: str
    response_code: str | None  # only for cards that can call back
    invalid_users: list[str]
    invalid_parties: list[str]
    invalid_tags: list[str]
    unlicensed_users: list[str]
    raw: dict

    @classmethod
    def from_response(cls, data: dict) -> SendResult:
        return cls(
            errcode=data.get("errcode", 0),
            errmsg=data.get("errmsg", ""),
            msgid=data.get("msgid", ""),
            response_code=data.get("response_code") or None,
            invalid_users=_split(data.get("invaliduser")),
            invalid_parties=_split(data.get("invalidparty")),
            invalid_tags=_split(data.get("invalidtag")),
            unlicensed_users=_split(data.get("unlicenseduser")),
            raw=data,
        )


@dataclass(frozen=True)
class UpdateResult:
    """A successful ``message/update_template_card``; WeCom lists invalid users as an array."""

    invalid_users: list[str]
    raw: dict


# --- transport ---

_SECRET_PARAMS = re.compile(r"(access_token|corpsecret)=[^&\s'\")]+")
#: Failures on the way to or from WeCom; other requests errors (a bad URL) are bugs.
_NETWORK_ERRORS = (
    requests.ConnectionError,
    requests.Timeout,
    requests.exceptions.ChunkedEncodingError,
)


def _mask(token: str) -> str:
    return token[:6] + "..." if len(token) > 12 else "***"


def redact(text: str) -> str:
    """``text`` with the values of ``access_token`` and ``corpsecret`` in any URL replaced by ***."""
    return _SECRET_PARAMS.sub(r"\1=***", text)


class RedactingFilter(logging.Filter):
    """For loggers that print request URLs (urllib3's DEBUG lines, web servers' access logs):
    the secret and the access token of a WeCom URL become ***."""

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


class WeComClient:
    """Calls the WeCom server API as one self-built app; safe to share between threads.

    :param corp_id: the corp id (ww...).
    :param secret: the app's secret; never logged.
    :param agent_id: the app's AgentId.
    :param base_url: API root; point it at the sandbox or a fake server to test.
    :param session: a ``requests.Session`` to reuse; the client makes its own otherwise.
    :param timeout: ``(connect, read)`` seconds for every call.
    :param clock: seconds on a steady clock; use ``time.time`` with a cache shared between
        processes.
    :param token_cache: where tokens are kept, keyed per (corp id, secret).
    """

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
        return f"<WeComClient corp_id={self.corp_id!r} agent_id={self.agent_id}>"

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

    def _http(self, method: str, path: str, params: dict, body: dict | None = None) -> dict:
        data = None if body is None else encode_body(body)
        headers = None if body is None else {"Content-Type": "application/json; charset=utf-8"}
        url = f"{self.base_url}/{path}"
        try:
            resp = self.session.request(
                method, url, params=params, data=data, headers=headers, timeout=self.timeout
            )
        except _NETWORK_ERRORS as exc:
            raise _network_error(exc) from None  # the cause's text holds the token
        return _parse(resp, path)

    def _call(
        self, method: str, path: str, params: dict | None = None, body: dict | None = None
    ) -> dict:
        """Call with the token in the query; on a token error renew it and retry exactly once."""
        token = self.get_access_token()
        try:
            return self._http(method, path, {"access_token": token, **(params or {})}, body)
        except ApiError as exc:
            if exc.errcode not in TOKEN_ERRCODES:
                raise
            log.warning("token %s rejected on %s (%s); renewing", _mask(token), path, exc.errcode)
            self.token_cache.discard(self._cache_key, token)
        token = self.get_access_token()
        return self._http(method, path, {"access_token": token, **(params or {})}, body)

    def send_template_card(
        self,
        template_card: dict,
        *,
        touser: Recipients = None,
        toparty: Recipients = None,
        totag: Recipients = None,
        enable_id_trans: bool = False,
        enable_duplicate_check: bool = False,
        duplicate_check_interval: int = 1800,
    ) -> SendResult:
        """Send a template card to up to 1000 users, 100 departments and 100 tags.

        Arguments as for :func:`build_send_body`. To retry after a :class:`RetryableError`
        with ``request_sent``, build the body yourself and :meth:`send` it again unchanged
        with ``enable_duplicate_check``.

        :raises ValueError: no recipients at all, or too many for one call.
        """
        body = build_send_body(
            template_card,
            self.agent_id,
            touser=touser,
            toparty=toparty,
            totag=totag,
            enable_id_trans=enable_id_trans,
            enable_duplicate_check=enable_duplicate_check,
            duplicate_check_interval=duplicate_check_interval,
        )
        if not (body["touser"] or body["toparty"] or body["totag"]):
            raise ValueError("no recipients: give touser, toparty or totag")
        return self.send(body)

    def send(self, body: dict) -> SendResult:
        """Post a ready ``message/send`` body unchanged (e.g. to retry the identical body)."""
        return SendResult.from_response(self._call("POST", "message/send", body=body))

    def update_template_card(
        self,
        response_code: str,
        *,
        userids: Recipients = None,
        partyids: Recipients = None,
        tagids: Recipients = None,
        atall: bool = False,
        template_card: dict | None = None,
        replace_name: str | None = None,
        enable_id_trans: bool = False,
    ) -> UpdateResult:
        """Update a sent card with a one-time ``response_code`` (from the send or a callback).

        Give exactly one of ``replace_name`` (mode A: grey out the clicked button with this
        caption) and ``template_card`` (mode B: replace the card), and whom to update:
        ``userids``/``partyids``/``tagids`` or ``atall``.

        :raises ValueError: both modes or neither, nobody to update, or too many ids.
        """
        body = build_update_body(
            response_code,
            self.agent_id,
            userids=userids,
            partyids=partyids,
            tagids=tagids,
            atall=atall,
            template_card=template_card,
            replace_name=replace_name,
            enable_id_trans=enable_id_trans,
        )
        data = self._call("POST", "message/update_template_card", body=body)
        return UpdateResult(invalid_users=_split(data.get("invaliduser")), raw=data)

    def recall(self, msgid: str) -> None:
        """Recall a message sent within the last 24 hours (42052 after that)."""
        self._call("POST", "message/recall", body={"msgid": msgid})

    def list_departments(self, id: int | None = None) -> list[dict]:
        """Departments visible to the app: all, or department ``id`` and those below it."""
        return self._call("GET", "department/list", {} if id is None else {"id": id})["department"]

    def list_department_users(self, department_id: int, fetch_child: bool = False) -> list[dict]:
        """Members of a department (userid, name, department), and of those below it if asked."""
        params = {"department_id": department_id, "fetch_child": int(fetch_child)}
        return self._call("GET", "user/simplelist", params)["userlist"]

    def list_tags(self) -> list[dict]:
        """Tags visible to the app (tagid, tagname)."""
        return self._call("GET", "tag/list")["taglist"]

    def tag_members(self, tagid: int) -> dict:
        """Members of a tag: ``{"userlist": [{"userid", "name"}, ...], "partylist": [ids]}``."""
        data = self._call("GET", "tag/get", {"tagid": tagid})
        return {"userlist": data.get("userlist", []), "partylist": data.get("partylist", [])}

    def get_callback_ip(self) -> list[str]:
        """Addresses WeCom sends callbacks from (for an allow-list)."""
        return self._call("GET", "getcallbackip")["ip_list"]
