"""Receiving WeCom callbacks (PROTOCOL §4-5): verify, decrypt, parse, store exactly once, answer.

Every outcome is an :class:`Answer`: bad input a 4xx with its reason logged (never a 500),
a database that cannot take the write a 503 (WeCom retries, nothing is lost). Storing is one
SELECT (task id -> batch, campaign, after-click settings; cached a few seconds), one set of
INSERTs and one COMMIT (on SQLite shared by the callbacks that arrive together: rows.GroupCommit);
the unique ``dedupe_key`` makes a retry or a duplicate delivery a no-op, also across workers.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta
from time import perf_counter, time

from flask import current_app
from sqlalchemy.exc import OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeoutError

from .. import tasks, wecom_app
from ..extensions import db
from ..directory import jobs as directory_jobs
from ..models import CardEvent, DirectoryChange, ResponseCode, utcnow
from ..wecom.crypto import parse_envelope
from ..wecom.errors import CryptoError, IllegalAesKeyError, SignatureError
from ..wecom.events import GenericMessage, SuiteNotice, parse_event
from ..wecom.replies import update_button_xml
from ..wecom.xmlsafe import without_unsafe_characters
from . import after_click, allow, journal, rows, targets
from .rows import RowInsert

log = logging.getLogger(__name__)

MAX_BODY = 64 * 1024
RESPONSE_CODE_LIFE = timedelta(hours=24)  # PROTOCOL §2.3: 72 h in current docs; design for 24 h
SELF_TEST_PREFIX = "selftest-"  # task ids of the diagnostics self-test: kept, never reported
SELF_TEST_CARD_PREFIX = SELF_TEST_PREFIX + "card-"  # the live self-test's card, sent to an admin
SELF_TEST_REPLY = "已收到（被动回复）"  # its button after a click when AFTER_CLICK_VIA=reply
REASONS = {  # official error name -> the short reason shown and counted on the diagnostics page
    "ValidateSignature_Error": "bad signature", "ParseXml_Error": "malformed XML",
    "ComputeSignature_Error": "missing parameter", "ValidateCorpid_Error": "wrong receive id",
    "DecryptAES_Error": "bad ciphertext", "IllegalBuffer": "bad padding or length",
    "DecodeBase64_Error": "bad base64",
}
DATABASE_DOWN = (OperationalError, PoolTimeoutError)


@dataclass(frozen=True)
class Answer:
    status: int
    body: str = ""
    mimetype: str = "text/plain"


class Rejected(Exception):
    """Bad input: answered with ``status``; ``reason`` is counted, ``detail`` explains."""

    def __init__(self, status: int, reason: str, detail: str | None = None) -> None:
        super().__init__(detail or reason)
        self.status, self.reason, self.detail = status, reason, detail


@dataclass(frozen=True)
class Call:
    """One callback request: the signed query values, who sent it, and when it arrived."""

    signature: str
    timestamp: str
    nonce: str
    remote_addr: str | None
    started: float

    def log(self, outcome: str, status: int, **fields) -> dict:
        return journal.entry(outcome, status, started=self.started, remote_addr=self.remote_addr, **fields)


# --- the two requests --------------------------------------------------------------------------


def verify(args, remote_addr: str | None) -> Answer:
    """URL verification (GET): the bare decrypted echostr."""
    started = perf_counter()
    try:
        _check_source(remote_addr)
        call = _call(args, remote_addr, started, "echostr")
        crypto = _crypto()
        plaintext = crypto.verify_url(call.signature, call.timestamp, call.nonce, args["echostr"])
        _check_age(call.timestamp)
    except (Rejected, CryptoError) as exc:
        return _reject(exc, remote_addr, started, "GET")
    journal.write(call.log("verified", 200, method="GET"))
    log.info("callback URL verified from %s", remote_addr)
    return Answer(200, plaintext)


def receive(args, stream, content_length: int | None, remote_addr: str | None) -> Answer:
    """An event or message (POST): stored exactly once, answered with a passive reply or nothing."""
    started = perf_counter()
    try:
        _check_source(remote_addr)
        call = _call(args, remote_addr, started)
        envelope = parse_envelope(read_body(stream, content_length))
        crypto = _crypto()
        crypto.check_signature(call.signature, call.timestamp, call.nonce, envelope.encrypt)
        _check_age(call.timestamp)
        xml = without_unsafe_characters(crypto.decrypt_ciphertext(envelope.encrypt))
        event = parse_event(xml)
    except (Rejected, CryptoError) as exc:
        return _reject(exc, remote_addr, started, "POST")
    try:
        try:
            return _handle(event, xml, call)
        except rows.Reconnect as exc:  # the server closed the kept connection meanwhile (a restart)
            log.info("callback: the database connection was closed (%s); once more on a new one", exc)
            return _handle(event, xml, call)
    except DATABASE_DOWN as exc:
        cause = str(getattr(exc, "orig", None) or exc)
        log.error("callback not stored, answering 503 so WeCom retries: %s", cause)
        journal.write(call.log("error", 503, reason="database unavailable", detail=cause, event=event))
        return Answer(503, "database unavailable; retry")


def _handle(event, xml: str, call: Call) -> Answer:
    """Store and answer the event with its kind's handler (no ORM session on the hot path: rows.py)."""
    with rows.connection(db.engine) as conn:
        return handler_for(event.kind, message=_is_message(event))(conn, event, xml, call)


def _is_message(event) -> bool:
    """A member's message (text, image, file ...), not an event."""
    return isinstance(event, GenericMessage) and event.msg_type != "event"


def read_body(stream, content_length: int | None) -> bytes:
    """The request body, at most MAX_BODY bytes (413 beyond)."""
    if content_length is not None and content_length > MAX_BODY:
        _drain(stream, content_length)
        raise Rejected(413, "body too large", f"{content_length} bytes; the limit is {MAX_BODY}")
    body = stream.read(MAX_BODY + 1)
    if len(body) > MAX_BODY:
        raise Rejected(413, "body too large", f"over {MAX_BODY} bytes")
    return body


def _drain(stream, content_length: int) -> None:
    """Read what the client sends (up to the app's limit), so it sees the 413, not a reset."""
    left = min(content_length, current_app.config["MAX_CONTENT_LENGTH"] or 0)
    while left > 0 and (chunk := stream.read(min(left, 65536))):
        left -= len(chunk)


def _check_source(remote_addr: str | None) -> None:
    """WECOM_CALLBACK_ALLOW, when set: only WeCom's addresses or the listed networks may call."""
    if not allow.allow_list().allows(remote_addr):
        raise Rejected(403, "source not allowed", f"{remote_addr} is not in WECOM_CALLBACK_ALLOW")


def _call(args, remote_addr: str | None, started: float, *extra: str) -> Call:
    missing = [name for name in ("msg_signature", "timestamp", "nonce", *extra) if not args.get(name)]
    if missing:
        raise Rejected(400, "missing parameter", "missing: " + ", ".join(missing))
    if any("\x00" in value for value in args.values()):  # POST skips Flask's check (fastpath.py)
        raise Rejected(400, "NUL character", "a query parameter contains the NUL character")
    timestamp = args["timestamp"]
    if not (timestamp.isascii() and timestamp.isdigit() and len(timestamp) <= 12):  # a float can hold it
        raise Rejected(400, "bad timestamp", "timestamp is not a number of seconds")
    return Call(args["msg_signature"], timestamp, args["nonce"], remote_addr, started)


def _check_age(timestamp: str) -> None:
    """Refuse replays: WECOM_CALLBACK_MAX_AGE seconds either way (0 turns the check off)."""
    max_age = current_app.config["WECOM_CALLBACK_MAX_AGE"]
    if max_age and abs(time() - int(timestamp)) > max_age:
        raise Rejected(403, "stale timestamp",
                       f"timestamp is {int(time()) - int(timestamp)} s from now; the limit is {max_age} s")


def _crypto():
    try:
        return wecom_app.crypto()
    except IllegalAesKeyError as exc:  # the configuration, not the request, is wrong
        raise Rejected(503, "misconfigured", f"WECOM_AES_KEY: {exc.errmsg}") from None


def _reject(exc: Exception, remote_addr: str | None, started: float, method: str) -> Answer:
    if isinstance(exc, CryptoError):
        reason = REASONS.get(exc.name, exc.name)
        if exc.name == "ParseXml_Error" and exc.errmsg.startswith("XML refused"):
            reason = "DTD or entity refused"
        exc = Rejected(403 if isinstance(exc, SignatureError) else 400, reason, str(exc))  # code, name, detail
    log.warning("callback %s from %s rejected with %s: %s (%s)", method, remote_addr, exc.status,
                exc.reason, exc.detail)
    journal.write(journal.entry("rejected", exc.status, started=started, remote_addr=remote_addr,
                                method=method, reason=exc.reason, detail=exc.detail))
    return Answer(exc.status, exc.reason)


# --- handlers: event kind -> function(conn, event, xml, call) -> Answer -------------------------


def on_card_event(conn, event, xml: str, call: Call) -> Answer:
    """A click, a vote or a menu pick: mapped to its campaign by TaskId, kept even if unknown."""
    if handler := _card_handler(event.task_id or ""):
        return handler(conn, event, xml, call)
    target = targets.lookup(conn, event.task_id)
    if target is None:
        outcome = "self-test" if event.task_id.startswith(SELF_TEST_PREFIX) else "unmatched"
        store(conn, event, xml, call, None, outcome)
        return _self_test_reply(event, call)
    stored = store(conn, event, xml, call, target, "stored")
    if current_app.config["AFTER_CLICK_VIA"] == "api":  # the worker updates the card (PROTOCOL §2.3)
        if stored and _changes_card(event, target):  # a duplicate: its update is queued already
            queue(_queue_update, conn, event.dedupe_key)
        return Answer(200)
    reply = _reply(event, call, target)  # a duplicate gets the same reply again
    return Answer(200, reply, "text/xml" if reply else "text/plain")


def on_message(conn, event, xml: str, call: Call) -> Answer:
    """Any other message or event, kept whole."""
    store(conn, event, xml, call, None, "stored")
    return Answer(200)


def on_suite_notice(conn, event, xml: str, call: Call) -> Answer:
    """A third-party suite's notice (no MsgType: suite_ticket, create_auth ...): kept, and
    answered with the bare "success" WeCom asks of a suite's callback URL; the callback log
    lists it (kind suite_notice)."""
    store(conn, event, xml, call, None, "stored")
    return Answer(200, "success")


def on_contact_change(conn, event, xml: str, call: Call) -> Answer:
    """A change to the directory: stored with the event, applied by the worker in CreateTime order."""
    change = {"dedupe_key": event.dedupe_key, "change_type": (event.change_type or "")[:32],
              "create_time": event.create_time, "data": event.fields(), "received_at": utcnow(),
              "applied_at": None, "outcome": None}
    if store(conn, event, xml, call, None, "stored", also=[(_INSERT_CHANGE, change)]):
        queue(directory_jobs.apply_soon)
    return Answer(200)


ANY_MESSAGE = "*message"  # register_handler's kind for members' messages of types nobody named


def handler_for(kind: str, *, message: bool = False):
    """The function that stores and answers events of ``kind``: the callback's own, one a feature
    registered (:func:`register_handler`), for a member's ``message`` of a type nobody registered
    the ANY_MESSAGE handler, else :func:`on_message`."""
    registered = current_app.extensions["callback_handlers"]
    fallback = registered.get(ANY_MESSAGE, on_message) if message else on_message
    return HANDLERS.get(kind) or registered.get(kind, fallback)


def register_handler(app, kinds, handler) -> None:
    """Let a feature store and answer these event kinds (``handler(conn, event, xml, call) ->
    Answer``, using :func:`store`); features above the callback register in their init_app."""
    app.extensions.setdefault("callback_handlers", {}).update(dict.fromkeys(kinds, handler))


def register_card_handler(app, prefix: str, handler) -> None:
    """Let a feature answer clicks on the cards it sends itself, whose task ids start with
    ``prefix`` (approvals' cards): ``handler(conn, event, xml, call) -> Answer``, using
    :func:`store` with no target, so the events stay out of every report."""
    app.extensions.setdefault("callback_card_handlers", {})[prefix] = handler


def _card_handler(task_id: str):
    for prefix, handler in current_app.extensions.get("callback_card_handlers", {}).items():
        if task_id.startswith(prefix):
            return handler
    return None


def queue(job, *args) -> None:
    """Queue follow-up work; the event is stored already, so a queue that is down costs a sweep."""
    try:
        job(*args)
    except Exception as exc:  # noqa: BLE001 - Redis down, a full disk: the periodic job catches up
        log.warning("stored, not queued (%s): the periodic job picks it up", exc)


HANDLERS = {
    "template_card_event": on_card_event,
    "template_card_menu_event": on_card_event,
    "change_contact": on_contact_change,
    "suite_notice": on_suite_notice,
}

_INSERT_EVENT = RowInsert(CardEvent.__table__, skip_conflicts_on="dedupe_key")
_INSERT_CODE = RowInsert(ResponseCode.__table__, skip_conflicts_on="code")  # a known code stays as it is
_INSERT_CHANGE = RowInsert(DirectoryChange.__table__)
_AT_ONCE = rows.OneStatement()
_KNOWN = db.select(CardEvent.id).where(CardEvent.dedupe_key == db.bindparam("key"))


def store(conn, event, xml: str, call: Call, target, outcome: str, also=None) -> bool:
    """INSERT the event and the log row, committed before this returns. The roll-up
    (rollup.py) does the rest off the hot path when it counts the event: its options
    (``selected``) as event_selection rows, its response code into the ledger. An event it never
    counts (an unknown task id) gets its code into the ledger here.

    On SQLite, callbacks that arrive together share a transaction and a COMMIT
    (rows.GroupCommit); on PostgreSQL one statement writes them all (rows.OneStatement). A retry
    or duplicate delivery finds the unique dedupe_key taken (also when two workers race) and
    writes only a "duplicate" log row. Every row is built before the write, so the write lock is
    held only briefly. ``also`` lists (an insert, its row) to write in the same transaction. True
    when stored, False for a duplicate.
    """
    now = utcnow()
    campaign_id, batch_id = (target.campaign_id, target.batch_id) if target is not None else (None, None)
    row = _event_row(event, xml, now, campaign_id, batch_id)
    code = code_row(row["response_code"], campaign_id, batch_id, row["from_user"], "callback", now)
    also = [*([(_INSERT_CODE, code)] if code["code"] and row["rolled_up"] else []),  # else the roll-up adds it
            *(also or ())]
    entry = call.log(outcome, 200, event=event)
    if conn.dialect.name == "postgresql":  # one statement: see rows.OneStatement
        stored = _AT_ONCE(conn, (_INSERT_EVENT, row), (journal.INSERT, entry), also)
        journal.prune_now_and_then(conn)
        rows.commit(conn)
        return stored

    def write(conn) -> bool:
        if not _INSERT_EVENT(conn, row):  # the dedupe_key is taken: a retry or duplicate delivery
            journal.add(conn, call.log("duplicate", 200, event=event))
            return False
        for insert, values in also:
            insert(conn, values)
        journal.add(conn, entry)
        return True

    return rows.group_for(conn).write(conn, write)


def _event_row(event, xml: str, now: datetime, campaign_id, batch_id) -> dict:
    generic = isinstance(event, (GenericMessage, SuiteNotice))
    event_key = event.raw.get("EventKey") if generic else event.event_key
    return {
        "dedupe_key": event.dedupe_key, "campaign_id": campaign_id, "batch_id": batch_id,
        "from_user": event.from_user[:64], "msg_type": event.msg_type[:32] if generic else "event",
        "event": _clip(event.event if generic else event.kind, 64),
        "event_key": event_key[:1024] if isinstance(event_key, str) else None,
        "task_id": _clip(getattr(event, "task_id", None), 128),
        "card_type": _clip(getattr(event, "card_type", None), 32),
        "response_code": _clip(getattr(event, "response_code", None), 256),
        "selected": getattr(event, "selected", None) or None,
        "create_time": event.create_time, "xml": xml, "received_at": now,
        "rolled_up": campaign_id is None,  # a campaign's events are counted in its report later
    }


def _clip(value: str | None, size: int) -> str | None:
    return value[:size] if value else None


def _changes_card(event, target) -> bool:
    """A click or a menu pick on a card whose version says what the clicker's card becomes."""
    return after_click.changes_card(event, target.after_click, target.template_card)


def _queue_update(conn, dedupe_key: str) -> None:
    """Queue the after-click update with the stored event's id (after_click.JOB)."""
    event_id = conn.execute(_KNOWN, {"key": dedupe_key}).scalar_one()
    tasks.enqueue(after_click.JOB, event_id)


def _self_test_reply(event, call: Call) -> Answer:
    """A click on the live self-test's card, with AFTER_CLICK_VIA=reply: a passive reply greys its
    button (SELF_TEST_REPLY), so the admin sees on the phone whether WeCom applies passive replies
    to template_card_event. Anything else: the empty answer."""
    if (current_app.config["AFTER_CLICK_VIA"] != "reply" or event.kind != "template_card_event"
            or not event.task_id.startswith(SELF_TEST_CARD_PREFIX)):
        return Answer(200)
    crypto = wecom_app.crypto()
    inner = update_button_xml(event.from_user, crypto.receive_id, SELF_TEST_REPLY, int(time()))
    return Answer(200, crypto.encrypt_reply(inner, call.nonce, call.timestamp), "text/xml")


def _reply(event, call: Call, target) -> str:
    """The encrypted passive reply for the clicker, or "" (PROTOCOL §4.6, §5.4)."""
    if not _changes_card(event, target):
        return ""
    crypto = wecom_app.crypto()
    try:
        inner = after_click.reply_xml(event, target.after_click, target.template_card, crypto.receive_id)
        return crypto.encrypt_reply(inner, call.nonce, call.timestamp) if inner else ""
    except CryptoError as exc:  # e.g. an option text XML cannot carry: the event is stored anyway
        log.warning("no after-click reply for task %s: %s", event.task_id, exc)
        return ""


# --- the response_code ledger --------------------------------------------------------------------


def record_response_code(code: str, *, campaign_id: int | None, batch_id: int | None,
                         userid: str | None = None, source: str, received_at: datetime) -> None:
    """Add a response_code to the ledger, valid 24 h from ``received_at``; a known code is left
    as it is. ``source`` is "send" or "callback". Joins the session's transaction (the caller commits)."""
    _INSERT_CODE(db.session.connection(), code_row(code, campaign_id, batch_id, userid, source, received_at))


def code_row(code, campaign_id, batch_id, userid, source, received_at: datetime) -> dict:
    """A response_code ledger row, valid RESPONSE_CODE_LIFE from ``received_at``."""
    return {"code": code, "campaign_id": campaign_id, "batch_id": batch_id, "userid": userid,
            "source": source, "expires_at": received_at + RESPONSE_CODE_LIFE, "created_at": received_at}
