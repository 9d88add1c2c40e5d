"""Callback diagnostics: the URL to paste into WeCom, a check of the credentials, recent callbacks,
and a self-test that calls the app's own callback URL over HTTP, as WeCom would."""
from __future__ import annotations

import secrets
import time
from dataclasses import asdict, dataclass

import requests
from flask import current_app, url_for

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


CREDENTIALS = {"WECOM_CORP_ID": "Corp id", "WECOM_AGENT_ID": "Agent id", "WECOM_SECRET": "Secret",
               "WECOM_TOKEN": "Token", "WECOM_AES_KEY": "EncodingAESKey"}


def credentials() -> list[dict]:
    """Each WeCom credential and where it came from; of a secret only its last characters."""
    config, sources = current_app.config, current_app.config.get("CREDENTIAL_SOURCES", {})
    return [{"name": name, "key": key, "value": (masked(config[key]) if key in SECRETS else config[key]) or "",
             "source": sources.get(key, "not set")} for key, name in CREDENTIALS.items()]


def config_checks() -> list[Step]:
    config = current_app.config
    token, key = config["WECOM_TOKEN"] or "", config["WECOM_AES_KEY"] or ""
    agent = str(config["WECOM_AGENT_ID"] or "")
    corp_id = config["WECOM_CORP_ID"]
    checks = [
        Step("Corp id set", bool(corp_id),
             "WECOM_CORP_ID is set." if corp_id else "Set WECOM_CORP_ID (我的企业 → 企业ID)."),
        Step("Agent id set", agent.isdigit(), "WECOM_AGENT_ID is a number." if agent.isdigit()
             else "Set WECOM_AGENT_ID to the app's AgentId (a number)."),
        Step("Token set", bool(token), f"{len(token)} characters." if token else "Set WECOM_TOKEN."),
        Step("EncodingAESKey has 43 characters", len(key) == 43,
             f"{len(key)} characters." + ("" if len(key) == 43 else " Copy all 43 from WeCom.")),
    ]
    try:
        CallbackCrypto(token, key, corp_id or "")
        checks.append(Step("EncodingAESKey decodes to 32 bytes", True, "A valid AES-256 key."))
    except IllegalAesKeyError as exc:
        checks.append(Step("EncodingAESKey decodes to 32 bytes", False, exc.errmsg))
    return checks


def overview() -> dict:
    """Everything the diagnostics page shows."""
    unmatched = (db.select(CardEvent).where(CardEvent.campaign_id.is_(None), CardEvent.event.in_(CARD_EVENTS),
                                            ~CardEvent.task_id.startswith(SELF_TEST_PREFIX))
                 .order_by(CardEvent.id.desc()).limit(50))
    return {"callback_url": callback_url(), "credentials": credentials(), "checks": config_checks(),
            "allow": allow.allow_list(), "recent": journal.recent(50),
            "counts": journal.counts(), "since": journal.oldest(),
            "unmatched": list(db.session.scalars(unmatched))}


# --- the self-test -------------------------------------------------------------------------------


def self_test() -> list[dict]:
    """Verify the URL, post a signed event and its duplicate to DASHBOARD_URL; each step reported."""
    url = callback_url()
    try:
        crypto = wecom_app.crypto()
    except IllegalAesKeyError as exc:
        return [asdict(Step("Callback key", False, exc.errmsg))]
    steps = [_verify_step(crypto, url)]
    if steps[0].ok:
        task_id = f"{SELF_TEST_PREFIX}{int(time.time())}-{secrets.token_hex(4)}"
        agent_id = current_app.config["WECOM_AGENT_ID"]
        query, body = crypto.encrypt_message(_event(crypto, task_id), agent_id=agent_id)
        for name, expected in (("Signed event stored", 1), ("Same event again stored once", 1)):
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
    answer = "the bare echostr." if ok else f"{response.text[:80]!r} instead of the echostr."
    return Step("URL verification (GET)", ok, f"HTTP {response.status_code}, answered {answer}")


def _post_step(name: str, url: str, query: dict, body: bytes, task_id: str, expected: int) -> Step:
    response = _http("POST", url, params=query, data=body)
    if isinstance(response, Step):
        return response
    db.session.rollback()  # read what the other request committed
    stored = db.session.scalar(db.select(db.func.count(CardEvent.id)).filter_by(task_id=task_id))
    ok = response.status_code == 200 and stored == expected
    return Step(name, ok, f"HTTP {response.status_code}, {stored} row(s) for task {task_id}"
                + ("." if ok else f" (expected {expected}). See the latest callbacks below for the reason."))


def _event(crypto, task_id: str) -> str:
    return event_xml(to_user=crypto.receive_id, from_user="dashboard-self-test", create_time=int(time.time()),
                     event_key="self_test", task_id=task_id, card_type="button_interaction",
                     response_code=None, agent_id=int(current_app.config["WECOM_AGENT_ID"] or 0))


def _http(method: str, url: str, **kwargs) -> requests.Response | Step:
    name = "URL verification (GET)" if method == "GET" else "Signed event (POST)"
    try:
        return requests.request(method, url, timeout=TIMEOUT, **kwargs)
    except requests.Timeout:
        return Step(name, False, f"No answer from {url} within {TIMEOUT[1]} s. A server with one "
                    "worker and one thread cannot answer itself: run gunicorn with 2 workers or threads.")
    except requests.RequestException as exc:
        return Step(name, False, f"Could not reach {url} ({type(exc).__name__}). The self-test calls "
                    "the app over HTTP at DASHBOARD_URL: set DASHBOARD_URL to the address where this app "
                    "is reachable (WeCom must reach the same URL).")
