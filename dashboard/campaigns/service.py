"""Campaign actions, independent of requests and forms, so the JSON API can call them too.

Each checks that the action is allowed in the campaign's state (CampaignError says why not),
changes rows and writes the audit row. The caller commits, then queues delivery with
``jobs.deliver(campaign.id, eta=campaign.send_at)`` after send, test_send, resume and
resend_failed (the worker's sweep would find the campaign within 20 s anyway).
"""
from __future__ import annotations

import logging
from datetime import datetime
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from flask_login import current_user

from .. import wecom_app
from ..cards import service as card_service
from ..cards.spec import field_label
from ..extensions import db
from ..i18n import card_error_text
from ..models import Audience, Campaign, CardVersion, Delivery, SendBatch, User, audit, utcnow
from ..wecom.errors import WeComError
from ..directory import service as directory_service
from ..directory import snapshot, sync
from . import delivery, plan, queries, signals
from .recipients import expand, normalize

log = logging.getLogger(__name__)

MAX_TEST_RECIPIENTS = 50
FIELDS = ("name", "notes", "card_version", "recipients", "options", "timezone", "send_at", "privacy")

PRIVACY = ("named", "aggregate")  # chosen before sending: reports show names, or counts only
# Why an action is refused in the campaign's state; %(label)s is the state in words.
REFUSED = {
    "edit": _l("Cannot edit: the campaign is %(label)s."),
    "send": _l("Cannot send: the campaign is %(label)s."),
    "decide": _l("Cannot decide: the campaign is %(label)s."),
    "pause": _l("Cannot pause: the campaign is %(label)s."),
    "resume": _l("Cannot resume: the campaign is %(label)s."),
    "cancel": _l("Cannot cancel: the campaign is %(label)s."),
    "resend": _l("Cannot resend: the campaign is %(label)s."),
}


class CampaignError(ValueError):
    """The action is not allowed now; the message says why, in words for the person."""


def _user(actor) -> User | None:
    if isinstance(actor, User):
        return actor
    return current_user if actor is None and current_user and current_user.is_authenticated else None


def _name(actor) -> str:
    user = _user(actor)
    return user.username if user else str(actor or "system")


def _require(campaign: Campaign, *statuses: str, action: str) -> None:
    if campaign.status not in statuses:
        raise CampaignError(str(REFUSED[action]) % {"label": queries.label(campaign.status)})


def default_options() -> dict:
    """Duplicate check on by default: it is what makes retrying an unanswered call safe."""
    return {"enable_duplicate_check": True, "duplicate_check_interval": 1800,
            "enable_id_trans": False}


def create_campaign(*, name: str, card_version: CardVersion, notes: str = "",
                    recipients: dict | None = None, options: dict | None = None,
                    timezone: str | None = None, send_at: datetime | None = None,
                    privacy: str = "named", actor=None) -> Campaign:
    timezone = timezone or current_app.config["TIMEZONE"]
    ZoneInfo(timezone)  # raises for an unknown zone
    if privacy not in PRIVACY:
        raise ValueError(f"privacy must be one of {PRIVACY}")
    campaign = Campaign(name=name, notes=notes, card_version=card_version, timezone=timezone,
                        recipients=normalize(recipients), send_at=send_at, created_by=_user(actor),
                        privacy=privacy,
                        options={**default_options(), **(options or {})})
    db.session.add(campaign)
    db.session.flush()
    audit("campaign_created", campaign, actor=actor, name=name)
    log.info("campaign %s created by %s", campaign.id, _name(actor))
    return campaign


def update_campaign(campaign: Campaign, *, actor=None, **changes) -> None:
    """Change a draft's fields (any of FIELDS); recipients are normalized, options merged. A
    campaign awaiting approval that changes goes back to the start of approval: the approval it
    waited for is withdrawn and it is sent again, to be approved as it is now (it stays a draft,
    saying why, when the send is refused)."""
    _require(campaign, "draft", "awaiting_approval", action="edit")
    if unknown := set(changes) - set(FIELDS):
        raise TypeError(f"not campaign fields: {sorted(unknown)}")
    if "recipients" in changes:
        changes["recipients"] = normalize(changes["recipients"])
    if "options" in changes:
        changes["options"] = {**(campaign.options or default_options()), **changes["options"]}
    changed = sorted(k for k, v in changes.items() if getattr(campaign, k) != v)
    if not changed:
        return
    awaiting = campaign.status == "awaiting_approval"
    if awaiting:
        back_to_draft(campaign, delivery.WITHDRAWN_EDITED, actor=actor)
    for key in changed:
        setattr(campaign, key, changes[key])
    audit("campaign_edited", campaign, actor=actor, fields=changed)
    log.info("campaign %s edited by %s: %s", campaign.id, _name(actor), ", ".join(changed))
    if awaiting:
        try:
            send(campaign, actor=actor)
        except CampaignError as exc:
            campaign.status_reason = str(exc)


def send(campaign: Campaign, *, actor=None) -> None:
    """Plan every batch now; start now, or at send_at (then the campaign is 'scheduled')."""
    _require(campaign, "draft", action="send")
    _first_need(campaign.recipients, actor)
    result = queries.check(campaign)
    if result.blockers:
        raise CampaignError(result.blockers[0])
    if changes := queries.changed_since_check(campaign, result):
        raise CampaignError(" ".join([_("The directory changed since you checked:"), *changes,
                                      _("Check the recipients again, then send.")]))
    plan.add_batches(campaign, result.userids, everyone=result.everyone)
    campaign.status_reason = ""  # a rejection's or a withdrawal's, from before
    when = campaign.send_at.isoformat() if campaign.send_at else "now"
    if approval_needed(len(result.userids), result.everyone):
        campaign.status = "awaiting_approval"
        audit("approval_requested", campaign, actor=actor, recipients=len(result.userids), when=when)
        log.info("campaign %s by %s awaits approval: %d people (%s)", campaign.id, _name(actor),
                 len(result.userids), when)
        signals.approval_requested.send(campaign, recipients=len(result.userids),
                                        everyone=result.everyone, actor=_user(actor))
        return
    _go(campaign)
    audit("campaign_sent", campaign, actor=actor, recipients=len(result.userids),
          calls=result.calls, when=when)
    log.info("campaign %s sent by %s to %d people (%s)", campaign.id, _name(actor),
             len(result.userids), when)


def _go(campaign: Campaign) -> None:
    if campaign.send_at:
        campaign.status = "scheduled"
    else:
        campaign.status, campaign.started_at = "sending", utcnow()


def approval_needed(recipients: int, everyone: bool) -> bool:
    """A send to more than APPROVAL_ABOVE people, or to @all, waits for a second person's yes
    (approvals are off while APPROVAL_ABOVE is 0)."""
    above = current_app.config["APPROVAL_ABOVE"]
    return bool(above) and (everyone or recipients > above)


def release(campaign: Campaign, *, recipients: int, actor=None) -> None:
    """An approved campaign goes: now, or at its send time. The caller commits, then queues
    delivery (jobs.deliver with eta=send_at). :raises CampaignError: it no longer awaits approval."""
    _require(campaign, "awaiting_approval", action="decide")
    _go(campaign)
    audit("campaign_sent", campaign, actor=actor, recipients=recipients,
          when=campaign.send_at.isoformat() if campaign.send_at else "now", approved=True)
    log.info("campaign %s approved by %s: %s", campaign.id, _name(actor), campaign.status)


def back_to_draft(campaign: Campaign, reason: str, *, actor=None) -> None:
    """A campaign awaiting approval becomes a draft again, ``reason`` (stored in English or as the
    approver wrote it) on its page; its planned batches are dropped. The approval it waited for is
    withdrawn unless the caller decided it (approvals rejects through this too)."""
    _require(campaign, "awaiting_approval", action="decide")
    _drop_plan(campaign)
    campaign.status, campaign.status_reason = "draft", reason
    signals.approval_withdrawn.send(campaign, reason=reason, actor=_user(actor))


def test_send(campaign: Campaign, recipients: dict, *, actor=None) -> Campaign:
    """Send the campaign's card to a few people first; the test is marked and kept apart."""
    if campaign.is_test:
        raise CampaignError(_("A test send cannot itself be tested."))
    if problems := card_service.card_problems(campaign.card_version):
        raise CampaignError(_("Card: %(path)s: %(message)s",
                              path=field_label(problems[0].path) or _("card"),
                              message=card_error_text(problems[0])))
    _first_need(recipients, actor)
    userids = expand(recipients, snapshot.load())
    if not userids or len(userids) > MAX_TEST_RECIPIENTS:
        raise CampaignError(_("A test goes to 1 to %(max)s people, not %(n)s.",
                              max=MAX_TEST_RECIPIENTS, n=len(userids)))
    test = Campaign(name=f"Test: {campaign.name}"[:120], card_version=campaign.card_version,
                    recipients=normalize(recipients), options=campaign.options, is_test=True,
                    timezone=campaign.timezone, parent_id=campaign.id, created_by=_user(actor),
                    status="sending", started_at=utcnow())
    db.session.add(test)
    db.session.flush()
    plan.add_batches(test, userids)
    audit("campaign_test_sent", campaign, actor=actor, test_campaign=test.id, recipients=userids)
    log.info("campaign %s test-sent by %s to %s", campaign.id, _name(actor), ", ".join(userids))
    return test


def pause(campaign: Campaign, *, actor=None) -> None:
    """The batch in flight finishes; no further batch starts until resume."""
    _require(campaign, "sending", action="pause")
    campaign.status = "paused"
    audit("campaign_paused", campaign, actor=actor)
    log.info("campaign %s paused by %s", campaign.id, _name(actor))


def resume(campaign: Campaign, *, actor=None) -> None:
    _require(campaign, "paused", action="resume")
    campaign.status = "sending"
    audit("campaign_resumed", campaign, actor=actor)
    log.info("campaign %s resumed by %s", campaign.id, _name(actor))


def cancel(campaign: Campaign, *, actor=None) -> None:
    """Batches not yet sent are cancelled; what WeCom already accepted stays delivered."""
    _require(campaign, "awaiting_approval", "scheduled", "sending", "paused", action="cancel")
    if campaign.status == "awaiting_approval":
        signals.approval_withdrawn.send(campaign, reason=delivery.WITHDRAWN_CANCELLED, actor=_user(actor))
    delivery.cancel_batches(campaign, delivery.CANCELLED_BY % {"name": _name(actor)})
    campaign.status, campaign.finished_at = "cancelled", utcnow()
    campaign.status_reason = delivery.CANCELLED_REASON % {"name": _name(actor)}  # stored in English
    audit("campaign_cancelled", campaign, actor=actor)
    log.info("campaign %s cancelled by %s", campaign.id, _name(actor))


def recall(campaign: Campaign, *, actor=None) -> tuple[int, int]:
    """Recall every accepted batch still within 24 hours; returns (recalled, failed)."""
    allowed, reason = queries.recall_state(campaign)
    if not allowed:
        raise CampaignError(reason)
    client, now, recalled, failed = wecom_app.client(), utcnow(), 0, 0
    for batch in campaign.batches:
        if not batch.msgid or batch.recalled_at:
            continue
        try:
            client.recall(batch.msgid)
        except WeComError as exc:
            batch.recall_error, failed = getattr(exc, "explanation", str(exc)), failed + 1
        else:
            batch.recalled_at, batch.recall_error, recalled = now, None, recalled + 1
    audit("campaign_recalled", campaign, actor=actor, recalled=recalled, failed=failed)
    log.info("campaign %s recalled by %s: %d batches, %d failed", campaign.id, _name(actor),
             recalled, failed)
    return recalled, failed


def resend_failed(campaign: Campaign, *, actor=None) -> int:
    """New batches for the recipients whose failure another try may fix; returns how many."""
    _require(campaign, "sent", "partially_sent", "failed", action="resend")
    if campaign.purged_at:
        raise CampaignError(_("Cannot resend: its recipients were replaced by pseudonyms (retention)."))
    userids = queries.retryable_failures(campaign)
    if not userids:
        raise CampaignError(_("No recipient has a failure that resending could fix."))
    plan.add_batches(campaign, userids)
    campaign.status, campaign.finished_at, campaign.status_reason = "sending", None, ""
    audit("campaign_resent", campaign, actor=actor, recipients=len(userids))
    log.info("campaign %s: %d failed recipients resent by %s", campaign.id, len(userids),
             _name(actor))
    return len(userids)


def _drop_plan(campaign: Campaign) -> None:
    """Forget the batches and ledger rows planned for a send that never started."""
    db.session.execute(db.delete(Delivery).filter_by(campaign_id=campaign.id))
    db.session.execute(db.delete(SendBatch).filter_by(campaign_id=campaign.id)
                       .execution_options(synchronize_session=False))
    db.session.expire(campaign, ["batches"])


def refresh_directory(*, actor=None) -> sync.ReadResult:
    """Read the whole directory now (commits). :raises WeComError: the copy is kept."""
    try:
        return sync.run(actor=_name(actor))
    except sync.ReadBusy:
        raise CampaignError(_("The directory is being read already; it is ready in a moment.")) from None


def check(campaign: Campaign, *, actor=None) -> queries.Check:
    """The check before sending (queries.check), the directory read first if it never was; a
    draft keeps what it showed (record_check), as the check page does."""
    _first_need(campaign.recipients, actor)
    result = queries.check(campaign)
    if campaign.status == "draft":
        record_check(campaign, result.userids)
    return result


def _first_need(recipients: dict, actor) -> None:
    """A selection with departments, tags or @all needs the directory: read it if it never was,
    and wait (never refuse). :raises WeComError: the read failed."""
    if queries.needs_directory(recipients):
        try:
            directory_service.ensure(actor=_name(actor))
        except directory_service.DirectoryUnavailable as exc:
            raise CampaignError(str(exc)) from None


def record_check(campaign: Campaign, userids: list[str]) -> None:
    """Keep what the check page showed: the send goes to exactly these people (or says what changed)."""
    campaign.checked_version, campaign.checked_userids = snapshot.version(), list(userids)


def save_audience(name: str, recipients: dict, *, actor=None) -> Audience:
    """Save a selection under a name; an audience of that name is replaced."""
    audience = db.session.scalar(db.select(Audience).filter_by(name=name))
    if audience is None:
        audience = Audience(name=name, created_by=_user(actor))
        db.session.add(audience)
    audience.recipients = normalize(recipients)
    db.session.flush()
    audit("audience_saved", audience, actor=actor, name=name)
    return audience


def delete_audience(audience: Audience, *, actor=None) -> None:
    audit("audience_deleted", audience, actor=actor, name=audience.name)
    db.session.delete(audience)
