"""The conversations' background work: the answers the callback could not give passively (more
replies of an "all" rule, cards), sent with message/send within seconds; the periodic job sends
any that a lost queue entry left behind."""
from __future__ import annotations

import logging
from datetime import timedelta

from .. import tasks
from ..extensions import db
from ..models import ConversationMessage, utcnow
from . import service

log = logging.getLogger(__name__)

# The names queued work carries: never change them.
SEND = "dashboard.conversations.jobs.send"
CATCH_UP = "dashboard.conversations.jobs.catch_up"
LEFT_BEHIND = timedelta(seconds=30)  # a queued answer older than this is picked up by the sweep


def init_app(app) -> None:
    tasks.job(app, SEND, _send)
    tasks.job(app, CATCH_UP, _catch_up, periodic=True)


def send_soon(dedupe_key: str) -> None:
    """Queue the active answers to the message with this dedupe_key."""
    tasks.enqueue(SEND, dedupe_key)


def _send(dedupe_key: str) -> None:
    service.send_queued(db.select(ConversationMessage).where(
        ConversationMessage.in_reply_to == dedupe_key, ConversationMessage.status == "queued"))


def _catch_up() -> None:
    service.send_queued(db.select(ConversationMessage).where(
        ConversationMessage.status == "queued", ConversationMessage.direction == "out",
        ConversationMessage.created_at < utcnow() - LEFT_BEHIND).limit(200))
