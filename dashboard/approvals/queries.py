"""What the approvals pages read."""
from __future__ import annotations

from flask import abort

from ..extensions import db
from ..models import Approval, Campaign, User
from . import service


def waiting_for(user: User) -> list[Approval]:
    """Approvals that wait, which ``user`` may decide (not their own campaigns), oldest first."""
    if not service.may_approve(user):
        return []
    rows = db.session.scalars(db.select(Approval).join(Campaign).where(
        Approval.decision.is_(None), Campaign.status == "awaiting_approval")
        .order_by(Approval.requested_at)).all()
    return [a for a in rows if user.id not in (a.campaign.created_by_id, a.requested_by_id)]


def mine(user: User) -> list[Approval]:
    """The user's own campaigns that wait for someone's approval."""
    return db.session.scalars(db.select(Approval).join(Campaign).where(
        Approval.decision.is_(None), Campaign.status == "awaiting_approval",
        db.or_(Campaign.created_by_id == user.id, Approval.requested_by_id == user.id))
        .order_by(Approval.requested_at)).all()


def recent(limit: int = 20) -> list[Approval]:
    """The latest decisions, for the record."""
    return db.session.scalars(db.select(Approval).where(Approval.decision.is_not(None))
                              .order_by(Approval.decided_at.desc()).limit(limit)).all()


def approval_for(user: User, approval_id: int) -> Approval:
    """An approval its campaign's author, whoever asked and anyone who may approve can read; 404
    for anyone else (as for a campaign that is not theirs)."""
    approval = db.session.get(Approval, approval_id)
    if approval is None:
        abort(404)
    own = user.id in (approval.campaign.created_by_id, approval.requested_by_id)
    if not (own or service.may_approve(user) or user.has_role("admin")):
        abort(404)
    return approval


def first_body(campaign: Campaign) -> dict | None:
    """The first planned call's body: exactly the card that will go out."""
    return campaign.batches[0].request if campaign.batches else None
