"""The app's WeCom connection: one API client and one callback crypto per app, from its config.

Sandbox and production differ only in configuration (WECOM_API_BASE and the credentials). The
access token is shared by every process: in Redis when the queue is Redis, else in the database,
and kept in each process for its life.
"""
import time
from functools import cached_property

from flask import current_app

from . import tasks
from .wecom.client import TokenCache, WeComClient
from .wecom.crypto import CallbackCrypto
from .wecom_tokens import DatabaseTokenCache, ProcessTokenCache, RedisTokenCache


class WeComConnection:
    """Built lazily, so a misconfigured key is reported where it is used, not at start-up."""

    def __init__(self, app) -> None:
        self.app, self.config = app, app.config

    @cached_property
    def client(self) -> WeComClient:
        return WeComClient(
            self.config["WECOM_CORP_ID"],
            self.config["WECOM_SECRET"],
            int(self.config["WECOM_AGENT_ID"]),
            base_url=self.config["WECOM_API_BASE"],
            clock=time.time,  # the same on every machine sharing the token
            token_cache=token_cache(self.app),
        )

    @cached_property
    def crypto(self) -> CallbackCrypto:
        return CallbackCrypto(
            self.config["WECOM_TOKEN"], self.config["WECOM_AES_KEY"], self.config["WECOM_CORP_ID"]
        )


def token_cache(app) -> TokenCache:
    redis = tasks.redis_connection(app)
    return ProcessTokenCache(RedisTokenCache(redis) if redis is not None else DatabaseTokenCache(app))


def init_app(app) -> None:
    app.extensions["wecom"] = WeComConnection(app)


def client() -> WeComClient:
    return current_app.extensions["wecom"].client


def crypto() -> CallbackCrypto:
    return current_app.extensions["wecom"].crypto


def agent_id() -> int:
    return int(current_app.config["WECOM_AGENT_ID"])
