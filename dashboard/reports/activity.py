"""The home dashboard's reads (this week, recent activity, what needs attention) and the audit log.

Test sends are left out everywhere; staff see their own campaigns, managers and admins all.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Integer, cast, func, select

from ..callback import rollup
from ..extensions import db
from ..i18n import format_time
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
    who: str  # the dashboard user of a send, else the member's userid (or "Someone")
    text: str

    @property
    def member(self) -> str | None:
        """The member's userid, for the page to show their name: events of named campaigns."""
        return self.who if self.kind != "send" and self.campaign.privacy != "aggregate" else None


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
    recipients = details.get("recipients", "?")
    if row.action == "campaign_reminded":
        return _("sent a reminder to %(n)s people who had not answered", n=recipients)
    if row.action == "campaign_started":
        return _("started on schedule")
    when = details.get("when")
    if when and when != "now":
        return _("sent to %(n)s people, scheduled for %(when)s", n=recipients, when=_shown(when))
    return _("sent to %(n)s people", n=recipients)


def _shown(when: str) -> str:
    """The ISO time an audit row keeps, as pages show times; as stored if it is not one."""
    try:
        return format_time(datetime.fromisoformat(when))
    except (TypeError, ValueError):
        return when


def _event_activity(event: CardEvent, campaign: Campaign, labels) -> Activity:
    who = event.from_user if campaign.privacy != "aggregate" else _("Someone")
    if event.event == queries.MENU:
        return Activity(event.received_at, "menu", campaign, who,
                        _("chose “%(item)s”", item=labels.menu.get(event.event_key, event.event_key)))
    answer = labels.answer(event.selected or {}) if campaign.privacy != "aggregate" else None
    if event.selected and event.event_key == labels.submit:
        return Activity(event.received_at, "vote", campaign, who,
                        _("submitted %(answer)s", answer=answer) if answer is not None
                        else _("submitted an answer"))
    button = labels.button(event.event_key or "")
    if event.selected and campaign.privacy != "aggregate":
        return Activity(event.received_at, "click", campaign, who,
                        _("clicked “%(button)s” (%(answer)s)", button=button, answer=answer))
    return Activity(event.received_at, "click", campaign, who, _("clicked “%(button)s”", button=button))


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
# The stored action names stay (filters and tools read them); the page shows what each one means.

ACTIONS = {
    "login": _l("Signed in"),
    "login_failed": _l("Sign-in failed"),
    "login_refused": _l("Sign-in refused after repeated failures"),
    "login.wecom": _l("Signed in with WeCom"),
    "login.wecom_failed": _l("Sign-in with WeCom failed"),
    "login.wecom_refused": _l("Sign-in with WeCom refused after repeated failures"),
    "logout": _l("Signed out"),
    "sessions_ended": _l("Signed out everywhere"),
    "password_change_failed": _l("Password change failed"),
    "password_change_refused": _l("Password change refused after repeated failures"),
    "role_grant_added": _l("WeCom sign-in grant added"),
    "role_grant_removed": _l("WeCom sign-in grant removed"),
    "user_wecom_userid_set": _l("WeCom userid set"),
    "image_uploaded": _l("Picture uploaded"),
    "user_created": _l("User created"),
    "user_changed": _l("User changed"),
    "api_token_created": _l("API token created"),
    "api_token_revoked": _l("API token revoked"),
    "card.created": _l("Card created"),
    "card.saved": _l("Card saved"),
    "card.cloned": _l("Card copied"),
    "card.archived": _l("Card archived"),
    "card.restored": _l("Card restored"),
    "card.deleted": _l("Card deleted"),
    "card.after_click": _l("After-click behaviour saved"),
    "campaign_created": _l("Campaign created"),
    "campaign_edited": _l("Campaign edited"),
    "campaign_test_sent": _l("Test send"),
    "campaign_sent": _l("Campaign sent"),
    "campaign_started": _l("Scheduled campaign started"),
    "campaign_paused": _l("Campaign paused"),
    "campaign_resumed": _l("Campaign resumed"),
    "campaign_cancelled": _l("Campaign cancelled"),
    "campaign_recalled": _l("Campaign recalled"),
    "campaign_resent": _l("Failed recipients sent again"),
    "campaign_reminded": _l("Reminder sent to non-responders"),
    "approval_requested": _l("Approval requested"),
    "approval_cards_sent": _l("Approval cards sent"),
    "approval_approved": _l("Approved a send"),
    "approval_rejected": _l("Rejected a send"),
    "approval_withdrawn": _l("Approval withdrawn"),
    "approval_reason": _l("Gave a rejection's reason"),
    "notice_sent": _l("Notice sent to the author"),
    "notice_failed": _l("Notice to the author failed"),
    "campaign.poll_closed": _l("Poll closed"),
    "campaign.poll_close_failed": _l("Closing the poll failed"),
    "campaign_purged": _l("Named answers removed (retention)"),
    "directory_refreshed": _l("Directory refreshed"),
    "directory_imported": _l("Directory names imported"),
    "reply_rule_saved": _l("Reply rule saved"),
    "reply_rule_deleted": _l("Reply rule deleted"),
    "conversation_replied": _l("Member answered by hand"),
    "conversation_messages_deleted": _l("Old inbox messages deleted (retention)"),
    "app_menu_saved": _l("App menu saved"),
    "app_menu_published": _l("App menu published"),
    "audience_saved": _l("Audience saved"),
    "audience_deleted": _l("Audience deleted"),
}
OBJECT_TYPES = {"campaign": _l("campaign"), "card": _l("card"), "user": _l("user"),
                "audience": _l("audience"), "apitoken": _l("apitoken"),
                "replyrule": _l("reply rule"), "conversationmessage": _l("message")}


def describe_action(action: str) -> str | None:
    """What an audit action means, in the page's language; None for an action not listed here."""
    text = ACTIONS.get(action)
    return str(text) if text is not None else None


def object_type(name: str | None) -> str:
    """An audited object's type in the page's language (English: the stored name itself)."""
    text = OBJECT_TYPES.get(name or "")
    return str(text) if text is not None else (name or "")


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
