"""`flask demo seed`: the article's own rule ("test" → "this is success test") and "投票", which
answers with the starter poll card of the gallery; each made once, kept on later runs."""
from __future__ import annotations

from ..cards.gallery import starter_card
from ..cards.service import create_card
from ..extensions import db
from ..models import Card, ReplyRule
from .service import save_rule

POLL = "poll-single"  # the gallery's vote card (cards/gallery/04-poll-single.json)


def seed() -> list[str]:
    """Make the two demo rules that are missing (the caller commits); returns lines to print."""
    made = [name for name, build in (("test", _article_rule), ("投票", _poll_rule)) if _make(name, build)]
    if not made:
        return ["Demo reply rules kept: test, 投票."]
    return [f"Demo reply rules added: {', '.join(made)} (send them to the app from a sandbox inbox)."]


def _make(name: str, build) -> bool:
    if db.session.scalar(db.select(ReplyRule.id).filter_by(name=name).limit(1)) is not None:
        return False
    save_rule(None, {"name": name, "kind": "keyword", "enabled": True, "reply_mode": "all",
                     "triggers": [{"match": "whole", "text": name}], "replies": build()}, actor="demo")
    return True


def _article_rule() -> list[dict]:
    return [{"type": "text", "text": "this is success test"}]


def _poll_rule() -> list[dict]:
    return [{"type": "card", "card_id": _poll_card().id}]


def _poll_card() -> Card:
    """The starter poll in the library (seeded there by the gallery), added when it is not."""
    name, template_card = starter_card(POLL)
    card = db.session.scalar(db.select(Card).filter_by(name=name, archived=False).order_by(Card.id).limit(1))
    return card or create_card(name, template_card, actor="demo")
