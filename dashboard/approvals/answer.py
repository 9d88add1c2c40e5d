"""A click on an approval card, at our own /wecom/callback: stored like every event (outside
every report: the card belongs to no campaign's batch), decided once, and answered with a passive
reply that turns the clicker's card into the outcome ("已批准 · 张三 · 17:03"), or says why the
click changed nothing. A retried click is answered the same way and decides nothing again.
With AFTER_CLICK_VIA=api (WeCom may not apply a passive reply to a card event) the worker also
updates the clicker's card, with the code of the card's send."""
from __future__ import annotations

import logging
from time import time

from flask import current_app

from .. import wecom_app
from ..callback.service import Answer, store
from ..extensions import db
from ..models import ApprovalCard, User
from ..wecom.errors import CryptoError
from ..wecom.replies import update_button_xml, update_template_card_xml
from . import cards, jobs, service

log = logging.getLogger(__name__)


def on_click(conn, event, xml: str, call) -> Answer:
    store(conn, event, xml, call, None, "stored")
    card = db.session.scalar(db.select(ApprovalCard).filter_by(task_id=event.task_id))
    decision = service.DECISIONS.get(event.event_key or "")
    if card is None or decision is None:
        return Answer(200)
    approval = card.approval
    with cards.words():  # a refusal is answered in WeCom: in its language
        why = service.decide(approval, clicker(event.from_user), decision, via="wecom")
    if why is None:
        if current_app.config["AFTER_CLICK_VIA"] == "reply":  # else the worker updates it too
            card.updated_at = approval.decided_at  # the passive reply shows the decision
        db.session.commit()
        jobs.after_decision(approval)
    else:
        db.session.rollback()
        log.info("approval click on %s by %s changed nothing: %s", event.task_id, event.from_user, why)
    return _reply(event, call, approval, card, why or "")


def clicker(userid: str) -> User | None:
    """The dashboard user behind a WeCom member: an approver among those linked to it, if any."""
    linked = db.session.scalars(db.select(User).filter_by(wecom_userid=userid, active=True)).all()
    return next((u for u in linked if service.may_approve(u)), linked[0] if linked else None)


def _reply(event, call, approval, card: ApprovalCard, why: str) -> Answer:
    """The card as decided (for the decider, with the link to give a rejection's reason), or, while
    it waits, its clicked button greyed with ``why`` nothing changed."""
    crypto = wecom_app.crypto()
    now = int(time())
    if approval.decision is not None:
        mine = approval.decided_by is not None and approval.decided_by.wecom_userid == event.from_user
        inner = update_template_card_xml(event.from_user, crypto.receive_id,
                                         cards.decided_card(approval, card, decider=mine), now)
    else:
        inner = update_button_xml(event.from_user, crypto.receive_id, why, now)
    try:
        return Answer(200, crypto.encrypt_reply(inner, call.nonce, call.timestamp), "text/xml")
    except CryptoError as exc:
        log.warning("no passive reply for approval card %s: %s", event.task_id, exc)
        return Answer(200)
