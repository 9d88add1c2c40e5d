"""WeCom server API client: access-token cache, template-card send/update/recall, directory reads,
who signed in with WeCom, pictures uploaded for cards.

Failures are exceptions, never dicts to inspect: :class:`RetryableError` when a later attempt may
pass (busy, rate limited, network), :class:`ApiError` otherwise. An invalid or expired access
token is dropped, fetched anew and the call retried exactly once.

The pieces live in :mod:`.transport` (HTTP, tokens, redaction, error mapping) and in
:mod:`.api`, one module per chapter of WeCom's API (messages, directory, network, menus,
identity, media); this module puts them together and is where callers import from.
"""

from __future__ import annotations

from .api import DirectoryAPI, MenusAPI, MessagesAPI, NetworkAPI
from .api.identity import INVALID_CODE, IdentityAPI, NotAMemberError
from .api.media import MediaAPI
from .api.messages import (
    MAX_DUPLICATE_CHECK_INTERVAL,
    MAX_PARTIES,
    MAX_TAGS,
    MAX_USERS,
    Recipients,
    SendResult,
    UpdateResult,
    build_send_body,
    build_update_body,
)
from .errors import ApiError, RetryableError
from .transport import (
    DEFAULT_BASE_URL,
    NETWORK_RETRY_AFTER,
    REFRESH_MARGIN,
    RETRY_AFTER,
    TOKEN_ERRCODES,
    AccessToken,
    MemoryTokenCache,
    RedactingFilter,
    TokenCache,
    Transport,
    encode_body,
    redact,
)

__all__ = [
    "DEFAULT_BASE_URL",
    "TOKEN_ERRCODES",
    "RETRY_AFTER",
    "NETWORK_RETRY_AFTER",
    "REFRESH_MARGIN",
    "MAX_USERS",
    "MAX_PARTIES",
    "MAX_TAGS",
    "MAX_DUPLICATE_CHECK_INTERVAL",
    "Recipients",
    "AccessToken",
    "TokenCache",
    "MemoryTokenCache",
    "build_send_body",
    "build_update_body",
    "encode_body",
    "SendResult",
    "UpdateResult",
    "redact",
    "RedactingFilter",
    "ApiError",
    "RetryableError",
    "NotAMemberError",
    "INVALID_CODE",
    "WeComClient",
]


class WeComClient(MessagesAPI, DirectoryAPI, NetworkAPI, MenusAPI, IdentityAPI, MediaAPI, Transport):
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
