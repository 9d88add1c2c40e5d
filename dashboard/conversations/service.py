"""Changes to conversations: rules saved and deleted, answers sent by the worker or by hand, the
menu published. Audited; the caller commits unless a function says otherwise."""
from __future__ import annotations

import logging

from flask import current_app
from flask_babel import gettext as _
from sqlalchemy.exc import IntegrityError

from .. import wecom_app
from ..campaigns import jobs as campaign_jobs
from ..campaigns import plan
from ..campaigns import service as campaigns
from ..campaigns.recipients import normalize
from ..extensions import db
from ..models import (AppMenu, Campaign, Card, ConversationMessage, Delivery, ReplyCampaign, ReplyRule,
                      audit, utcnow)
from ..wecom.errors import WeComError
from ..wecom.menus import menu_body
from ..wecom.replies import TEXT_LIMIT, utf8_cut
from . import rules

log = logging.getLogger(__name__)

RULE_FIELDS = ("name", "kind", "priority", "enabled", "reply_mode", "triggers", "replies")


class ConversationError(Exception):
    """A refusal the person can act on; the message says what to do."""


# --- rules -----------------------------------------------------------------------------------


def save_rule(rule: ReplyRule | None, fields: dict, *, actor=None) -> ReplyRule:
    """Create or change a rule (fields already checked by forms.py / the API's schema)."""
    if rule is None:
        rule = ReplyRule(created_by=actor if getattr(actor, "id", None) else None)
        db.session.add(rule)
    for key in RULE_FIELDS:
        if key in fields:
            setattr(rule, key, fields[key])
    db.session.flush()
    rules.changed()
    audit("reply_rule_saved", rule, actor=actor, name=rule.name, kind=rule.kind)
    return rule


def delete_rule(rule: ReplyRule, *, actor=None) -> None:
    audit("reply_rule_deleted", rule, actor=actor, name=rule.name)
    db.session.execute(db.delete(ReplyCampaign).filter_by(rule_id=rule.id))
    db.session.delete(rule)
    rules.changed()


def special_rule(kind: str) -> ReplyRule | None:
    """The default reply ("default") or the welcome ("welcome"), if one was made."""
    return db.session.scalar(db.select(ReplyRule).filter_by(kind=kind).order_by(ReplyRule.id))


# --- answers the worker sends ------------------------------------------------------------------


def send_queued(query) -> int:
    """Send the queued answers ``query`` selects (commits after each); returns how many went."""
    sent = 0
    for row in db.session.scalars(query).all():
        if row.status != "queued":
            continue
        try:
            _send(row)
        except WeComError as exc:
            row.status, row.error = "failed", getattr(exc, "explanation", None) or str(exc)
            log.warning("answer %s to %s not sent: %s", row.id, row.userid, exc)
        else:
            row.status, row.error, sent = "sent", None, sent + 1
        db.session.commit()
    return sent


def _send(row: ConversationMessage) -> None:
    if row.msg_type == "card":
        _send_card(row)
    elif row.msg_type == "news":
        _post(row.userid, "news", {"articles": [_article(a) for a in (row.data or {}).get("articles", [])]})
    else:
        _post(row.userid, "text", {"content": utf8_cut(row.text, TEXT_LIMIT)})


def _post(userid: str, msgtype: str, content: dict) -> None:
    body = {"touser": userid, "msgtype": msgtype, "agentid": int(current_app.config["WECOM_AGENT_ID"]),
            msgtype: content}
    wecom_app.client().send(body)


def _article(article: dict) -> dict:
    return {key: article[key] for key in ("title", "description", "url", "picurl") if article.get(key)}


def _send_card(row: ConversationMessage) -> None:
    """A card answer goes out as a batch of the rule's standing campaign, so the ledger has it and
    its clicks and votes count in that campaign's report."""
    card = db.session.get(Card, (row.data or {}).get("card_id"))
    if card is None or card.latest is None:
        raise _gone(_("The card of this reply was deleted."))
    campaign = standing_campaign(row.rule_id, card)
    # The campaign's row first, whatever this session read of it (a delivery run may have finished
    # it since): its lock makes answers for one campaign take turns, so each numbers its batch
    # after the others' and lists everyone asked so far from the ledger.
    db.session.execute(db.update(Campaign).filter_by(id=campaign.id).values(
        status="sending", finished_at=None, status_reason=""))
    plan.add_batches(campaign, [row.userid])
    asked = db.session.scalars(db.select(Delivery.userid).filter_by(campaign_id=campaign.id)
                               .order_by(Delivery.id)).all()
    campaign.recipients = normalize({"users": asked})
    row.data = {**(row.data or {}), "campaign_id": campaign.id}
    db.session.commit()
    campaign_jobs.deliver(campaign.id)


def standing_campaign(rule_id: int | None, card: Card) -> Campaign:
    """The campaign that carries the rule's answers with this card, its recipients growing.

    A campaign keeps one card version (its report counts that version's options), so once the
    card was edited in the designer the next answer starts the rule's campaign of the new
    version: members get the card as it is now. Answers racing to start it (several members
    asking at once, the worker's threads) end in the one campaign the first of them made.
    """
    if rule_id is None:  # its rule was deleted after the answer was queued: a campaign of its own
        return _new_campaign(None, card)
    current = db.session.scalar(_link(rule_id, card.id))
    campaign = db.session.get(Campaign, current) if current is not None else None
    if campaign is not None and campaign.card_version_id == card.latest.id:
        return campaign
    # Read before writing: SQLite makes a first write wait its turn, but fails a read turned write.
    rule = db.session.get(ReplyRule, rule_id)
    try:
        with db.session.begin_nested():
            campaign = _new_campaign(rule, card)
            if current is None:
                db.session.add(ReplyCampaign(rule_id=rule_id, card_id=card.id, campaign_id=campaign.id))
                db.session.flush()
            elif not db.session.execute(db.update(ReplyCampaign).filter_by(
                    rule_id=rule_id, card_id=card.id, campaign_id=current).values(campaign_id=campaign.id)
                    ).rowcount:
                raise _Raced
    except (IntegrityError, _Raced):  # another answer started it first: that one carries this too
        return db.session.get(Campaign, db.session.scalar(_link(rule_id, card.id)))
    return campaign


class _Raced(Exception):
    """Another answer replaced the rule's campaign between our read and our write."""


def _link(rule_id: int, card_id: int):
    return db.select(ReplyCampaign.campaign_id).filter_by(rule_id=rule_id, card_id=card_id)


def _new_campaign(rule: ReplyRule | None, card: Card) -> Campaign:
    name = _("Replies: %(rule)s · %(card)s", rule=rule.name if rule else "—", card=card.name)
    campaign = campaigns.create_campaign(name=name[:120], card_version=card.latest, recipients={},
                                         actor="system")
    campaign.started_at = utcnow()
    return campaign


def _gone(message: str) -> WeComError:
    return WeComError(message)


# --- answers by hand ----------------------------------------------------------------------------


def reply_by_hand(message: ConversationMessage, text: str, *, actor) -> ConversationMessage:
    """A staff member answers a member's message with text, sent now (commits).

    :raises ConversationError: nothing to send; a WeCom failure is kept on the answer (failed).
    """
    text = text.strip()
    if not text:
        raise ConversationError(_("Write the answer first."))
    row = ConversationMessage(userid=message.userid, direction="out", msg_type="text",
                              text=utf8_cut(text, TEXT_LIMIT), in_reply_to=message.dedupe_key,
                              via="manual", status="queued", actor=actor)
    db.session.add(row)
    audit("conversation_replied", message, actor=actor, userid=message.userid)
    db.session.commit()
    send_queued(db.select(ConversationMessage).filter_by(id=row.id))
    if row.status == "sent":  # a failed answer leaves the message among the unanswered
        message.answered = True
        db.session.commit()
    return row


# --- the menu -------------------------------------------------------------------------------------


def menu() -> AppMenu:
    row = db.session.get(AppMenu, 1)
    if row is None:
        row = AppMenu(id=1, menu={"button": []})
        db.session.add(row)
    return row


def save_menu(buttons: dict, *, actor=None) -> AppMenu:
    row = menu()
    row.menu = buttons
    audit("app_menu_saved", actor=actor)
    return row


def publish_menu(*, actor=None) -> AppMenu:
    """Publish the saved menu with menu/create (an empty one is removed with menu/delete).

    :raises WeComError: WeCom refused; the error is kept on the row too.
    """
    row = menu()
    client = wecom_app.client()
    try:
        if row.menu.get("button"):
            client.create_menu(menu_body(row.menu))
        else:
            client.delete_menu()
    except WeComError as exc:
        row.publish_error = getattr(exc, "explanation", None) or str(exc)
        raise
    row.published_at, row.published_by, row.publish_error = utcnow(), _user(actor), None
    audit("app_menu_published", actor=actor, buttons=len(row.menu.get("button", [])))
    return row


def _user(actor):
    return actor if getattr(actor, "id", None) else None
