"""Employees' inboxes: the cards as each one sees them, and what a click turns into.

A click becomes the event WeCom would post (PROTOCOL §5.1-5.2, built by wecom.replies.event_xml,
with a fresh ResponseCode) and a queued SandboxCallback; callbacks.deliver() posts it.
"""
from __future__ import annotations

import copy
import time
from dataclasses import dataclass

from flask import current_app
from flask_babel import gettext as _

from ..extensions import db
from ..models import SandboxCallback, SandboxInboxCard, SandboxMessage
from ..wecom.replies import event_xml
from .messages import NEWS, NOT_CARDS, TEXT, new_response_code

FEED_LIMIT = 50


class InboxError(ValueError):
    """The action cannot be taken on this card; the message says why, for the person."""


@dataclass(frozen=True)
class Action:
    event: str  # template_card_event or template_card_menu_event
    key: str
    selected: dict[str, list[str]]


def cards_for(userid: str) -> list[SandboxInboxCard]:
    """An employee's cards, newest first."""
    return rows_for(userid, SandboxMessage.card_type.not_in(NOT_CARDS))


def rows_for(userid: str, *where) -> list[SandboxInboxCard]:
    """An employee's inbox rows whose message matches ``where``, newest first."""
    return db.session.scalars(
        db.select(SandboxInboxCard).join(SandboxInboxCard.message).where(
            SandboxInboxCard.userid == userid, *where)
        .order_by(SandboxInboxCard.delivered_at.desc(), SandboxInboxCard.id.desc())
        .limit(FEED_LIMIT)).all()


def shown_card(row: SandboxInboxCard) -> dict:
    """The card as this employee sees it: replaced, or greyed with their own answers kept.

    A card the app replaced is shown exactly as the app sent it.
    """
    card = copy.deepcopy(row.card or row.message.card)
    answer = (row.answer or {}) if row.card is None else {}
    greyed = row.replace_name is not None
    if greyed:
        card["replace_text"] = row.replace_name
    for block in _questions(card):
        chosen = answer.get(block.get("question_key"))
        if chosen and block is card.get("checkbox"):
            for option in block.get("option_list", []):
                option["is_checked"] = option.get("id") in chosen
        elif chosen:
            block["selected_id"] = chosen[0]
        if greyed:
            block["disable"] = True
    return card


def _questions(card: dict) -> list[dict]:
    blocks = [card.get("button_selection"), card.get("checkbox"), *(card.get("select_list") or [])]
    return [b for b in blocks if isinstance(b, dict)]


def is_closed(row: SandboxInboxCard, card: dict) -> bool:
    """Recalled, greyed or answered-and-replaced cards take no more clicks."""
    disabled = any(b.get("disable") is True for b in _questions(card))
    return bool(row.message.recalled_at or card.get("replace_text") or disabled)


def parse_action(card: dict, data: dict) -> Action:
    """Check a click from the inbox page against the card; InboxError when it does not fit."""
    kind, key = data.get("kind"), data.get("key")
    if kind == "menu":
        keys = [a.get("key") for a in (card.get("action_menu") or {}).get("action_list", [])]
        return Action("template_card_menu_event", _known(key, keys), {})
    if kind == "button" and card.get("card_type") == "button_interaction":
        keys = [b.get("key") for b in card.get("button_list", []) if b.get("type", 0) == 0]
        selected = {}
        if isinstance(block := card.get("button_selection"), dict):
            option = (data.get("selection") or {}).get("option_id")
            selected[block["question_key"]] = [_option(block, option)]
        return Action("template_card_event", _known(key, keys), selected)
    if kind == "submit" and card.get("card_type") in ("vote_interaction", "multiple_interaction"):
        _known(key, [(card.get("submit_button") or {}).get("key")])
        return Action("template_card_event", key, _selections(card, data.get("selections")))
    raise InboxError(_("This card has no such action."))


def _known(key, keys: list) -> str:
    if not isinstance(key, str) or key not in keys:
        raise InboxError(_("This card has no such action."))
    return key


def _option(block: dict, option_id) -> str:
    if option_id not in [o.get("id") for o in block.get("option_list", [])]:
        raise InboxError(_("Choose one of the card's options."))
    return option_id


def _selections(card: dict, given) -> dict[str, list[str]]:
    answers = {s.get("question_key"): s.get("option_ids") for s in given or [] if isinstance(s, dict)}
    if isinstance(box := card.get("checkbox"), dict):
        ids = answers.get(box["question_key"]) or []
        if not ids:
            raise InboxError(_("Choose an option before submitting."))
        if box.get("mode", 0) == 0 and len(ids) != 1:
            raise InboxError(_("This vote takes exactly one option."))
        return {box["question_key"]: [_option(box, i) for i in dict.fromkeys(ids)]}
    selected = {}
    for block in card.get("select_list", []):
        ids = answers.get(block["question_key"]) or []
        if len(ids) != 1:
            raise InboxError(_("Choose one option in every list before submitting."))
        selected[block["question_key"]] = [_option(block, ids[0])]
    return selected


def act(row: SandboxInboxCard, data: dict) -> SandboxCallback:
    """Turn a click into a queued callback, exactly as WeCom would post it (the caller commits)."""
    card, data = shown_card(row), data if isinstance(data, dict) else {}
    if row.message.recalled_at:
        raise InboxError(_("This message was recalled."))
    if is_closed(row, card) and data.get("kind") != "menu":  # the card menu stays usable
        raise InboxError(_("This card no longer takes answers."))
    action = parse_action(card, data)
    config, message = current_app.config, row.message
    xml = event_xml(
        to_user=config["WECOM_CORP_ID"], from_user=row.userid, create_time=int(time.time()),
        event_key=action.key, task_id=card.get("task_id") or message.task_id or "",
        card_type=card["card_type"], response_code=new_response_code(message, row.userid),
        agent_id=int(config["WECOM_AGENT_ID"]), selected=action.selected or None, event=action.event)
    if action.selected:
        row.answer, row.version = {**(row.answer or {}), **action.selected}, row.version + 1
    callback = SandboxCallback(inbox_card=row, userid=row.userid, event=action.event,
                               event_key=action.key, selected=action.selected or None, xml=xml)
    db.session.add(callback)
    db.session.flush()
    return callback


def message_title(message: SandboxMessage) -> str:
    card = message.card
    if message.card_type == TEXT:
        return card["content"].strip().split("\n")[0][:60]
    if message.card_type == NEWS:
        return card["articles"][0]["title"].strip()
    return ((card.get("main_title") or {}).get("title") or card.get("sub_title_text")
            or card["card_type"]).strip()
