"""What the app answers a member, decided in the callback: the message for the inbox, the rule
that matched, the passive reply (text or news, inside WeCom's 5 seconds) and the answers the
worker sends after it (more replies, cards). Nothing here calls WeCom.

A member's words match the keyword rules; a menu click's key (or a scan's that waits for an answer)
matches them too; other menu buttons are kept, not answered. Nothing matched:
the default reply (收到消息回复). Opening the app (enter_agent): the welcome, at most once per
member per WELCOME_EVERY seconds.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from flask import current_app

from ..extensions import db
from ..models import ConversationMessage
from ..wecom.menus import BUTTON_TYPES
from ..wecom.replies import news_reply_xml, text_reply_xml
from .rules import Compiled, Rule

MESSAGES = {"text", "image", "voice", "video", "location", "link"}  # what members send (doc 90239)
MENU_EVENTS = frozenset(BUTTON_TYPES)  # a button of the menu pressed, of any type the editor offers
#: Menu events whose key the rules answer like a keyword: a click, and a scan that makes WeCom's app
#: wait for an answer ("消息接收中"). The others open a page, or pick a picture or a place, which
#: then comes as a message of its own.
KEYWORD_EVENTS = {"click", "scancode_waitmsg"}
MENU_DETAILS = ("ScanCodeInfo", "SendPicsInfo", "SendLocationInfo")  # what a scan or a pick carries
PASSIVE = {"text", "news"}  # what a passive reply can carry; cards go by message/send
_WELCOMED = (db.select(ConversationMessage.id).where(
    ConversationMessage.userid == db.bindparam("userid"), ConversationMessage.direction == "out",
    ConversationMessage.rule_id == db.bindparam("rule_id"),
    ConversationMessage.created_at > db.bindparam("since")).limit(1))


@dataclass
class Plan:
    """The rows to write with the event, and the passive reply (or None)."""

    rows: list[dict] = field(default_factory=list)  # conversation_message rows, the incoming one first
    passive: dict | None = None  # {"type": "text", "text"} or {"type": "news", "articles"}
    queued: bool = False  # answers for the worker to send

    def reply_xml(self, userid: str, corp_id: str, create_time: int) -> str:
        return reply_xml(self.passive, userid, corp_id, create_time) if self.passive else ""


def plan(conn, event, compiled: Compiled, now: datetime) -> Plan:
    """The inbox row for ``event`` and the app's answer to it."""
    msg_type, text, data = words(event)
    out = Plan()
    if event.kind == "enter_agent":  # not a message: only its welcome is kept
        rule = compiled.welcome if compiled.welcome and not _welcomed(conn, event.from_user,
                                                                       compiled.welcome, now) else None
    else:
        out.rows.append(_row(event, "in", msg_type, text, data, now, dedupe_key=event.dedupe_key))
        rule = _choose(compiled, event, text)
    if rule is None:
        return out
    if out.rows:
        out.rows[0]["answered"], out.rows[0]["rule_id"] = True, rule.id
    replies = list(rule.replies) if rule.reply_mode == "all" else [random.choice(rule.replies)]
    for reply in replies:
        passive = out.passive is None and reply.get("type") in PASSIVE
        out.passive = reply if passive else out.passive
        out.queued = out.queued or not passive
        out.rows.append(_row(event, "out", reply.get("type", "text"), reply.get("text", ""),
                             _reply_data(reply), now, in_reply_to=event.dedupe_key, rule_id=rule.id,
                             via="passive" if passive else "active", status="sent" if passive else "queued"))
    return out


def _choose(compiled: Compiled, event, text: str) -> Rule | None:
    """The rule that answers, else the default reply; nothing for the other menu buttons (WeCom's
    app does the rest) nor for a kind of message WeCom's documents do not list (kept unanswered)."""
    if (event.kind == "text" or event.kind in KEYWORD_EVENTS) and text:
        rule_id = compiled.matcher.match(text)
        if rule_id is not None:
            return compiled.rules[rule_id]
    return compiled.default if event.kind in MESSAGES or event.kind in KEYWORD_EVENTS else None


def _welcomed(conn, userid: str, welcome: Rule, now: datetime) -> bool:
    every = timedelta(seconds=current_app.config["WELCOME_EVERY"])
    return conn.execute(_WELCOMED, {"userid": userid, "rule_id": welcome.id, "since": now - every}
                        ).first() is not None


def words(event) -> tuple[str, str, dict | None]:
    """(msg_type, text, the rest) of an incoming message or menu event, for the inbox."""
    raw = event.raw
    kind = event.kind
    if kind == "text":
        return "text", raw.get("Content") or "", None
    if kind == "image":
        return "image", "", _some(raw, "PicUrl", "MediaId")
    if kind in ("voice", "video"):
        return kind, "", _some(raw, "MediaId", "Format", "ThumbMediaId")
    if kind == "location":
        return "location", raw.get("Label") or "", _some(raw, "Location_X", "Location_Y", "Scale")
    if kind == "link":
        return "link", raw.get("Title") or "", _some(raw, "Description", "Url", "PicUrl")
    if kind in MENU_EVENTS or kind == "enter_agent":
        key = raw.get("EventKey")
        details = {name: raw[name] for name in MENU_DETAILS if isinstance(raw.get(name), dict)}
        return f"event:{kind}", key if isinstance(key, str) else "", details or None
    return kind[:32], "", None


def _some(raw: dict, *names: str) -> dict:
    return {name: raw[name] for name in names if isinstance(raw.get(name), str)}


def _row(event, direction: str, msg_type: str, text: str, data, now: datetime, **values) -> dict:
    return {"userid": event.from_user[:64], "direction": direction, "msg_type": msg_type[:32],
            "text": text, "data": data, "create_time": event.create_time if direction == "in" else None,
            "created_at": now, "dedupe_key": None, "answered": False, "in_reply_to": None,
            "rule_id": None, "via": None, "status": None, "error": None, "actor_id": None, **values}


def _reply_data(reply: dict) -> dict | None:
    if reply.get("type") == "news":
        return {"articles": reply.get("articles", [])}
    if reply.get("type") == "card":
        return {"card_id": reply.get("card_id")}
    return None


def reply_xml(reply: dict, userid: str, corp_id: str, create_time: int) -> str:
    """The inner XML of a passive reply (text or news)."""
    if reply["type"] == "news":
        return news_reply_xml(userid, corp_id, reply["articles"], create_time)
    return text_reply_xml(userid, corp_id, reply.get("text", ""), create_time)


def stored_passive(conn, dedupe_key: str) -> dict | None:
    """The passive reply given the first time (a retry of one MsgId gets the same answer)."""
    row = conn.execute(db.select(ConversationMessage.msg_type, ConversationMessage.text,
                                 ConversationMessage.data).where(
        ConversationMessage.in_reply_to == dedupe_key, ConversationMessage.via == "passive")).first()
    if row is None:
        return None
    if row.msg_type == "news":
        return {"type": "news", "articles": (row.data or {}).get("articles", [])}
    return {"type": "text", "text": row.text}
