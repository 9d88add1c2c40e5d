"""Read-only views of the sandbox's state for the inbox and control pages."""
from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from ..extensions import db
from ..models import (SandboxApiCall, SandboxCallback, SandboxDepartment, SandboxEmployee,
                      SandboxInboxCard, SandboxMessage, SandboxTag, SandboxToken, utcnow)
from . import callbacks, faults
from .inbox import cards_for, is_closed, message_title, shown_card

SHOWN_CALLBACKS = 20
WORKER_HINT_AFTER = timedelta(seconds=5)  # a callback queued this long: is the worker running?
#: A callback delivery's status (SandboxCallback.status) as the control page shows it.
STATUSES = {"queued": _l("queued"), "sending": _l("sending"), "retrying": _l("retrying"),
            "delivered": _l("delivered"), "failed": _l("failed")}


def _local(value: datetime | None, fmt: str = "%H:%M:%S") -> str:
    return value.astimezone(ZoneInfo(current_app.config["TIMEZONE"])).strftime(fmt) if value else ""


def people() -> list[dict]:
    """Employees for the picker: name, department names, licence, number of cards."""
    names = dict(db.session.execute(db.select(SandboxDepartment.id, SandboxDepartment.name)).all())
    counts = dict(db.session.execute(db.select(SandboxInboxCard.userid, db.func.count())
                                     .group_by(SandboxInboxCard.userid)).all())
    rows = db.session.scalars(db.select(SandboxEmployee).order_by(SandboxEmployee.userid))
    return [{"userid": e.userid, "name": e.name, "position": e.position, "licensed": e.licensed,
             "departments": " · ".join(names.get(d, str(d)) for d in e.departments),
             "cards": counts.get(e.userid, 0)} for e in rows]


def feed(userid: str) -> dict:
    """What the inbox page polls: the employee's cards and their callback deliveries."""
    latest = _latest_callbacks(userid)
    by_card: dict[int, SandboxCallback] = {}
    for callback in reversed(latest):
        by_card[callback.inbox_card_id] = callback
    cards = [_card(row, by_card.get(row.id)) for row in cards_for(userid)]
    stale = utcnow() - WORKER_HINT_AFTER
    return {"cards": cards, "callbacks": [_callback(c) for c in latest],
            "worker_idle": any(c.status == "queued" and c.created_at < stale for c in latest)}


def _latest_callbacks(userid: str) -> list[SandboxCallback]:
    return db.session.scalars(db.select(SandboxCallback).filter_by(userid=userid)
                              .order_by(SandboxCallback.id.desc()).limit(SHOWN_CALLBACKS)).all()


def _card(row: SandboxInboxCard, last: SandboxCallback | None) -> dict:
    message = row.message
    card = shown_card(row)
    return {"id": row.id, "version": row.version, "time": _local(row.delivered_at, "%m-%d %H:%M"),
            "msgid": message.msgid, "task_id": message.task_id, "recalled": bool(message.recalled_at),
            "card": None if message.recalled_at else card, "closed": is_closed(row, card),
            "last_callback": _callback(last) if last else None}


def _callback(callback: SandboxCallback) -> dict:
    replies = [a["reply"] for a in callback.attempts if a.get("reply")]
    return {"id": callback.id, "card_id": callback.inbox_card_id, "userid": callback.userid,
            "time": _local(callback.created_at),
            "title": message_title(callback.inbox_card.message), "event": callback.event,
            "event_key": callback.event_key, "selected": callback.selected or {},
            "status": callback.status, "attempts": callback.attempts,
            "reply_kind": callback.reply_kind, "reply": replies[-1] if replies else None,
            "xml": callback.xml}


def directory() -> dict[str, int]:
    """How many employees (and of them unlicensed), departments and tags the directory holds."""
    def count(model, **where) -> int:
        return db.session.scalar(db.select(db.func.count()).select_from(model).filter_by(**where))

    return {"employees": count(SandboxEmployee), "unlicensed": count(SandboxEmployee, licensed=False),
            "departments": count(SandboxDepartment), "tags": count(SandboxTag)}


def control() -> dict:
    """Everything the control page shows besides the fault form."""
    config, now = current_app.config, utcnow()
    token = db.session.scalar(db.select(SandboxToken).where(SandboxToken.expires_at > now)
                              .order_by(SandboxToken.expires_at.desc()).limit(1))
    return {
        "connection": [(_("Corp ID"), config["WECOM_CORP_ID"]), (_("Agent ID"), config["WECOM_AGENT_ID"]),
                       (_("API base"), config["WECOM_API_BASE"]), (_("Callback URL"), callbacks.callback_url())],
        "token_left": int((token.expires_at - now).total_seconds()) if token else None,
        "directory": directory(), "statuses": STATUSES,
        "calls": db.session.scalars(db.select(SandboxApiCall).order_by(SandboxApiCall.id.desc())
                                    .limit(30)).all(),
        "messages": db.session.scalars(db.select(SandboxMessage).order_by(SandboxMessage.id.desc())
                                       .limit(15)).all(),
        "callbacks": [_callback(c) for c in db.session.scalars(
            db.select(SandboxCallback).order_by(SandboxCallback.id.desc()).limit(15))],
        "settings": faults.settings(), "title": message_title, "local": _local,
    }
