"""The callback's handler for what members send the app (registered with the callback in
``init_app``): the message is stored with its answer in the event's one transaction, and the
passive reply goes back in the same HTTP answer, well inside WeCom's 5 seconds."""
from __future__ import annotations

import logging
from time import time

from .. import wecom_app
from ..callback.rows import RowInsert
from ..callback.service import Answer, Call, queue, store
from ..models import ConversationMessage, utcnow
from ..wecom.errors import CryptoError
from . import answer, jobs, rules

log = logging.getLogger(__name__)

_INSERT_MESSAGE = RowInsert(ConversationMessage.__table__)
KINDS = answer.MESSAGES | answer.MENU_EVENTS | {"enter_agent"}


def on_conversation(conn, event, xml: str, call: Call) -> Answer:
    """A member's message, menu click or entry into the app: kept for the inbox and answered by
    the reply rules; a retry of one MsgId gets the same answer and is stored once."""
    plan = answer.plan(conn, event, rules.current(conn), utcnow())
    if store(conn, event, xml, call, None, "stored", also=[(_INSERT_MESSAGE, row) for row in plan.rows]):
        passive = plan.passive
        if plan.queued:
            queue(jobs.send_soon, event.dedupe_key)
    else:
        passive = answer.stored_passive(conn, event.dedupe_key)
    if passive is None:
        return Answer(200)
    crypto = wecom_app.crypto()
    try:
        inner = answer.reply_xml(passive, event.from_user, crypto.receive_id, int(time()))
        return Answer(200, crypto.encrypt_reply(inner, call.nonce, call.timestamp), "text/xml")
    except (CryptoError, ValueError) as exc:  # stored anyway; the thread shows what was meant
        log.warning("no passive reply to %s from %s: %s", event.kind, event.from_user, exc)
        return Answer(200)
