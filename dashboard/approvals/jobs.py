"""Approvals' background work: sending the approvers their cards, showing every approver the
decision once it is made, the notices to authors, and a sweep that catches up whatever a queue
that was down left undone. Each card is claimed by a conditional UPDATE before its call, so a job
queued twice, or the sweep running beside it, sends nothing twice."""
from __future__ import annotations

import logging
from datetime import timedelta

from .. import tasks, wecom_app
from ..campaigns import jobs as campaign_jobs
from ..extensions import db
from ..models import Approval, ApprovalCard, audit, utcnow
from ..wecom.errors import WeComError
from . import cards, notices

log = logging.getLogger(__name__)

SEND_CARDS = "dashboard.approvals.send_cards"
UPDATE_CARDS = "dashboard.approvals.update_cards"
NOTIFY = "dashboard.approvals.notify"
SWEEP = "dashboard.approvals.sweep"
LOOK_BACK = timedelta(hours=24)  # the sweep's reach: a card's response_code lives at least this long
NOTICE_LOOK_BACK = timedelta(hours=1)


def init_app(app) -> None:
    tasks.job(app, SEND_CARDS, send_cards)
    tasks.job(app, UPDATE_CARDS, update_cards)
    tasks.job(app, NOTIFY, notices.send)
    tasks.job(app, SWEEP, sweep, periodic=True)


def queue(name: str, *args) -> None:
    """Queue follow-up work; what is lost to a queue that is down, the sweep does within a minute."""
    try:
        tasks.enqueue(name, *args)
    except Exception as exc:  # noqa: BLE001 - Redis down, a full disk: the sweep catches up
        log.warning("not queued (%s): the approvals sweep picks it up", exc)


def after_decision(approval: Approval, *, answered_card: ApprovalCard | None = None) -> None:
    """After a decision is committed: every approver's card shows it, the author hears of it, and
    an approved campaign is sent (or waits for its time)."""
    queue(UPDATE_CARDS, approval.id)
    if approval.decision in ("approved", "rejected"):
        queue(NOTIFY, approval.campaign_id, approval.decision, approval.id)
    if approval.decision == "approved":
        campaign_jobs.deliver(approval.campaign_id, eta=approval.campaign.send_at)


def send_cards(approval_id: int) -> None:
    """Send each approver their card (those not sent yet), while the approval waits."""
    approval = db.session.get(Approval, approval_id)
    if approval is None or approval.decision is not None:
        return
    client, sent, failed = wecom_app.client(), [], []
    for card in list(approval.cards):
        if not _claim(card, ApprovalCard.sent_at):
            continue
        try:
            result = client.send_template_card(cards.request_card(approval, card), touser=card.userid)
        except WeComError as exc:
            card.error = getattr(exc, "explanation", None) or str(exc)
            failed.append(card.userid)
        else:
            card.response_code = result.response_code
            sent.append(card.userid)
        db.session.commit()
    if sent or failed:
        audit("approval_cards_sent", approval, actor="system", campaign=approval.campaign_id,
              sent=sent, **({"failed": failed} if failed else {}))
        db.session.commit()
        log.info("approval %s: cards sent to %s%s", approval.id, ", ".join(sent) or "nobody",
                 f"; not to {', '.join(failed)}" if failed else "")


def update_cards(approval_id: int) -> None:
    """Show the decision on every approver's card not showing it yet (update_template_card with
    the code the send returned)."""
    approval = db.session.get(Approval, approval_id)
    if approval is None or approval.decision is None:
        return
    client = wecom_app.client()
    for card in list(approval.cards):
        if not card.response_code or not _claim(card, ApprovalCard.updated_at):
            continue
        try:
            client.update_template_card(card.response_code, userids=[card.userid],
                                        template_card=cards.decided_card(
                                            approval, card, decider=card.user_id == approval.decided_by_id))
        except WeComError as exc:
            card.error = getattr(exc, "explanation", None) or str(exc)
            log.warning("approval %s: the card of %s not updated: %s", approval.id, card.userid,
                        card.error)
        db.session.commit()


def _claim(card: ApprovalCard, column) -> bool:
    """Take the card's next step for this worker (sets ``column`` now, committed): True when won."""
    won = db.session.execute(db.update(ApprovalCard).where(ApprovalCard.id == card.id, column.is_(None))
                             .values({column.key: utcnow()})
                             .execution_options(synchronize_session=False)).rowcount == 1
    db.session.commit()
    db.session.refresh(card)
    return won


def sweep() -> None:
    """Cards not sent or not updated, and notices never written, of the last hours."""
    now = utcnow()
    unsent = db.select(Approval.id).join(ApprovalCard).where(
        Approval.decision.is_(None), Approval.requested_at >= now - LOOK_BACK,
        ApprovalCard.sent_at.is_(None)).distinct()
    stale = db.select(Approval.id).join(ApprovalCard).where(
        Approval.decision.is_not(None), Approval.decided_at >= now - LOOK_BACK,
        ApprovalCard.updated_at.is_(None), ApprovalCard.response_code.is_not(None)).distinct()
    for approval_id in db.session.scalars(unsent).all():
        send_cards(approval_id)
    for approval_id in db.session.scalars(stale).all():
        update_cards(approval_id)
    for campaign_id, kind, ref in notices.missed(now - NOTICE_LOOK_BACK):
        notices.send(campaign_id, kind, ref)
