"""Callback diagnostics: the URL to paste into WeCom, a check of the credentials, recent callbacks,
and a self-test that calls the app's own callback URL over HTTP, as WeCom would."""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

import requests
from flask import current_app, url_for
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import wecom_app
from ..callback import allow, journal
from ..callback.service import SELF_TEST_PREFIX
from ..config import SECRETS, masked
from ..extensions import db
from ..models import CardEvent
from ..wecom.crypto import CallbackCrypto
from ..wecom.errors import IllegalAesKeyError
from ..wecom.replies import event_xml

TIMEOUT = (3.05, 5)
CARD_EVENTS = ("template_card_event", "template_card_menu_event")


@dataclass(frozen=True)
class Step:
    name: str
    ok: bool
    detail: str = ""


def callback_url() -> str:
    """What to paste into WeCom's admin console (应用 → 接收消息 → 设置API接收)."""
    return current_app.config["DASHBOARD_URL"].rstrip("/") + url_for("callback.receive")


CREDENTIALS = {"WECOM_CORP_ID": _l("Corp id"), "WECOM_AGENT_ID": _l("Agent id"), "WECOM_SECRET": _l("Secret"),
               "WECOM_TOKEN": _l("Token"), "WECOM_AES_KEY": _l("EncodingAESKey")}
#: Where a credential came from (the values of CREDENTIAL_SOURCES, set by dashboard.config), as shown.
SOURCES = {"environment": _l("environment"), "instance config": _l("instance config"),
           "app configuration": _l("app configuration"), "sandbox generated": _l("sandbox generated")}
#: The callback log's outcomes and reasons (stored, and answered to WeCom, in English), as shown.
OUTCOMES = {"stored": _l("stored"), "verified": _l("verified"), "duplicate": _l("duplicate"),
            "unmatched": _l("unmatched"), "self-test": _l("self-test"), "rejected": _l("rejected"),
            "error": _l("error")}
REASONS = {"bad signature": _l("bad signature"), "malformed XML": _l("malformed XML"),
           "missing parameter": _l("missing parameter"), "wrong receive id": _l("wrong receive id"),
           "bad ciphertext": _l("bad ciphertext"), "bad padding or length": _l("bad padding or length"),
           "bad base64": _l("bad base64"), "DTD or entity refused": _l("DTD or entity refused"),
           "database unavailable": _l("database unavailable"), "body too large": _l("body too large"),
           "source not allowed": _l("source not allowed"), "NUL character": _l("NUL character"),
           "bad timestamp": _l("bad timestamp"), "stale timestamp": _l("stale timestamp"),
           "misconfigured": _l("misconfigured")}


def credentials() -> list[dict]:
    """Each WeCom credential and where it came from; of a secret only its last characters."""
    config, sources = current_app.config, current_app.config.get("CREDENTIAL_SOURCES", {})
    return [{"name": str(name), "key": key, "source": _source(sources.get(key)),
             "value": (masked(config[key]) if key in SECRETS else config[key]) or ""}
            for key, name in CREDENTIALS.items()]


def _source(source: str | None) -> str:
    return str(SOURCES.get(source, source)) if source else _("not set")


def config_checks() -> list[Step]:
    config = current_app.config
    token, key = config["WECOM_TOKEN"] or "", config["WECOM_AES_KEY"] or ""
    agent = str(config["WECOM_AGENT_ID"] or "")
    corp_id = config["WECOM_CORP_ID"]
    checks = [
        Step(_("Corp id set"), bool(corp_id),
             _("WECOM_CORP_ID is set.") if corp_id else _("Set WECOM_CORP_ID (我的企业 → 企业ID).")),
        Step(_("Agent id set"), agent.isdigit(), _("WECOM_AGENT_ID is a number.") if agent.isdigit()
             else _("Set WECOM_AGENT_ID to the app's AgentId (a number).")),
        Step(_("Token set"), bool(token),
             _("%(n)s characters.", n=len(token)) if token else _("Set WECOM_TOKEN.")),
        Step(_("EncodingAESKey has 43 characters"), len(key) == 43,
             _("%(n)s characters.", n=len(key)) if len(key) == 43
             else _("%(n)s characters. Copy all 43 from WeCom.", n=len(key))),
    ]
    try:
        CallbackCrypto(token, key, corp_id or "")
        checks.append(Step(_("EncodingAESKey decodes to 32 bytes"), True, _("A valid AES-256 key.")))
    except IllegalAesKeyError as exc:
        checks.append(Step(_("EncodingAESKey decodes to 32 bytes"), False, exc.errmsg))
    return checks


def overview() -> dict:
    """Everything the diagnostics page shows."""
    unmatched = (db.select(CardEvent).where(CardEvent.campaign_id.is_(None), CardEvent.event.in_(CARD_EVENTS),
                                            ~CardEvent.task_id.startswith(SELF_TEST_PREFIX))
                 .order_by(CardEvent.id.desc()).limit(50))
    return {"callback_url": callback_url(), "credentials": credentials(), "checks": config_checks(),
            "outcomes": OUTCOMES, "reasons": REASONS, "allow": allow.allow_list(), "recent": journal.recent(50),
            "counts": journal.counts(), "since": journal.oldest(),
            "unmatched": list(db.session.scalars(unmatched))}


# --- the self-test -------------------------------------------------------------------------------


def self_test() -> list[dict]:
    """Verify the URL, post a signed event and its duplicate to DASHBOARD_URL; each step reported."""
    url = callback_url()
    try:
        crypto = wecom_app.crypto()
    except IllegalAesKeyError as exc:
        return [asdict(Step(_("Callback key"), False, exc.errmsg))]
    steps = [_verify_step(crypto, url)]
    if steps[0].ok:
        task_id = f"{SELF_TEST_PREFIX}{int(time.time())}-{secrets.token_hex(4)}"
        agent_id = current_app.config["WECOM_AGENT_ID"]
        query, body = crypto.encrypt_message(_event(crypto, task_id), agent_id=agent_id)
        for name, expected in ((_("Signed event stored"), 1), (_("Same event again stored once"), 1)):
            steps.append(_post_step(name, url, query, body, task_id, expected))
            if not steps[-1].ok:
                break
    return [asdict(step) for step in steps]


def _verify_step(crypto, url: str) -> Step:
    echo, nonce = str(secrets.randbelow(10**18)), str(secrets.randbelow(10**9))
    timestamp = str(int(time.time()))
    echostr = crypto.encrypt(echo)
    params = {"msg_signature": crypto.sign(timestamp, nonce, echostr), "timestamp": timestamp,
              "nonce": nonce, "echostr": echostr}
    response = _http("GET", url, params=params)
    if isinstance(response, Step):
        return response
    ok = response.status_code == 200 and response.text == echo
    detail = (_("HTTP %(status)s, answered the bare echostr.", status=response.status_code) if ok else
              _("HTTP %(status)s, answered %(text)s instead of the echostr.", status=response.status_code,
                text=repr(response.text[:80])))
    return Step(_("URL verification (GET)"), ok, detail)


def _post_step(name: str, url: str, query: dict, body: bytes, task_id: str, expected: int) -> Step:
    response = _http("POST", url, params=query, data=body)
    if isinstance(response, Step):
        return response
    db.session.rollback()  # read what the other request committed
    stored = db.session.scalar(db.select(db.func.count(CardEvent.id)).filter_by(task_id=task_id))
    ok = response.status_code == 200 and stored == expected
    values = {"status": response.status_code, "stored": stored, "task": task_id, "expected": expected}
    return Step(name, ok, _("HTTP %(status)s, %(stored)s row(s) for task %(task)s.", **values) if ok else
                _("HTTP %(status)s, %(stored)s row(s) for task %(task)s (expected %(expected)s). "
                  "See the latest callbacks below for the reason.", **values))


def _event(crypto, task_id: str) -> str:
    return event_xml(to_user=crypto.receive_id, from_user="dashboard-self-test", create_time=int(time.time()),
                     event_key="self_test", task_id=task_id, card_type="button_interaction",
                     response_code=None, agent_id=int(current_app.config["WECOM_AGENT_ID"] or 0))


def _http(method: str, url: str, **kwargs) -> requests.Response | Step:
    name = _("URL verification (GET)") if method == "GET" else _("Signed event (POST)")
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout:
        return Step(name, False, _("No answer from %(url)s within %(seconds)s s. A server with one worker and "
                                   "one thread cannot answer itself: run gunicorn with 2 workers or threads.",
                                   url=url, seconds=TIMEOUT[1]))
    except requests.RequestException as exc:
        return Step(name, False, _("Could not reach %(url)s (%(error)s). The self-test calls the app over HTTP "
                                   "at DASHBOARD_URL: set DASHBOARD_URL to the address where this app is "
                                   "reachable (WeCom must reach the same URL).",
                                   url=url, error=type(exc).__name__))
