"""Who may call the callback URL: WECOM_CALLBACK_ALLOW, a comma-separated list of networks
(``10.0.0.0/8``, ``127.0.0.1``) and ``wecom``, the addresses WeCom calls back from (fetched with
getcallbackip and kept an hour; a failed fetch keeps the last list). Empty: anyone may.
"""
from __future__ import annotations

import ipaddress
import logging
import threading
import time
from typing import Callable

import requests
from flask import current_app

from ..config import ConfigError
from ..models import utcnow
from ..wecom.errors import WeComError

log = logging.getLogger(__name__)

KEEP = 3600.0  # seconds WeCom's addresses are used before they are fetched again
RETRY = 60.0  # seconds after a failed fetch before the next try (the last list serves meanwhile)
FETCH_FAILURES = (WeComError, requests.RequestException, LookupError, TypeError, ValueError)

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def parse(value: str | None) -> tuple[bool, tuple[Network, ...]]:
    """(whether ``wecom`` is listed, the listed networks); ConfigError names a bad entry."""
    entries = [entry.strip() for entry in (value or "").split(",") if entry.strip()]
    networks = []
    for entry in entries:
        if entry.lower() != "wecom":
            try:
                networks.append(ipaddress.ip_network(entry, strict=False))
            except ValueError:
                raise ConfigError(f"WECOM_CALLBACK_ALLOW: {entry!r} is neither `wecom` nor an IP "
                                  "address or network (e.g. 10.0.0.0/8 or 127.0.0.1).") from None
    return any(entry.lower() == "wecom" for entry in entries), tuple(networks)


def _address(value: str | None):
    try:
        address = ipaddress.ip_address(value or "")
    except ValueError:
        return None
    return getattr(address, "ipv4_mapped", None) or address  # ::ffff:10.0.0.1 is 10.0.0.1


class AllowList:
    """The parsed setting, and WeCom's addresses as last fetched (shown on the settings page).

    :param fetch: returns WeCom's callback addresses (the client's ``get_callback_ip``).
    """

    def __init__(self, value: str | None, fetch: Callable[[], list[str]],
                 clock: Callable[[], float] = time.monotonic) -> None:
        self.wecom, self.networks = parse(value)
        self.on = self.wecom or bool(self.networks)
        self.fetch, self.clock = fetch, clock
        self.wecom_networks: tuple[Network, ...] = ()
        self.fetched_at = None  # when WeCom's list was last fetched (UTC)
        self.error: str | None = None  # why the last fetch failed, until one succeeds
        self._due = 0.0
        self._lock = threading.Lock()

    def allows(self, remote_addr: str | None) -> bool:
        if not self.on:
            return True
        address = _address(remote_addr)
        if address is None:
            return False
        listed = any(address in network for network in self.networks)
        return listed or any(address in network for network in self.wecom_list())

    def wecom_list(self) -> tuple[Network, ...]:
        """WeCom's networks, fetched when due; the first fetch is waited for, later ones are not."""
        if self.wecom and self.clock() >= self._due and self._lock.acquire(blocking=self.fetched_at is None):
            try:
                if self.clock() >= self._due:
                    self._refresh()
            finally:
                self._lock.release()
        return self.wecom_networks if self.wecom else ()

    def _refresh(self) -> None:
        try:
            networks = _networks(self.fetch())
        except FETCH_FAILURES as exc:
            self.error, self._due = f"{type(exc).__name__}: {exc}", self.clock() + RETRY
            log.error("WeCom's callback addresses not fetched (%s); keeping the last %d network(s)",
                      self.error, len(self.wecom_networks))
            return
        self.wecom_networks, self.fetched_at, self.error = networks, utcnow(), None
        self._due = self.clock() + KEEP
        log.info("WeCom's callback addresses fetched: %d network(s)", len(networks))


def _networks(listed: list[str]) -> tuple[Network, ...]:
    """getcallbackip's ip_list (addresses and CIDR ranges); an entry that is neither is skipped."""
    networks = []
    for entry in listed:
        try:
            networks.append(ipaddress.ip_network(str(entry).strip(), strict=False))
        except ValueError:
            log.warning("WeCom's callback address %r is not an address or network; skipped", entry)
    return tuple(networks)


def init_app(app) -> None:
    app.extensions["callback_allow"] = AllowList(
        app.config["WECOM_CALLBACK_ALLOW"], lambda: app.extensions["wecom"].client.get_callback_ip())


def allow_list() -> AllowList:
    return current_app.extensions["callback_allow"]
