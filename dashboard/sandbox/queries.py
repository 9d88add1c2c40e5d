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
from ..wecom.replies import TEXT_LIMIT
from ..wecom.xmlsafe import parse_xml
from . import callbacks, faults, identity
from .chat import is_chat
from .inbox import FEED_LIMIT, cards_for, is_closed, message_title, rows_for, shown_card
from .menus import published_menu
from .messages import CHAT, NEWS, NOT_CARDS, TEXT, cut_like_wecom

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
    counts = dict(db.session.execute(
        db.select(SandboxInboxCard.userid, db.func.count()).join(SandboxInboxCard.message)
        .where(SandboxMessage.card_type.not_in(NOT_CARDS)).group_by(SandboxInboxCard.userid)).all())
    rows = db.session.scalars(db.select(SandboxEmployee).order_by(SandboxEmployee.userid))
    return [{"userid": e.userid, "name": e.name, "position": e.position, "licensed": e.licensed,
             "departments": " · ".join(names.get(d, str(d)) for d in e.departments),
             "cards": counts.get(e.userid, 0)} for e in rows]


def feed(userid: str) -> dict:
    """What the inbox page polls: the employee's cards and their callback deliveries, the rest of
    the conversation (the app's text and news, the employee's own messages with the replies) and
    the published menu."""
    latest = _latest_callbacks(userid)
    by_card: dict[int, SandboxCallback] = {}
    for callback in reversed(latest):
        by_card[callback.inbox_card_id] = callback
    cards = [_card(row, by_card.get(row.id)) for row in cards_for(userid)]
    stale = utcnow() - WORKER_HINT_AFTER
    return {"cards": cards, "callbacks": [_callback(c) for c in latest],
            "worker_idle": any(c.status == "queued" and c.created_at < stale for c in latest),
            "messages": conversation(userid), "menu": published_menu()["button"]}


def conversation(userid: str) -> list[dict]:
    """The app's text and news and the employee's own messages, oldest first (cards: feed())."""
    sent = [_app_message(row) for row in rows_for(userid, SandboxMessage.card_type.in_((TEXT, NEWS)))]
    own = db.session.scalars(
        db.select(SandboxCallback).join(SandboxCallback.inbox_card).join(SandboxInboxCard.message)
        .where(SandboxCallback.userid == userid, SandboxMessage.card_type == CHAT)
        .order_by(SandboxCallback.id.desc()).limit(FEED_LIMIT)).all()
    return sorted(sent + [own_message(c) for c in own], key=lambda entry: entry["at"])


def _when(value: datetime) -> dict:
    return {"at": int(value.timestamp() * 1000), "time": _local(value, "%m-%d %H:%M")}


def _app_message(row: SandboxInboxCard) -> dict:
    message = row.message
    entry = {"id": f"m-{row.id}", "side": "app", "type": message.card_type,
             "recalled": bool(message.recalled_at), **_when(row.delivered_at)}
    if not message.recalled_at:
        entry.update(message.card)  # {"content"} or {"articles"}, as message/send kept them
    return entry


def own_message(callback: SandboxCallback) -> dict:
    """A message or event the employee sent, as the conversation shows it, with the app's reply."""
    sent = parse_xml(callback.xml)["xml"]
    entry = {"id": f"cb-{callback.id}", "callback": callback.id, "type": callback.event,
             "side": "event" if sent.get("MsgType") == "event" else "me", "status": callback.status,
             "problem": _problem(callback), "reply": _reply(callback), **_when(callback.created_at)}
    if callback.event == "text":
        entry["content"] = sent.get("Content") or ""
    elif callback.event == "location":
        entry.update(label=sent.get("Label"), latitude=sent.get("Location_X"), longitude=sent.get("Location_Y"))
    elif callback.event == "image":
        entry["picurl"] = sent.get("PicUrl")
    else:
        entry["key"] = callback.event_key
    return entry


def _problem(callback: SandboxCallback) -> str | None:
    """Why the app's answer is not shown: the last failed attempt, or an ignored reply."""
    last = callback.attempts[-1] if callback.attempts else None
    if last and not last["ok"]:
        return last.get("note") or None
    if callback.reply_kind in ("invalid", "unsupported"):
        return (last or {}).get("reply")
    return None


def _reply(callback: SandboxCallback) -> dict | None:
    """The passive reply as the employee sees it (text cut at 2048 bytes, as WeCom does)."""
    if callback.reply_kind not in ("text", "news") or not callback.reply:
        return None
    inner = parse_xml(callback.reply)["xml"]
    if callback.reply_kind == "text":
        return {"type": "text", "content": cut_like_wecom(inner.get("Content") or "", TEXT_LIMIT)}
    return {"type": "news", "articles": [
        {"title": item.get("Title") or "", "description": item.get("Description") or "",
         "url": item.get("Url") or "", "picurl": item.get("PicUrl") or ""}
        for item in callbacks.news_items(inner)]}


def _latest_callbacks(userid: str) -> list[SandboxCallback]:
    return db.session.scalars(db.select(SandboxCallback).filter_by(userid=userid)
                              .order_by(SandboxCallback.id.desc()).limit(SHOWN_CALLBACKS)).all()


def _card(row: SandboxInboxCard, last: SandboxCallback | None) -> dict:
    message = row.message
    card = shown_card(row)
    closed = is_closed(row, card)
    return {"id": row.id, "version": row.version, **_when(row.delivered_at),
            "msgid": message.msgid, "task_id": message.task_id, "recalled": bool(message.recalled_at),
            "card": None if message.recalled_at else identity.open_links(card, row.userid), "closed": closed,
            "last_callback": _callback(last) if last else None}


def _callback(callback: SandboxCallback) -> dict:
    attempts = [_shown_attempt(a) for a in callback.attempts]
    replies = [a["reply"] for a in attempts if a.get("reply")]
    chat = is_chat(callback)
    return {"id": callback.id, "card_id": callback.inbox_card_id, "userid": callback.userid,
            "time": _local(callback.created_at), "chat": chat,
            "title": summary(callback) if chat else message_title(callback.inbox_card.message),
            "event": callback.event,
            "event_key": callback.event_key, "selected": callback.selected or {},
            "status": callback.status, "attempts": attempts,
            "reply_kind": callback.reply_kind, "reply": replies[-1] if replies else None,
            "xml": callback.xml}


def _shown_attempt(attempt: dict) -> dict:
    """An attempt as the page shows it: the usual empty answer in the page's language (the
    stored note is the log's English)."""
    if attempt.get("reply") != callbacks.EMPTY_ANSWER:
        return attempt
    return {**attempt, "reply": _("Empty answer, no passive reply (the app may change the card "
                                  "through update_template_card).")}


def summary(callback: SandboxCallback) -> str:
    """An employee's own message or event in a few words, for the lists of callbacks."""
    sent, kind = parse_xml(callback.xml)["xml"], callback.event
    if kind == "text":
        content = sent.get("Content") or ""
        return _("Message: %(text)s", text=content if len(content) <= 40 else content[:40] + "…")
    if kind == "location":
        return _("Location: %(label)s", label=sent.get("Label") or "")
    if kind == "image":
        return _("Picture")
    if kind == "enter_agent":
        return _("Opened the app")
    return _("Menu %(event)s: %(key)s", event=kind, key=callback.event_key)


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
        "messages": db.session.scalars(db.select(SandboxMessage).where(SandboxMessage.card_type != CHAT)
                                       .order_by(SandboxMessage.id.desc()).limit(15)).all(),
        "callbacks": [_callback(c) for c in db.session.scalars(
            db.select(SandboxCallback).order_by(SandboxCallback.id.desc()).limit(15))],
        "settings": faults.settings(), "title": message_title, "local": _local,
    }
