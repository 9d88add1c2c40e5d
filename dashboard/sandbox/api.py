"""WeCom's server API as the sandbox plays it: dispatch, access tokens, faults and the call log.

The app's real client calls these over HTTP at WECOM_API_BASE = DASHBOARD_URL/sandbox/cgi-bin.
Answers have WeCom's JSON shapes and errcodes (PROTOCOL §1-2); bodies are parsed from the raw
bytes whatever the Content-Type says, and the token travels in the query string.
"""
from __future__ import annotations

import json
import logging
import secrets
import time
from datetime import timedelta

from flask import current_app

from ..extensions import db
from ..models import SandboxApiCall, SandboxToken, utcnow
from . import directory, faults, identity, media, menus, messages
from .answers import Refusal, error, ok

log = logging.getLogger(__name__)

KEEP_CALLS = 500  # rows of the call log kept for the control page

# path -> (HTTP method, handler(query, body) -> answer)
ROUTES = {
    "message/send": ("POST", messages.send),
    "message/update_template_card": ("POST", messages.update_template_card),
    "message/recall": ("POST", messages.recall),
    "department/list": ("GET", directory.department_list),
    "department/simplelist": ("GET", directory.department_simplelist),
    "department/get": ("GET", directory.department_get),
    "user/simplelist": ("GET", directory.user_simplelist),
    "user/list": ("GET", directory.user_list),
    "user/list_id": ("POST", directory.user_list_id),
    "user/get": ("GET", directory.user_get),
    "tag/list": ("GET", directory.tag_list),
    "tag/get": ("GET", directory.tag_get),
    "getcallbackip": ("GET", lambda query, body: ok(ip_list=["127.0.0.1"])),
    "menu/create": ("POST", menus.create),
    "menu/get": ("GET", menus.get),
    "menu/delete": ("GET", menus.delete),
    "auth/getuserinfo": ("GET", identity.getuserinfo),
    "media/uploadimg": ("POST", media.uploadimg),
}
MULTIPART = {"media/uploadimg"}  # their handlers take the raw body: a file, not JSON


def handle(method: str, path: str, query, raw: bytes) -> dict | None:
    """WeCom's answer to one call, or None for a path WeCom does not have (HTTP 404)."""
    if path != "gettoken" and path not in ROUTES:
        return None
    started, settings = time.monotonic(), faults.settings()
    if settings.latency_ms:
        time.sleep(settings.latency_ms / 1000)
    try:
        answer = _answer(method, path, query, raw, settings)
    except Refusal as refusal:
        db.session.rollback()
        answer = refusal.answer
    _log_call(method, path, answer, started)
    db.session.commit()
    return answer


def _answer(method: str, path: str, query, raw: bytes, settings) -> dict:
    if path == "gettoken":
        return gettoken(query, settings.token_ttl)
    if (errcode := faults.injected_errcode(settings)) is not None:
        return error(errcode, f"{faults.TEXTS[errcode]} (injected by the sandbox)")
    check_token(query.get("access_token"))
    wanted, handler = ROUTES[path]
    if method != wanted:
        raise Refusal(40058, f"{path} must be called with {wanted}")
    if path in MULTIPART:
        return handler(query, raw)
    return handler(query, parse_body(raw) if wanted == "POST" else None)


def parse_body(raw: bytes) -> dict:
    """The JSON object in the body, whatever the Content-Type header claims."""
    try:
        body = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        raise Refusal(40058, "invalid json request: the body is not UTF-8 JSON") from None
    if not isinstance(body, dict):
        raise Refusal(40058, "invalid json request: the body is not a JSON object")
    return body


def gettoken(query, ttl: int) -> dict:
    config = current_app.config
    if not query.get("corpid"):
        raise Refusal(41002, "corpid missing")
    if query["corpid"] != config["WECOM_CORP_ID"]:
        raise Refusal(40013, "invalid corpid")
    if not query.get("corpsecret"):
        raise Refusal(41004, "corpsecret missing")
    if not secrets.compare_digest(query["corpsecret"], config["WECOM_SECRET"]):
        raise Refusal(40001, "invalid credential")
    now = utcnow()
    token = db.session.scalar(db.select(SandboxToken).where(SandboxToken.expires_at > now)
                              .order_by(SandboxToken.expires_at.desc()).limit(1))
    if token is None:  # like WeCom: the same token until it expires
        db.session.execute(db.delete(SandboxToken).where(
            SandboxToken.expires_at < now - timedelta(hours=1)))
        token = SandboxToken(token=secrets.token_urlsafe(48),
                             expires_at=now + timedelta(seconds=ttl))
        db.session.add(token)
    left = max(1, int((token.expires_at - now).total_seconds()))
    return ok(access_token=token.token, expires_in=left)


def check_token(value: str | None) -> None:
    if not value:
        raise Refusal(41001, "access_token missing")
    token = db.session.get(SandboxToken, value)
    if token is None:
        raise Refusal(40014, "invalid access_token")
    if token.expires_at <= utcnow():
        raise Refusal(42001, "access_token expired")


def _log_call(method: str, path: str, answer: dict, started: float) -> None:
    errcode = answer.get("errcode")
    note = "ok" if errcode == 0 else answer.get("errmsg", "").split(", hint:")[0]
    if path == "message/send" and errcode == 0:
        note = f"msgid {answer['msgid'][:12]}…"
    db.session.add(SandboxApiCall(method=method, path=path[:64], errcode=errcode, note=note[:255],
                                  millis=int((time.monotonic() - started) * 1000)))
    db.session.flush()
    last = db.session.scalar(db.select(db.func.max(SandboxApiCall.id)))
    db.session.execute(db.delete(SandboxApiCall).where(SandboxApiCall.id <= last - KEEP_CALLS))
    log.debug("sandbox %s %s -> %s", method, path, errcode)
