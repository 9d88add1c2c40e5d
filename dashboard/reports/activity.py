"""The home dashboard's reads (this week, recent activity, what needs attention) and the audit log.

Test sends are left out everywhere; staff see their own campaigns, managers and admins all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import Integer, cast, func, select

from ..callback import rollup
from ..extensions import db
from ..models import AuditLog, Campaign, CardEvent, ResponseCode, SendBatch, utcnow
from . import queries
from .labels import card_labels

FEED = 20
EXPIRY_WARNING = timedelta(hours=6)
RECENT = timedelta(days=14)
SEND_ACTIONS = ("campaign_sent", "campaign_started", "campaign_reminded")
SELF_TEST = "selftest-"  # callback.service.SELF_TEST_PREFIX


def week_start(now: datetime, zone: str) -> datetime:
    """Monday 00:00 of this week in the dashboard's time zone."""
    local = now.astimezone(ZoneInfo(zone))
    return (local - timedelta(days=local.weekday())).replace(hour=0, minute=0, second=0, microsecond=0)


def this_week(user, zone: str, now: datetime | None = None) -> dict:
    """Campaigns started this week with their ledger and responders, and the week's totals."""
    rollup.catch_up()
    since = week_start(now or utcnow(), zone)
    campaigns = db.session.scalars(
        select(Campaign).where(queries.reportable(), queries.visible_to(user),
                               func.coalesce(Campaign.started_at, Campaign.send_at) >= since)
        .order_by(Campaign.started_at.desc())).all()
    ids = [c.id for c in campaigns]
    counts = queries.ledger_counts(ids)
    answered = queries.responder_counts(ids)
    rows = [{"campaign": c, "recipients": sum(counts[c.id].values()),
             "accepted": counts[c.id].get("accepted", 0), "responders": answered.get(c.id, 0)}
            for c in campaigns]
    accepted = sum(row["accepted"] for row in rows)
    responders = sum(row["responders"] for row in rows)
    return {"since": since, "rows": rows, "campaigns": len(rows), "sent": accepted,
            "responders": responders, "rate": responders / accepted if accepted else None}


@dataclass
class Activity:
    at: datetime
    kind: str  # "send", "click", "vote", "menu"
    campaign: Campaign | None
    who: str
    text: str


def feed(user, limit: int = FEED) -> list[Activity]:
    """Recent sends (audit rows) and clicks, votes and menu choices (events), newest first."""
    sends = db.session.execute(
        select(AuditLog, Campaign).join(Campaign, Campaign.id == cast(AuditLog.object_id, Integer))
        .where(AuditLog.object_type == "campaign", AuditLog.action.in_(SEND_ACTIONS),
               Campaign.is_test.is_(False), queries.visible_to(user))
        .order_by(AuditLog.id.desc()).limit(limit)).all()
    items = [Activity(row.created_at, "send", campaign, row.actor_name, _send_text(row))
             for row, campaign in sends]
    events = db.session.execute(
        select(CardEvent, Campaign).join(Campaign, Campaign.id == CardEvent.campaign_id)
        .where(Campaign.is_test.is_(False), queries.visible_to(user),
               CardEvent.event.in_((queries.REPLY, queries.MENU)))
        .order_by(CardEvent.id.desc()).limit(limit)).all()
    labels = {}
    for event, campaign in events:
        if campaign.card_version_id not in labels:
            labels[campaign.card_version_id] = card_labels(campaign.card_version.template_card)
        items.append(_event_activity(event, campaign, labels[campaign.card_version_id]))
    return sorted(items, key=lambda item: item.at, reverse=True)[:limit]


def _send_text(row: AuditLog) -> str:
    details = row.details or {}
    if row.action == "campaign_reminded":
        return f"sent a reminder to {details.get('recipients', '?')} people who had not answered"
    if row.action == "campaign_started":
        return "started on schedule"
    when = details.get("when")
    return f"sent to {details.get('recipients', '?')} people" + (
        f", scheduled for {when}" if when and when != "now" else "")


def _event_activity(event: CardEvent, campaign: Campaign, labels) -> Activity:
    who = event.from_user if campaign.privacy != "aggregate" else "Someone"
    if event.event == queries.MENU:
        return Activity(event.received_at, "menu", campaign, who,
                        f"chose “{labels.menu.get(event.event_key, event.event_key)}”")
    answer = labels.answer(event.selected or {}) if campaign.privacy != "aggregate" else "an answer"
    if event.selected and event.event_key == labels.submit:
        return Activity(event.received_at, "vote", campaign, who, f"submitted {answer}")
    text = f"clicked “{labels.button(event.event_key or '')}”"
    named = event.selected and campaign.privacy != "aggregate"
    return Activity(event.received_at, "click", campaign, who, f"{text} ({answer})" if named else text)


def attention(user, now: datetime | None = None) -> dict:
    """Campaigns with failed or unknown batches, response codes about to expire, and card events
    that matched no campaign."""
    now = now or utcnow()
    mine = queries.visible_to(user) & Campaign.is_test.is_(False)
    failed = db.session.execute(
        select(Campaign, func.count()).join(SendBatch, SendBatch.campaign_id == Campaign.id)
        .where(mine, SendBatch.status.in_(("failed", "unknown")), Campaign.created_at >= now - RECENT)
        .group_by(Campaign.id).order_by(Campaign.id.desc())).all()
    expiring = db.session.execute(
        select(Campaign, func.count(), func.min(ResponseCode.expires_at))
        .join(ResponseCode, ResponseCode.campaign_id == Campaign.id)
        .where(mine, ResponseCode.used_at.is_(None), ResponseCode.expires_at > now,
               ResponseCode.expires_at <= now + EXPIRY_WARNING)
        .group_by(Campaign.id).order_by(func.min(ResponseCode.expires_at))).all()
    unmatched = select(CardEvent).where(  # the diagnostics self-test's events match on purpose
        CardEvent.campaign_id.is_(None), CardEvent.event.in_((queries.REPLY, queries.MENU)),
        CardEvent.received_at >= now - timedelta(days=7), ~CardEvent.task_id.startswith(SELF_TEST))
    count = db.session.scalar(select(func.count()).select_from(unmatched.subquery()))
    latest = db.session.scalars(unmatched.order_by(CardEvent.received_at.desc()).limit(5)).all()
    return {"failed": failed, "expiring": expiring, "unmatched": count, "unmatched_latest": latest}


# --- audit log ---------------------------------------------------------------------------------


def audit_actions() -> list[str]:
    return list(db.session.scalars(select(AuditLog.action).distinct().order_by(AuditLog.action)))


def audit_page(*, actor: str | None, action: str | None, since: datetime | None,
               until: datetime | None, page: int):
    query = select(AuditLog).order_by(AuditLog.id.desc())
    if actor:
        query = query.where(AuditLog.actor_name == actor)
    if action:
        query = query.where(AuditLog.action == action)
    if since:
        query = query.where(AuditLog.created_at >= since)
    if until:
        query = query.where(AuditLog.created_at < until)
    return db.paginate(query, page=page, per_page=50, error_out=False)
