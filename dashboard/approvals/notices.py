"""Notices to a campaign's author in WeCom: when it finishes (sent, partly sent, failed), when a
scheduled one starts, and when an approver decides. Each goes once: its :class:`Notice` row is
committed before the call, and a second worker seeing the same moment finds the row. Authors turn
them off on their account page (User.wecom_notices); test sends and reply rules' standing
campaigns send none."""
from __future__ import annotations

import logging

from sqlalchemy.exc import IntegrityError

from .. import wecom_app
from ..extensions import db
from ..models import Approval, Campaign, Delivery, Notice, ReplyCampaign, audit, utcnow
from ..wecom.errors import WeComError
from . import cards

log = logging.getLogger(__name__)

FINISHED = ("sent", "partially_sent", "failed")


def key(campaign: Campaign, kind: str) -> tuple[str, int]:
    """(kind, ref) of a campaign's start or finish: a campaign sent again to its failed recipients
    finishes again, and says so again."""
    moment = campaign.started_at if kind == "started" else campaign.finished_at
    return kind, int(moment.timestamp()) if moment else 0


def send(campaign_id: int, kind: str, ref: int) -> Notice | None:
    """Send the notice ``kind`` ("started", a FINISHED status, "approved", "rejected", "reason";
    ``ref`` the approval's id for the last three) unless it went already or nobody wants it."""
    campaign = db.session.get(Campaign, campaign_id)
    author = campaign.created_by if campaign is not None else None
    if author is None or not wants(campaign):
        return None
    notice = Notice(campaign_id=campaign.id, kind=kind, ref=ref, userid=author.wecom_userid)
    db.session.add(notice)
    try:
        db.session.commit()
    except IntegrityError:  # sent already, or another worker is sending it
        db.session.rollback()
        return None
    approval = db.session.get(Approval, ref) if kind in ("approved", "rejected", "reason") else None
    card = cards.notice_card(campaign, kind, figures(campaign), approval)
    try:
        wecom_app.client().send_template_card(card, touser=author.wecom_userid)
    except WeComError as exc:
        notice.error = getattr(exc, "explanation", None) or str(exc)
        log.warning("notice %s of campaign %s to %s not sent: %s", kind, campaign.id,
                    author.username, notice.error)
    else:
        notice.sent_at = utcnow()
    audit("notice_sent" if notice.sent_at else "notice_failed", campaign, actor="system",
          kind=kind, to=author.username, **({"error": notice.error} if notice.error else {}))
    db.session.commit()
    return notice


def wants(campaign: Campaign) -> bool:
    """The author hears about this campaign in WeCom."""
    author = campaign.created_by
    if campaign.is_test or author is None or not author.active or not author.wecom_notices \
            or not author.wecom_userid:
        return False
    standing = db.select(ReplyCampaign.id).filter_by(campaign_id=campaign.id)
    return db.session.execute(standing.limit(1)).first() is None


def figures(campaign: Campaign) -> dict[str, int]:
    """The campaign's ledger: people per state (accepted, invalid, unlicensed, failed ...)."""
    return dict(db.session.execute(db.select(Delivery.state, db.func.count())
                                   .filter_by(campaign_id=campaign.id).group_by(Delivery.state)).all())


def missed(since) -> list[tuple[int, str, int]]:
    """Starts, finishes and decisions since ``since`` whose notice was never written (a queue that was down):
    (campaign id, kind, ref)."""
    recent = db.session.scalars(db.select(Campaign).where(
        Campaign.is_test.is_(False), db.or_(Campaign.finished_at >= since,
                                            db.and_(Campaign.started_at >= since,
                                                    Campaign.send_at.is_not(None))))).all()
    due = []
    for campaign in recent:
        kinds = [campaign.status] if campaign.status in FINISHED and campaign.finished_at else []
        if campaign.send_at and campaign.started_at and campaign.started_at >= since:
            kinds.append("started")
        due += [(campaign.id, *key(campaign, kind)) for kind in kinds]
    due += db.session.execute(db.select(Approval.campaign_id, Approval.decision, Approval.id).where(
        Approval.decided_at >= since, Approval.decision.in_(("approved", "rejected")))).all()
    if not due:
        return []
    known = set(db.session.execute(db.select(Notice.campaign_id, Notice.kind, Notice.ref).where(
        Notice.campaign_id.in_({d[0] for d in due}))).all())
    return [tuple(d) for d in due if tuple(d) not in known and wants(db.session.get(Campaign, d[0]))]
