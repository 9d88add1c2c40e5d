"""WeCom's own servers: where its callbacks come from."""

from __future__ import annotations

from typing import Callable


class NetworkAPI:
    """Calls about WeCom itself; mixed into ``WeComClient``, which provides ``_call``."""

    _call: Callable[..., dict]

    def get_callback_ip(self) -> list[str]:
        """Addresses WeCom sends callbacks from (for an allow-list)."""
        return self._call("GET", "getcallbackip")["ip_list"]
