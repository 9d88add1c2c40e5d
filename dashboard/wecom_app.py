"""The app's WeCom connection: one API client and one callback crypto per app, from its config.

Sandbox and production differ only in configuration (WECOM_API_BASE and the credentials).
"""
from functools import cached_property

from flask import current_app

from .wecom.client import WeComClient
from .wecom.crypto import CallbackCrypto


class WeComConnection:
    """Built lazily, so a misconfigured key is reported where it is used, not at start-up."""

    def __init__(self, config) -> None:
        self.config = config

    @cached_property
    def client(self) -> WeComClient:
        return WeComClient(
            self.config["WECOM_CORP_ID"],
            self.config["WECOM_SECRET"],
            int(self.config["WECOM_AGENT_ID"]),
            base_url=self.config["WECOM_API_BASE"],
        )

    @cached_property
    def crypto(self) -> CallbackCrypto:
        return CallbackCrypto(
            self.config["WECOM_TOKEN"], self.config["WECOM_AES_KEY"], self.config["WECOM_CORP_ID"]
        )


def init_app(app) -> None:
    app.extensions["wecom"] = WeComConnection(app.config)


def client() -> WeComClient:
    return current_app.extensions["wecom"].client


def crypto() -> CallbackCrypto:
    return current_app.extensions["wecom"].crypto


def agent_id() -> int:
    return int(current_app.config["WECOM_AGENT_ID"])
