"""An employee's side of the conversation with the app (CONVERSATIONS §1-2): what they type,
their location, a picture, the published menu's buttons and opening the app, each built as the
XML WeCom posts and queued as a SandboxCallback, delivered like a card click (callbacks.py).

A callback belongs to an inbox row; an employee's own messages belong to their "chat" row (a
SandboxMessage of card_type CHAT with one inbox row), made on their first message. The inbox
never shows that row as a message of the app.
"""
from __future__ import annotations

import hashlib
import re
import secrets
import time

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import SandboxCallback, SandboxInboxCard, SandboxMessage
from ..wecom.errors import GenReturnXmlError
from ..wecom.replies import to_xml
from .inbox import InboxError
from .menus import published_menu
from .messages import CHAT

TEXT_MAX = 4000  # characters the composer takes in one message
#: The sample place the composer sends (doc 90239 location fields; AppType is wxwork in WeCom).
SAMPLE_LOCATION = {"Location_X": 31.19, "Location_Y": 121.44, "Scale": 15, "Label": "上海市徐汇区",
                   "AppType": "wxwork"}
SAMPLE_PICTURE = "sandbox/sample-picture.png"  # under static/: the PicUrl the sandbox serves itself
#: Menu button type -> the button field its event carries as EventKey (CONVERSATIONS §2.4).
MENU_EVENTS = {"click": "key", "view": "url", "view_miniprogram": "pagepath"}
_NOT_XML = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")  # no XML carries these


def say(userid: str, data) -> SandboxCallback:
    """Turn what the employee did on the inbox page into a queued callback (the caller commits,
    then enqueues it); InboxError when there is nothing WeCom would send."""
    data = data if isinstance(data, dict) else {}
    build = BUILDERS.get(data.get("kind"))
    if build is None:
        raise InboxError(_("The sandbox cannot send that."))
    fields = build(data)
    try:
        xml = message_xml(userid, fields)
    except GenReturnXmlError:
        raise InboxError(_("The sandbox cannot send that.")) from None
    callback = SandboxCallback(inbox_card=chat_row(userid), userid=userid,
                               event=fields.get("Event") or fields["MsgType"],
                               event_key=(fields.get("EventKey") or "")[:1024], xml=xml)
    db.session.add(callback)
    db.session.flush()
    return callback


def _text(data: dict) -> dict:
    text = _NOT_XML.sub("", data["text"]) if isinstance(data.get("text"), str) else ""
    if not text.strip():
        raise InboxError(_("Write a message first."))
    if len(text) > TEXT_MAX:
        raise InboxError(_("At most %(n)s characters in one message.", n=TEXT_MAX))
    return {"MsgType": "text", "Content": text}


def _location(data: dict) -> dict:
    return {"MsgType": "location", **SAMPLE_LOCATION}


def _image(data: dict) -> dict:
    """A picture: its PicUrl, and a MediaId (the sandbox keeps no media to fetch by it)."""
    return {"MsgType": "image", "PicUrl": sample_picture_url(),
            "MediaId": f"sandbox-{secrets.token_urlsafe(24)}"}


def _menu(data: dict) -> dict:
    button = _button(published_menu()["button"], data.get("button"))
    kind = button.get("type")
    if kind not in MENU_EVENTS:
        raise InboxError(_("The sandbox does not simulate %(type)s buttons.", type=kind))
    return {"MsgType": "event", "Event": kind, "EventKey": button.get(MENU_EVENTS[kind]) or ""}


def _button(buttons: list, path) -> dict:
    """The published button at ``path`` ([i] or [i, j]); a group sends nothing (CONVERSATIONS §2.4)."""
    whole = isinstance(path, list) and 1 <= len(path) <= 2 and all(
        type(i) is int and i >= 0 for i in path)
    try:
        button = buttons[path[0]] if whole else None
        button = button["sub_button"][path[1]] if whole and len(path) == 2 else button
    except (IndexError, KeyError, TypeError):
        button = None
    if not isinstance(button, dict) or button.get("sub_button"):
        raise InboxError(_("The menu has no such button."))
    return button


def _enter_agent(data: dict) -> dict:
    return {"MsgType": "event", "Event": "enter_agent", "EventKey": ""}


#: What the inbox page posts ({"kind": ...}) -> the message or event it becomes.
BUILDERS = {"text": _text, "location": _location, "image": _image, "menu": _menu,
            "enter_agent": _enter_agent}


def message_xml(userid: str, fields: dict) -> str:
    """The plaintext WeCom encrypts: a message with a fresh 64-bit MsgId, or an event (none)."""
    config = current_app.config
    msg_id = None if fields["MsgType"] == "event" else secrets.randbits(62) + 2**62
    return to_xml({"ToUserName": config["WECOM_CORP_ID"], "FromUserName": userid,
                   "CreateTime": int(time.time()), **fields, "MsgId": msg_id,
                   "AgentID": int(config["WECOM_AGENT_ID"])})


def sample_picture_url() -> str:
    base = current_app.config["DASHBOARD_URL"].rstrip("/")
    return f"{base}{current_app.static_url_path}/{SAMPLE_PICTURE}"


def chat_row(userid: str) -> SandboxInboxCard:
    """The inbox row an employee's own messages belong to, made once (also by concurrent requests)."""
    msgid = f"{CHAT}-{hashlib.sha256(userid.encode('utf-8')).hexdigest()[:48]}"
    message = db.session.scalar(db.select(SandboxMessage).filter_by(msgid=msgid))
    if message is None:
        try:
            with db.session.begin_nested():
                message = SandboxMessage(msgid=msgid, card_type=CHAT, card={}, request={}, body_hash="",
                                         answer={}, recipients=[userid], dropped=[])
                db.session.add_all([message, SandboxInboxCard(message=message, userid=userid)])
        except IntegrityError:  # another request made it first
            message = db.session.scalar(db.select(SandboxMessage).filter_by(msgid=msgid))
    return db.session.scalar(db.select(SandboxInboxCard).filter_by(message_id=message.id))


def is_chat(callback: SandboxCallback) -> bool:
    return callback.inbox_card.message.card_type == CHAT
