"""Outgoing callbacks: each inbox click, and each message an employee sends the app (chat.py),
is posted to the app's callback URL, as WeCom posts it.

Runs in the task queue's worker, never in the web request that recorded the click, so even a
single web worker is free to answer (PROTOCOL §4.2: 200 within 5 s or WeCom retries, 3 times).
The passive reply in the answer (§4.6, §5.4) is verified, decrypted and applied to the clicker's
card, which the inbox shows; a reply to a message (text or news, CONVERSATIONS §3) is checked
and kept for the conversation.
"""
from __future__ import annotations

import logging
import re
import time

import requests
from flask import current_app

from ..extensions import db
from ..models import SandboxCallback, utcnow
from ..tasks import enqueue as enqueue_job
from ..wecom.cards import validate
from ..wecom.crypto import CallbackCrypto
from ..wecom.errors import CryptoError
from ..wecom.replies import NEWS_LIMIT, TEXT_LIMIT, XML_NAMES
from ..wecom.xmlsafe import parse_xml
from . import faults
from .chat import is_chat

log = logging.getLogger(__name__)

MAX_RETRIES = 3  # after the first attempt
FINISHED = ("delivered", "failed")
CALLBACK_JOB = "dashboard.sandbox.callbacks.sandbox_callback"  # the job's name in queued work
# How the XML of an update_template_card reply maps back to the send API's JSON.
LIST_ELEMENTS = ("ActionList", "HorizontalContentList", "JumpList", "VerticalContentList",
                 "OptionList", "ButtonList", "SelectList")
INTS, FLOATS, BOOLS = {"Type", "DescColor", "Style", "Mode"}, {"AspectRatio"}, {"IsChecked", "Disable"}
JSON_NAMES = {xml: key for key, xml in XML_NAMES.items()}


def callback_url() -> str:
    return current_app.config["DASHBOARD_URL"].rstrip("/") + "/wecom/callback"


def crypto() -> CallbackCrypto:
    """The app's callback settings, as the WeCom admin console would hold them."""
    config = current_app.config
    return CallbackCrypto(config["WECOM_TOKEN"], config["WECOM_AES_KEY"], config["WECOM_CORP_ID"])


def enqueue(callback_id: int, delay: float | None = None) -> None:
    enqueue_job(CALLBACK_JOB, callback_id, delay=delay)


def deliver(callback_id: int) -> None:
    """One attempt (and, with the 'twice' fault, an identical copy); a failure is retried later."""
    callback = db.session.get(SandboxCallback, callback_id)
    if callback is None or callback.status in FINISHED:
        return
    if callback.body is None:  # signed once: every retry repeats the same request
        config = current_app.config
        query, body = crypto().encrypt_message(callback.xml, agent_id=config["WECOM_AGENT_ID"],
                                               to_user=config["WECOM_CORP_ID"])
        callback.query, callback.body = query, body.decode("utf-8")
    twice, held_back = faults.settings().duplicate_callbacks, faults.take("slow_callbacks")
    callback.status = "sending"
    db.session.commit()  # hold no database lock while the app handles the request
    attempt, content = _post(callback, held_back)
    if attempt["ok"]:
        attempt["reply"] = apply_reply(callback, content)
    callback.attempts = [*callback.attempts, attempt]
    db.session.commit()
    if attempt["ok"]:
        if twice:
            copy, _ = _post(callback, False)
            callback.attempts = [*callback.attempts, {**copy, "duplicate": True}]
        _finish(callback, "delivered")
    elif sum(not a["ok"] for a in callback.attempts) > MAX_RETRIES:
        _finish(callback, "failed")
    else:
        callback.status = "retrying"
        db.session.commit()
        enqueue(callback.id, current_app.config["SANDBOX_CALLBACK_RETRY_DELAY"])
    db.session.commit()


def _finish(callback: SandboxCallback, status: str) -> None:
    callback.status, callback.finished_at = status, utcnow()
    log.info("sandbox callback %s from %s %s after %d attempt(s)", callback.id, callback.userid,
             status, len(callback.attempts))


def _post(callback: SandboxCallback, held_back: bool) -> tuple[dict, bytes]:
    """POST the signed request; an answer later than the timeout counts as none, as at WeCom."""
    timeout = float(current_app.config["SANDBOX_CALLBACK_TIMEOUT"])
    attempt = {"number": len(callback.attempts) + 1, "at": utcnow().isoformat(), "http": None,
               "ok": False, "note": ""}
    started, content = time.monotonic(), b""
    try:
        response = requests.post(
            callback_url(), params=callback.query, data=callback.body.encode("utf-8"),
            headers={"Content-Type": "text/xml; charset=utf-8"}, timeout=(3.05, timeout),
            allow_redirects=False)  # WeCom does not follow redirects
    except requests.Timeout:
        attempt["note"] = f"no answer within {timeout:g} s"
    except requests.ConnectionError as exc:
        attempt["note"] = f"cannot connect to {callback_url()} ({type(exc).__name__})"
    else:
        attempt["http"] = response.status_code
        if held_back:  # fault injection: the app's answer arrives too late
            time.sleep(max(0.0, timeout - (time.monotonic() - started)) + 0.05)
            attempt["note"] = f"answer held back past {timeout:g} s (slow-callback fault)"
        elif response.status_code != 200:
            attempt["note"] = f"HTTP {response.status_code}: counts as a failure"
        else:
            attempt["ok"], content = True, response.content
    attempt["seconds"] = round(time.monotonic() - started, 3)
    return attempt, content


EMPTY_ANSWER = "empty answer: no passive reply"  # the stored note; queries shows it translated


def apply_reply(callback: SandboxCallback, content: bytes) -> str:
    """Verify, decrypt and apply a passive reply to the clicker's card; returns what happened."""
    if not content.strip():
        callback.reply_kind = "none"
        return EMPTY_ANSWER
    try:
        envelope = parse_xml(content)["xml"]
        sandbox = crypto()
        sandbox.check_signature(envelope["MsgSignature"], envelope["TimeStamp"], envelope["Nonce"],
                                envelope["Encrypt"])
        callback.reply = sandbox.decrypt_ciphertext(envelope["Encrypt"])
        inner = parse_xml(callback.reply, force_list=LIST_ELEMENTS)["xml"]
    except (CryptoError, KeyError, TypeError) as exc:
        callback.reply_kind, callback.reply = "invalid", content.decode("utf-8", "replace")[:4000]
        return f"reply ignored: not a valid encrypted reply ({exc})"
    return _apply(callback, inner)


def _apply(callback: SandboxCallback, inner: dict) -> str:
    if is_chat(callback):
        return _message_reply(callback, inner)
    row, kind = callback.inbox_card, inner.get("MsgType")
    callback.reply_kind = kind if kind in ("update_button", "update_template_card") else "unsupported"
    if kind == "update_button":
        name = (inner.get("Button") or {}).get("ReplaceName") if isinstance(inner.get("Button"), dict) else None
        if not name:
            callback.reply_kind = "invalid"
            return "reply ignored: update_button without Button.ReplaceName"
        row.replace_name, row.version = name, row.version + 1
        return f"button greyed: “{name}”"
    if kind == "update_template_card":
        card = card_from_xml(inner.get("TemplateCard") or {})
        if problems := validate(card, for_update=True):
            callback.reply_kind = "invalid"
            return f"reply ignored: TemplateCard {problems[0].path}: {problems[0].message}"
        row.card, row.replace_name, row.version = card, None, row.version + 1
        return f"card replaced ({card.get('card_type')})"
    return f"reply ignored: MsgType {kind!r} is not a card update"


def _message_reply(callback: SandboxCallback, inner: dict) -> str:
    """A reply to an employee's message: text or news, from the corp to them (CONVERSATIONS §3)."""
    kind, corp = inner.get("MsgType"), current_app.config["WECOM_CORP_ID"]
    callback.reply_kind = "invalid"
    if (inner.get("ToUserName"), inner.get("FromUserName")) != (callback.userid, corp):
        return (f"reply ignored: addressed to {inner.get('ToUserName')!r} from "
                f"{inner.get('FromUserName')!r}, not to {callback.userid!r} from the corp")
    if kind == "text":
        callback.reply_kind = "text"
        size = len((inner.get("Content") or "").encode("utf-8"))
        return f"text reply, {size} bytes" + (f" (WeCom cuts it at {TEXT_LIMIT})" if size > TEXT_LIMIT else "")
    if kind == "news":
        return _news_reply(callback, inner)
    callback.reply_kind = "unsupported"
    return f"reply ignored: the sandbox shows text and news replies, not MsgType {kind!r}"


def _news_reply(callback: SandboxCallback, inner: dict) -> str:
    items = news_items(inner)
    if not 1 <= len(items) <= NEWS_LIMIT or str(len(items)) != str(inner.get("ArticleCount")):
        return (f"reply ignored: news with {len(items)} articles and ArticleCount "
                f"{inner.get('ArticleCount')!r} (1 to {NEWS_LIMIT}, the same number)")
    if not all(isinstance(item, dict) and item.get("Title") for item in items):
        return "reply ignored: every news article needs a Title"
    callback.reply_kind = "news"
    return f"news reply, {len(items)} article(s)"


def news_items(inner: dict) -> list:
    """The <item>s of a news reply as parsed (one item parses as a dict, several as a list)."""
    items = (inner.get("Articles") or {}).get("item") if isinstance(inner.get("Articles"), dict) else None
    return items if isinstance(items, list) else [items] if items else []


def card_from_xml(value, name: str | None = None):
    """A <TemplateCard> element (as parsed) back to the send API's template_card JSON."""
    if isinstance(value, dict):
        return {_json_name(key): card_from_xml(child, key) for key, child in value.items()}
    if isinstance(value, list):
        return [card_from_xml(item, name) for item in value]
    text = value or ""
    if name in BOOLS:
        return text.strip().lower() == "true"
    if name in INTS and re.fullmatch(r"-?\d+", text.strip()):
        return int(text)
    if name in FLOATS and re.fullmatch(r"-?\d+(\.\d+)?", text.strip()):
        return float(text)
    return text


def _json_name(element: str) -> str:
    return JSON_NAMES.get(element) or re.sub(r"(?<!^)(?=[A-Z])", "_", element).lower()
