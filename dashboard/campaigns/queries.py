"""Read-only views of campaigns: the check before sending, progress, recall availability."""
from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from flask import abort, current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_babel import ngettext

from ..callback import after_click
from ..callback.after_click import INTERACTIVE
from ..cards import service as card_service
from ..cards.spec import field_label
from ..extensions import db
from ..i18n import card_error_text
from ..models import (Approval, AuditLog, Campaign, Card, CardEvent, CardVersion, Delivery, ResponseCode,
                      SendBatch, utcnow)
from ..models.event import REPLY
from ..directory import snapshot
from . import delivery, limits, plan
from .recipients import expand, normalize, unknown_users

FINISHED = ("sent", "partially_sent", "failed", "cancelled")
FINISHED_BATCH = ("done", "failed", "unknown", "cancelled")
RETRYABLE_ERRCODES = (-1, 45009, 45033)  # busy, rate limited, and network failures (-1)
RECALL_WINDOW = timedelta(hours=24)
WECOM_DAY = ZoneInfo("Asia/Shanghai")  # the daily quota counts natural days in China time
# Campaign statuses, batch statuses and ledger states as people read them (the stored values stay).
LABELS = {
    "draft": _l("draft"), "awaiting_approval": _l("awaiting approval"), "scheduled": _l("scheduled"),
    "sending": _l("sending"), "paused": _l("paused"), "sent": _l("sent"), "partially_sent": _l("partially sent"),
    "failed": _l("failed"), "cancelled": _l("cancelled"), "pending": _l("pending"),
    "done": _l("done"), "unknown": _l("unknown"), "accepted": _l("accepted"),
    "invalid": _l("invalid"), "unlicensed": _l("unlicensed"),
}
# The audit actions of a campaign's history, as people read them.
HISTORY = {
    "campaign_created": _l("created"), "campaign_edited": _l("edited"), "campaign_sent": _l("sent"),
    "campaign_test_sent": _l("test sent"), "campaign_started": _l("started"),
    "campaign_paused": _l("paused"), "campaign_resumed": _l("resumed"),
    "campaign_cancelled": _l("cancelled"), "campaign_recalled": _l("recalled"),
    "campaign_resent": _l("resent"), "campaign_reminded": _l("reminded"),
    "campaign_purged": _l("purged"), "approval_requested": _l("sent for approval"),
    "campaign.poll_closed": _l("campaign.poll closed"),
    "campaign.poll_close_failed": _l("campaign.poll close failed"),
}
STALE_DIRECTORY = timedelta(hours=24)
MISSED = ("invalid", "unlicensed", "failed")  # ledger states of people the card did not reach
REFUSED = ("invalid", "unlicensed")  # ledger states of people WeCom would not deliver to
SLICE = 500  # user ids per IN (...) list


# --- who may read and change a campaign --------------------------------------------------------
# A campaign belongs to its creator; a reminder or a test send to the campaign it came from.
# Managers (and admins) read every campaign, staff those they own; only the owner (staff) and
# admins change one. The report pages, the campaign pages and the close-poll page all use these.


def owner_id(campaign: Campaign) -> int | None:
    parent = db.session.get(Campaign, campaign.parent_id) if campaign.parent_id else None
    return (parent or campaign).created_by_id


def can_read(user, campaign: Campaign) -> bool:
    return user.has_role("manager") or owner_id(campaign) == user.id


def can_change(user, campaign: Campaign) -> bool:
    return user.has_role() or (user.has_role("staff") and owner_id(campaign) == user.id)


def campaign_for(user, campaign_id: int, *, write: bool = False) -> Campaign:
    """The campaign, if ``user`` may read it (``write``: change it); 404 if there is none, 403
    if it is someone else's. A campaign nobody created (only scripts and test fixtures make
    one: the pages and the API always record the creator) is left to the route's role."""
    campaign = db.get_or_404(Campaign, campaign_id)
    if owner_id(campaign) is not None and not (can_change if write else can_read)(user, campaign):
        abort(403)
    return campaign


# --- cards -------------------------------------------------------------------------------------


def usable_card_versions() -> list[CardVersion]:
    """Versions of cards not archived that WeCom would accept, newest first."""
    versions = db.session.scalars(
        db.select(CardVersion).join(Card).where(Card.archived.is_(False))
        .order_by(Card.name, CardVersion.number.desc())).all()
    return [v for v in versions if card_service.usable_in_campaign(v)]


# --- check before send -----------------------------------------------------------------------


@dataclass(frozen=True)
class Notice:
    level: str  # "danger" blocks sending; "warning" and "info" inform
    text: str


@dataclass
class Check:
    userids: list[str]
    everyone: bool  # one "@all" call
    calls: int
    body: dict | None  # the first call's body, exactly as it will be posted
    notices: list[Notice] = field(default_factory=list)

    @property
    def preview(self) -> str:
        """The body for people: key order kept, Chinese shown as itself."""
        return json.dumps(self.body, ensure_ascii=False, indent=2) if self.body else ""

    @property
    def blockers(self) -> list[str]:
        return [n.text for n in self.notices if n.level == "danger"]


def check(campaign: Campaign, now: datetime | None = None) -> Check:
    """What sending this campaign would do, and every reason to think twice (GOV.UK Notify's
    check page): the final card, the people, the number of WeCom calls, warnings."""
    now = now or utcnow()
    spec, cache = normalize(campaign.recipients), snapshot.load()
    everyone = spec["all"] and not any(spec["exclude"].values())
    userids = expand(spec, cache)
    calls = plan.chunks(userids, everyone)
    notices = [Notice("danger", _("Card: %(path)s: %(message)s",
                                  path=field_label(p.path) or _("card"), message=card_error_text(p)))
               for p in card_service.card_problems(campaign.card_version)]
    if campaign.status not in ("draft", "awaiting_approval"):  # awaiting: the approval page shows it
        notices.append(Notice("danger", _("This campaign is %(label)s; only drafts can be sent.",
                                          label=label(campaign.status))))
    notices += _recipient_notices(spec, cache, userids, everyone, len(calls))
    notices += _time_notices(campaign, now)
    if userids:
        notices += _load_notices(campaign.id, userids, now)
    if not (campaign.options or {}).get("enable_duplicate_check", True):
        notices.append(Notice("info", _("Duplicate check is off: a batch whose outcome is unknown "
                                        "(no answer from WeCom) will not be retried automatically.")))
    body = plan.body(campaign, 1, calls[0][0]) if calls and card_service.usable_in_campaign(
        campaign.card_version) else None
    return Check(userids, everyone, len(calls), body, notices)


def recipients(campaign: Campaign) -> list[str]:
    """The people the campaign's selection reaches now, through the cached directory."""
    return expand(campaign.recipients, snapshot.load())


@dataclass(frozen=True)
class Refusal:
    userid: str
    state: str  # "invalid" or "unlicensed"
    detail: str | None  # the ledger's reason, stored in English (stored_text)
    at: datetime


def refused(userids: list[str]) -> list[Refusal]:
    """Those of these people whom WeCom refused (invalid, unlicensed) the last time the app
    messaged them, newest first: their latest refusal, unless a later send reached them. Read
    in slices of the selection, so the ledger's userid index serves every query."""
    latest: dict[str, tuple[int, Refusal]] = {}
    for part in _slices(userids):
        rows = db.session.execute(db.select(
            Delivery.id, Delivery.userid, Delivery.state, Delivery.detail,
            db.func.coalesce(Delivery.sent_at, Delivery.updated_at))
            .where(Delivery.userid.in_(part), Delivery.state.in_(REFUSED)))
        for row_id, userid, state, detail, at in rows:
            if row_id > latest.get(userid, (0, None))[0]:
                latest[userid] = row_id, Refusal(userid, state, detail, at)
    reached: dict[str, int] = {}
    for part in _slices(list(latest)):
        reached.update(db.session.execute(
            db.select(Delivery.userid, db.func.max(Delivery.id))
            .where(Delivery.userid.in_(part), Delivery.state == "accepted")
            .group_by(Delivery.userid)).all())
    return sorted((refusal for row_id, refusal in latest.values()
                   if reached.get(refusal.userid, 0) < row_id), key=lambda r: r.at, reverse=True)


def _slices(items: list) -> list[list]:
    return [items[start:start + SLICE] for start in range(0, len(items), SLICE)]


def needs_directory(recipients: dict) -> bool:
    """Departments, tags and @all are expanded through the directory; user ids alone are not."""
    spec = normalize(recipients)
    return bool(spec["all"] or spec["departments"] or spec["tags"] or spec["exclude"]["departments"]
                or spec["exclude"]["tags"])


def changed_since_check(campaign: Campaign, result: Check) -> list[str]:
    """What the directory changed in this campaign's recipients since its check page was shown
    ("3 people joined 销售部"); empty when nothing did or the campaign was never checked."""
    if campaign.checked_userids is None or campaign.checked_version == snapshot.version():
        return []
    before, now = set(campaign.checked_userids), set(result.userids)
    joined, left = now - before, before - now
    if not joined and not left:
        return []
    spec, tree = normalize(campaign.recipients), snapshot.load()
    names, tag_names = snapshot.department_names(), {t.id: t.name for t in snapshot.tags()}
    lines, placed = [], set()
    groups = [(names.get(d, str(d)), set(tree.members([d]))) for d in spec["departments"]]
    groups += [(tag_names.get(t, str(t)), set(tree.tags.get(t, ([], []))[0])
                | set(tree.members(tree.tags.get(t, ([], []))[1]))) for t in spec["tags"]]
    for name, members in groups:
        if count := len(joined & members - placed):
            lines.append(ngettext("%(num)s person joined %(group)s.", "%(num)s people joined %(group)s.",
                                  count, group=name))
            placed |= joined & members
    if count := len(joined - placed):
        lines.append(ngettext("%(num)s person more would receive it.", "%(num)s people more would receive it.",
                              count))
    if left:
        shown = ", ".join(sorted(left)[:5]) + (" …" if len(left) > 5 else "")
        lines.append(ngettext("%(num)s person would no longer receive it (left or moved): %(list)s.",
                              "%(num)s people would no longer receive it (left or moved): %(list)s.",
                              len(left), list=shown))
    return lines


def _recipient_notices(spec, cache, userids, everyone, calls) -> list[Notice]:
    notices = []
    refreshed = snapshot.refreshed_at()
    groups = spec["all"] or spec["departments"] or spec["tags"]
    if groups and refreshed is None:
        notices.append(Notice("danger", _("Departments, tags and @all are expanded through the "
                                          "directory, which has never been read. Refresh it first.")))
    elif groups and utcnow() - refreshed > STALE_DIRECTORY:
        notices.append(Notice("info", _("The directory was last read over a day ago; refresh it "
                                        "if people joined or left since.")))
    if not userids:
        notices.append(Notice("danger", _("Nobody would receive this campaign: choose recipients.")))
    if spec["all"] and everyone:
        notices.append(Notice("warning", _("Everyone in the app's visible range (@all): %(n)s people "
                                           "per the directory, sent in one @all call.",
                                           n=f"{len(userids):,}")))
    elif spec["all"]:
        notices.append(Notice("warning", _("Everyone in the app's visible range (@all): %(n)s people "
                                           "per the directory, sent by user id in %(count)s calls, "
                                           "because exclusions cannot be applied to @all.",
                                           n=f"{len(userids):,}", count=calls)))
    if unknown := unknown_users(spec, cache):
        shown = ", ".join(unknown[:10]) + (" …" if len(unknown) > 10 else "")
        notices.append(Notice("warning", _("%(n)s user id(s) are not in the directory: %(list)s. "
                                           "WeCom will report them invalid if they don't exist.",
                                           n=len(unknown), list=shown)))
    return notices


def _time_notices(campaign: Campaign, now: datetime) -> list[Notice]:
    if campaign.send_at is None:
        return []
    local = campaign.send_at.astimezone(ZoneInfo(campaign.timezone))
    if campaign.send_at <= now:
        return [Notice("danger", _("The scheduled time %(time)s (%(zone)s) has passed. Edit the "
                                   "campaign: choose a new time or “now”.",
                                   time=f"{local:%Y-%m-%d %H:%M}", zone=campaign.timezone))]
    if local.minute in (0, 30):
        return [Notice("warning", _("Scheduled at %(time)s: many apps send at :00 and :30, and WeCom "
                                    "delivery is congested then. A few minutes later is better.",
                                    time=f"{local:%H:%M}"))]
    return []


def _load_notices(campaign_id: int, userids: list[str], now: datetime) -> list[Notice]:
    # Their recent sends are read only when another campaign sent in the last hour (else none).
    recent = limits.recent_sends(userids, now) if limits.others_sending(campaign_id, now) else {}
    minute = sum(any(t > now - timedelta(minutes=1) for t in times) for times in recent.values())
    busy = sum(len(times) >= 10 for times in recent.values())
    at_limit = sum(limits.free_at(times, now) is not None for times in recent.values())
    notices = []
    if minute or busy:
        notices.append(Notice("warning", _(
            "The same people were messaged often: %(minute)s recipient(s) got a message from this "
            "app in the last minute, %(busy)s got 10 or more in the last hour. WeCom silently drops "
            "messages past 30 a minute or 1,000 an hour per member; batches that would pass those "
            "limits wait.", minute=minute, busy=busy)))
    if at_limit:
        notices.append(Notice("warning", _("%(n)s recipient(s) are at that limit now, so their batch "
                                           "will wait before it is sent.", n=at_limit)))
    return notices + _quota_notices(len(userids), now)


def _quota_notices(count: int, now: datetime) -> list[Notice]:
    seats = current_app.config["WECOM_SEATS"] or snapshot.user_count()
    if not seats:
        return []
    quota = int(seats) * 200
    midnight = now.astimezone(WECOM_DAY).replace(hour=0, minute=0, second=0, microsecond=0)
    used = db.session.scalar(db.select(db.func.count()).select_from(Delivery).where(
        Delivery.sent_at >= midnight, Delivery.state.not_in(limits.NOT_DELIVERED)))
    figures = {"used": f"{used:,}", "quota": f"{quota:,}", "limit": f"{int(seats):,}",
               "count": f"{count:,}"}
    level = "warning" if used + count > quota * 0.8 else "info"
    if used + count > quota:
        return [Notice(level, _("Daily quota: %(used)s of %(quota)s person-messages used today "
                                "(%(limit)s seats x 200); this campaign adds %(count)s. That is over "
                                "WeCom's daily limit for the app: part of it would not be delivered.",
                                **figures))]
    return [Notice(level, _("Daily quota: %(used)s of %(quota)s person-messages used today "
                            "(%(limit)s seats x 200); this campaign adds %(count)s.", **figures))]


# --- progress --------------------------------------------------------------------------------


def label(status: str) -> str:
    """A campaign status, batch status or ledger state in words, in the current language."""
    return str(LABELS[status]) if status in LABELS else status


def history_label(action: str) -> str:
    """An audit action of the campaign's history in words, in the current language."""
    return str(HISTORY[action]) if action in HISTORY else action.replace("campaign_", "").replace("_", " ")


def _stored_pattern(template: str) -> re.Pattern:
    parts = re.split(r"%\((\w+)\)s", template)
    return re.compile("".join(re.escape(part) if i % 2 == 0 else f"(?P<{part}>.+?)"
                              for i, part in enumerate(parts)), re.S)


STORED = [(text, _stored_pattern(text)) for text in (*delivery.STORED, *limits.STORED)]


def stored_text(text: str | None) -> str:
    """A text the worker stored in English (ledger detail, wait reason, status reason) in the
    current language; a text of no known form (WeCom's own explanations) as it is."""
    for template, pattern in STORED if text else ():
        if match := pattern.fullmatch(text):
            return _(template, **{k: stored_text(v) for k, v in match.groupdict().items()})
    return text or ""


def local_time(value: datetime, timezone: str, now: datetime | None = None) -> str:
    local = value.astimezone(ZoneInfo(timezone))
    same_day = local.date() == (now or utcnow()).astimezone(ZoneInfo(timezone)).date()
    return f"{local:%H:%M:%S}" if same_day else f"{local:%Y-%m-%d %H:%M}"


def progress(campaign: Campaign) -> dict:
    """Batches done and the ledger by state, plus a line saying what is happening now."""
    states = dict(db.session.execute(db.select(Delivery.state, db.func.count())
                                     .filter_by(campaign_id=campaign.id).group_by(Delivery.state)).all())
    batches = dict(db.session.execute(db.select(SendBatch.status, db.func.count())
                                      .filter_by(campaign_id=campaign.id)
                                      .group_by(SendBatch.status)).all())
    total, done = sum(batches.values()), sum(batches.get(s, 0) for s in FINISHED_BATCH)
    return {
        "status": campaign.status, "status_label": label(campaign.status),
        "finished": campaign.status in FINISHED,
        "batches_total": total, "batches_done": done,
        "percent": round(100 * done / total) if total else 0,
        "recipients": sum(states.values()),
        **{state: states.get(state, 0) for state in
           ("accepted", "invalid", "unlicensed", "failed", "pending", "cancelled")},
        "state": _state_line(campaign, batches, total, done),
    }


@dataclass(frozen=True)
class Summary:
    """What a manager asks first: how many it reached, answered, and who it missed and why."""

    recipients: int
    sent: int  # WeCom took the card for them
    answered: int | None  # people who answered; None: the card takes no answers
    failed: int  # refused by WeCom or not delivered
    reasons: list[tuple[str, str, int]]  # (ledger state, why in words, people), most first
    cancelled: int
    after_click_failures: list[AfterClickFailure] = field(default_factory=list)


@dataclass(frozen=True)
class AfterClickFailure:
    """A clicker whose card the after-click update did not change (yet): the code's last failure."""

    userid: str | None
    clicked_at: datetime  # when the code was claimed, seconds after the click
    why: str  # "errcode 60140", "no answer"
    retrying: bool  # another try is queued while the code is valid


def summary(campaign: Campaign) -> Summary:
    rows = db.session.execute(db.select(Delivery.state, Delivery.detail, db.func.count())
                              .filter_by(campaign_id=campaign.id)
                              .group_by(Delivery.state, Delivery.detail)).all()
    states, reasons = Counter(), Counter()
    for state, detail, count in rows:
        states[state] += count
        if state in MISSED:
            reasons[state, stored_text(detail) or label(state)] += count
    return Summary(recipients=sum(states.values()), sent=states["accepted"],
                   answered=_answered(campaign), failed=sum(states[s] for s in MISSED),
                   reasons=[(state, why, n) for (state, why), n in reasons.most_common()],
                   cancelled=states["cancelled"], after_click_failures=after_click_failures(campaign))


def after_click_failures(campaign: Campaign, now: datetime | None = None) -> list[AfterClickFailure]:
    """The campaign's after-click updates whose last try failed (AFTER_CLICK_VIA=api), newest first."""
    now = now or utcnow()
    rows = db.session.execute(
        db.select(ResponseCode.userid, ResponseCode.used_at, ResponseCode.used_for, ResponseCode.expires_at)
        .where(ResponseCode.campaign_id == campaign.id,
               ResponseCode.used_for.startswith(after_click.FAILED, autoescape=True))
        .order_by(ResponseCode.used_at.desc(), ResponseCode.id.desc()))
    failures = []
    for userid, used_at, used_for, expires_at in rows:
        why, retrying = after_click.failure(used_for)
        failures.append(AfterClickFailure(userid, used_at, why, retrying and expires_at > now))
    return failures


def _answered(campaign: Campaign) -> int | None:
    if campaign.card_version.template_card.get("card_type") not in INTERACTIVE:
        return None
    return db.session.scalar(db.select(db.func.count(db.distinct(CardEvent.from_user))).where(
        CardEvent.campaign_id == campaign.id, CardEvent.event == REPLY))


def _state_line(campaign: Campaign, batches: dict, total: int, done: int) -> str:
    tz = campaign.timezone
    if campaign.status == "draft":
        return stored_text(campaign.status_reason) or _("Draft: not sent yet.")
    if campaign.status == "awaiting_approval":
        return _("Awaiting approval: nothing is sent until an approver approves it.")
    if campaign.status == "scheduled":
        return _("Scheduled for %(time)s (%(zone)s).", time=local_time(campaign.send_at, tz), zone=tz)
    if campaign.status == "paused":
        return _("Paused after %(done)s of %(total)s batches. Resume to go on.", done=done, total=total)
    if campaign.status != "sending":
        return stored_text(campaign.status_reason) or _(
            "%(label)s: %(done)s of %(total)s batches.", label=label(campaign.status).capitalize(),
            done=done, total=total)
    upcoming = db.session.execute(
        db.select(SendBatch.not_before, SendBatch.wait_reason)
        .filter_by(campaign_id=campaign.id, status="pending")
        .order_by(SendBatch.not_before.is_not(None), SendBatch.not_before).limit(1)).first()
    if batches.get("sending") or not upcoming or not upcoming.not_before or (
            upcoming.not_before <= utcnow()):
        return _("Sending: %(done)s of %(total)s batches done.", done=done, total=total)
    return _("Waiting: %(reason)s, resumes %(time)s (%(zone)s).", reason=stored_text(upcoming.wait_reason),
             time=local_time(upcoming.not_before, tz), zone=tz)


# --- recall and resend -----------------------------------------------------------------------


def recall_state(campaign: Campaign, now: datetime | None = None) -> tuple[bool, str]:
    """Whether the campaign can be recalled now, and the reason (shown beside the button)."""
    now = now or utcnow()
    sent = [b for b in campaign.batches if b.msgid]
    if not sent:
        return False, _("Nothing to recall: WeCom accepted no batch of this campaign.")
    if campaign.status not in FINISHED:
        return False, _("Recall is possible once sending has stopped: pause or cancel first.")
    open_ = [b for b in sent if not b.recalled_at]
    if not open_:
        return False, _("Already recalled.")
    newest = max(b.sent_at for b in open_)
    deadline = newest + RECALL_WINDOW
    if now >= deadline:
        return False, _("WeCom only recalls messages within 24 hours of sending; the last batch "
                        "went out %(time)s (%(zone)s).", time=local_time(newest, campaign.timezone, now),
                        zone=campaign.timezone)
    return True, _("Removes the card from recipients' WeCom clients (not the WeChat plug-in). "
                   "Possible until %(time)s (%(zone)s).", time=local_time(deadline, campaign.timezone, now),
                   zone=campaign.timezone)


def retryable_failures(campaign: Campaign) -> list[str]:
    """Recipients whose ledger entry failed for a reason another try may fix."""
    batches = db.select(SendBatch.id).filter_by(campaign_id=campaign.id).where(db.or_(
        SendBatch.status == "unknown",
        db.and_(SendBatch.status == "failed", SendBatch.errcode.in_(RETRYABLE_ERRCODES))))
    return list(db.session.scalars(db.select(Delivery.userid).filter_by(
        campaign_id=campaign.id, state="failed").where(Delivery.batch_id.in_(batches))
        .order_by(Delivery.id)))


def campaign_page(page: int):
    """Campaigns for the list, newest first, without test sends."""
    return db.paginate(db.select(Campaign).filter_by(is_test=False)
                       .order_by(Campaign.created_at.desc()), page=page, per_page=25)


def ledger_page(campaign: Campaign, state: str | None, page: int):
    query = db.select(Delivery).filter_by(campaign_id=campaign.id).order_by(Delivery.userid)
    if state:
        query = query.filter_by(state=state)
    return db.paginate(query, page=page, per_page=50, error_out=False)


def batch_sizes(campaign: Campaign) -> dict[int, int]:
    """People per batch (its ledger rows), for the batches table."""
    return dict(db.session.execute(db.select(Delivery.batch_id, db.func.count())
                                   .filter_by(campaign_id=campaign.id).group_by(Delivery.batch_id)).all())


def test_sends(campaign: Campaign) -> list[Campaign]:
    return db.session.scalars(db.select(Campaign).filter_by(parent_id=campaign.id, is_test=True)
                              .order_by(Campaign.created_at.desc())).all()


def approvals(campaign: Campaign) -> list[Approval]:
    """Who was asked to approve the campaign's sends, and what each decided, newest first."""
    return db.session.scalars(db.select(Approval).filter_by(campaign_id=campaign.id)
                              .order_by(Approval.id.desc())).all()


def history(campaign: Campaign) -> list[AuditLog]:
    """The campaign's audit trail, newest first."""
    return db.session.scalars(db.select(AuditLog).filter_by(
        object_type="campaign", object_id=str(campaign.id)).order_by(AuditLog.id.desc())).all()
