"""Approvals: who approves, asking them, deciding once, withdrawing.

A send that needs approval (campaigns.service.approval_needed) leaves the campaign
``awaiting_approval`` with its batches planned; :func:`request` (a receiver of
``campaigns.signals.approval_requested``) writes the :class:`Approval` and one
:class:`ApprovalCard` per approver, whose cards the worker sends (jobs.py). :func:`decide` lets
exactly one decision through, however many approvers click at once or WeCom retries a click:
the UPDATE that records it matches only while the approval is undecided. Changes are audited;
the caller commits, then calls ``jobs.after_decision`` to queue the follow-up work.
"""
from __future__ import annotations

import logging

from flask_babel import gettext as _
from sqlalchemy import event
from sqlalchemy.orm import Session

from ..campaigns import delivery
from ..campaigns import service as campaigns
from ..extensions import db
from ..models import Approval, ApprovalCard, Campaign, User, audit, utcnow
from . import cards

log = logging.getLogger(__name__)

DECISIONS = {cards.APPROVE: "approved", cards.REJECT: "rejected"}
REASON_MAX = 500
AFTER_COMMIT = "approvals.after_commit"


def after_commit(func) -> None:
    """Run ``func`` once the session's transaction commits (queue work that reads what it
    wrote); forgotten if it rolls back."""
    db.session().info.setdefault(AFTER_COMMIT, []).append(func)


@event.listens_for(Session, "after_commit")
def _committed(session) -> None:
    for func in session.info.pop(AFTER_COMMIT, []):
        func()


@event.listens_for(Session, "after_rollback")
def _rolled_back(session) -> None:
    session.info.pop(AFTER_COMMIT, None)


def approvers(campaign: Campaign, *exclude: User | None) -> list[User]:
    """Who may approve this campaign: active admins and users who may approve, linked to a WeCom
    member, never its author or whoever asked (four eyes)."""
    skip = {u.id for u in exclude if u is not None} | {campaign.created_by_id}
    query = db.select(User).where(User.active.is_(True), User.wecom_userid.is_not(None),
                                  db.or_(User.role == "admin", User.may_approve.is_(True)))
    return [u for u in db.session.scalars(query.order_by(User.id)) if u.id not in skip]


def may_approve(user: User | None) -> bool:
    return bool(user and user.is_active and user.wecom_userid
                and (user.role == "admin" or user.may_approve))


def current(campaign: Campaign) -> Approval | None:
    """The campaign's latest approval (the one that counts while it awaits approval)."""
    return db.session.scalar(db.select(Approval).filter_by(campaign_id=campaign.id)
                             .order_by(Approval.id.desc()).limit(1))


def request(campaign: Campaign, *, recipients: int, everyone: bool, actor: User | None) -> Approval:
    """Ask every approver (receiver of approval_requested; in the send's transaction). :raises
    CampaignError: nobody may approve it, so the send is refused and says what to do."""
    people = approvers(campaign, actor)
    if not people:
        raise campaigns.CampaignError(_(
            "This send needs a second person's approval, and nobody can give it: an admin or a "
            "user who may approve, other than you, with a WeCom account linked on the users page."))
    approval = Approval(campaign=campaign, requested_by=actor, recipients=recipients,
                        everyone=everyone, requested_at=utcnow())
    db.session.add(approval)
    db.session.flush()
    for person in people:
        db.session.add(ApprovalCard(approval=approval, user=person, userid=person.wecom_userid,
                                    task_id=cards.task_id(approval, person)))
    db.session.flush()
    audit("approval_requested", approval, actor=actor, campaign=campaign.id,
          approvers=[p.username for p in people], recipients=recipients)
    return approval


def withdraw(campaign: Campaign, *, reason: str, actor: User | None) -> Approval | None:
    """The approval the campaign waited for no longer counts (receiver of approval_withdrawn)."""
    approval = current(campaign)
    if approval is None or not _settle(approval, "withdrawn", actor, reason=reason, via="web"):
        return None
    audit("approval_withdrawn", approval, actor=actor, campaign=campaign.id, reason=reason)
    return approval


def refusal(approval: Approval, user: User | None) -> str | None:
    """Why ``user`` cannot decide this approval now, in words for them; None when they can."""
    if approval.decision is not None:
        return cards.outcome_text(approval)
    if user is not None and user.id in (approval.campaign.created_by_id, approval.requested_by_id):
        return _("You cannot approve your own send")
    if not may_approve(user):
        return _("You do not approve sends")
    if approval.campaign.status != "awaiting_approval":
        return _("The campaign no longer awaits approval")
    return None


def decide(approval: Approval, user: User | None, decision: str, *, reason: str = "",
           via: str = "web") -> str | None:
    """Approve or reject (``decision``: "approved" or "rejected"); None when this call decided,
    else why not (:func:`refusal`). Approval starts the send or its schedule; rejection returns
    the campaign to draft with the reason on its page."""
    if why := refusal(approval, user):
        return why
    reason = reason.strip()[:REASON_MAX]
    if not _settle(approval, decision, user, reason=reason, via=via):
        db.session.refresh(approval)
        return refusal(approval, user)
    campaign = approval.campaign
    try:
        if decision == "approved":
            campaigns.release(campaign, recipients=approval.recipients, actor=user)
        else:
            campaigns.back_to_draft(campaign, rejected_text(approval), actor=user)
    except campaigns.CampaignError as exc:  # cancelled meanwhile: nothing is decided
        db.session.rollback()
        return str(exc)
    audit(f"approval_{decision}", approval, actor=user, campaign=campaign.id, via=via,
          **({"reason": reason} if reason else {}))
    log.info("approval %s of campaign %s %s by %s (%s)", approval.id, campaign.id, decision,
             user.username, via)
    return None


def give_reason(approval: Approval, user: User, reason: str) -> str | None:
    """The rejecter says why (after a 驳回 in WeCom): shown to the author; None when kept."""
    if approval.decision != "rejected" or approval.decided_by_id != user.id:
        return _("Only whoever rejected the campaign can give the reason.")
    approval.reason = reason.strip()[:REASON_MAX]
    campaign = approval.campaign
    if campaign.status == "draft" and current(campaign) is approval:
        campaign.status_reason = rejected_text(approval)
    audit("approval_reason", approval, actor=user, campaign=campaign.id, reason=approval.reason)
    return None


def rejected_text(approval: Approval) -> str:
    """The draft's status line after a rejection, stored in English (campaigns.queries.stored_text)."""
    name = cards.name_of(approval.decided_by)
    if approval.reason:
        return delivery.REJECTED % {"name": name, "reason": approval.reason}
    return delivery.REJECTED_NO_REASON % {"name": name}


def _settle(approval: Approval, decision: str, user: User | None, *, reason: str, via: str) -> bool:
    """Record the decision if nobody did yet: True when this call did (one UPDATE, row-locked)."""
    now = utcnow()
    done = db.session.execute(
        db.update(Approval).where(Approval.id == approval.id, Approval.decision.is_(None))
        .values(decision=decision, decided_by_id=user.id if user else None, decided_at=now,
                decided_via=via, reason=reason)
        .execution_options(synchronize_session=False)).rowcount == 1
    if done:
        db.session.refresh(approval)
    return done
