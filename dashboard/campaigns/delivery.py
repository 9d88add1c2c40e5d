"""Background delivery: workers claim a campaign's planned batches (plan.py) one at a time and
send them; any number of workers, on any number of machines, share one campaign (leases.py).

A batch is claimed ('sending', leased to the worker) and committed before its call, and its
outcome recorded after, so a worker that dies leaves a batch whose outcome is unknown. That batch
is repeated only with the identical stored body and WeCom's duplicate check on, within its
interval (WeCom then suppresses the copy); otherwise it is marked 'unknown' for a person to
decide. Every repeat is bounded. Functions here commit: they run in the worker, where each step
must be durable.
"""
from __future__ import annotations

import logging
import random
from collections.abc import Callable
from datetime import datetime, timedelta

from flask import current_app

from .. import wecom_app
from ..extensions import db
from ..models import Campaign, Delivery, ResponseCode, SendBatch, audit, utcnow
from ..wecom.client import SendResult
from ..wecom.errors import ApiError, RetryableError
from . import leases, limits, plan, signals
from .families import answered_among
from .limits import N_
from .plan import set_ledger

log = logging.getLogger(__name__)

WINDOW_MARGIN = timedelta(seconds=60)  # repeat a body only this well inside the dedupe interval
RESPONSE_CODE_LIFE = timedelta(hours=24)  # PROTOCOL 2.3: design for 24 h
ALL_INVALID = 81013  # every recipient invalid: an outcome of the batch, not a campaign failure


# Ledger details, batch wait reasons and campaign status reasons, stored in English.
UNKNOWN = N_("The request reached WeCom or may have, but no answer came, and it could not be "
             "repeated safely (%(why)s). Check with the recipients, or use “Resend to failed”.")
WHY_ATTEMPTS = N_("%(n)s attempts made")
WHY_STOPPED = N_("the worker stopped during the call and the duplicate check is off")
WHY_LATE = N_("the duplicate-check interval since the first attempt has passed")
WHY_NO_CHECK = N_("the duplicate check is off")
GAVE_UP = N_("%(explanation)s Gave up after %(n)s attempts.")
RETRY = N_("retry %(attempt)s of %(total)s: %(explanation)s")
ANSWERED = N_("Not sent: answered before the reminder went out.")
INVALID = N_("WeCom: unknown userid, or outside the app's range.")
UNLICENSED = N_("WeCom: the member has no interface licence.")
STOPPED = N_("Not sent: the campaign stopped at WeCom error %(errcode)s.")
CANCELLED = N_("Not sent: the campaign was cancelled.")
CANCELLED_BY = N_("Not sent: the campaign was cancelled by %(name)s.")
CANCELLED_REASON = N_("Cancelled by %(name)s.")
SOME_FAILED = N_("%(failed)s of %(total)s recipients failed: see the batches below, and “Resend to "
                 "failed” for those another try may fix.")
WITHDRAWN_EDITED = N_("Edited while awaiting approval: check it and send it again to ask for approval again.")
WITHDRAWN_CANCELLED = N_("Cancelled while awaiting approval.")
REJECTED = N_("Rejected by %(name)s: %(reason)s")
REJECTED_NO_REASON = N_("Rejected by %(name)s.")
STORED = (UNKNOWN, WHY_ATTEMPTS, WHY_STOPPED, WHY_LATE, WHY_NO_CHECK, GAVE_UP, RETRY, ANSWERED,
          INVALID, UNLICENSED, STOPPED, CANCELLED, CANCELLED_BY, CANCELLED_REASON, SOME_FAILED,
          WITHDRAWN_EDITED, WITHDRAWN_CANCELLED, REJECTED, REJECTED_NO_REASON)


# --- the worker loop -------------------------------------------------------------------------


def run(campaign_id: int, call_for_help: Callable[[], None] | None = None,
        stopping: Callable[[], bool] | None = None) -> datetime | None:
    """Start the campaign if due, then claim and send its due batches one by one; returns when
    to come back, or None. call_for_help queues another run (on whichever worker is free), called
    once while more batches are due than are in flight; once stopping() is true (the worker shuts
    down), no more batches are claimed and the rest is left to the next run."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    if campaign.status == "scheduled" and campaign.send_at <= utcnow():
        start(campaign)
    while not (stopping and stopping()) and (
            (batch := claim(campaign)) is not None or leases.free_orphans(campaign.id)):
        if batch is None:
            continue
        if call_for_help is not None and _more_due(campaign.id):
            _ask(call_for_help)
            call_for_help = None
        try:
            send(campaign, batch)
        except Exception:  # a bug or a lost database: let another run take the batch over
            db.session.rollback()
            leases.release(batch.id)
            raise
    return settle(campaign)


def _ask(call_for_help: Callable[[], None]) -> None:
    """Queue a helper run; with the queue down (a Redis blip) this run goes on alone, and the
    batch it claimed is sent all the same."""
    try:
        call_for_help()
    except Exception as exc:  # noqa: BLE001 - Redis down, a full disk: never strand the claim
        log.warning("no helper run queued (%s): this run goes on alone", exc)


def claim(campaign: Campaign) -> SendBatch | None:
    """The campaign's next due batch, leased to this worker (committed); None when none is due,
    the campaign is no longer sending, or CAMPAIGN_CONCURRENT_CALLS of its batches are in flight.
    Claims run one at a time across workers, so the per-member limits see every earlier claim."""
    limit = current_app.config["CAMPAIGN_CONCURRENT_CALLS"]
    while True:
        leases.lock_claims()
        now, batch = utcnow(), None
        db.session.refresh(campaign)  # its status now, and its options for prepare, in one read
        if campaign.status == "sending" and leases.in_flight(campaign.id, now) < limit:
            batch = _next_due(campaign.id, now)
        if batch is None:
            db.session.commit()
            return None
        if prepare(campaign, batch):
            return batch


def _more_due(campaign_id: int) -> bool:
    now = utcnow()
    return (leases.in_flight(campaign_id, now) < current_app.config["CAMPAIGN_CONCURRENT_CALLS"]
            and _next_due(campaign_id, now) is not None)


def start(campaign: Campaign) -> None:
    """A scheduled campaign's time has come (started once, however many workers notice)."""
    if leases.update(campaign.id, Campaign.status == "scheduled", status="sending",
                     started_at=utcnow()):
        audit("campaign_started", campaign, actor="system")
        db.session.commit()
        log.info("campaign %s started on schedule", campaign.id)
        signals.started.send(campaign)


def _next_due(campaign_id: int, now: datetime) -> SendBatch | None:
    return db.session.scalar(db.select(SendBatch).filter_by(campaign_id=campaign_id)
                             .where(leases.claimable(now)).order_by(SendBatch.number).limit(1))


def prepare(campaign: Campaign, batch: SendBatch) -> bool:
    """Drop a reminder's new responders, give up on an unknown outcome, make the batch wait, or
    claim it for a call (committed)."""
    now, claimed = utcnow(), False
    if not _leave_out_who_answered(campaign, batch):
        log.info("campaign %s batch %s: everyone in it answered meanwhile", campaign.id, batch.number)
    elif (why := _unsafe_to_repeat(campaign, batch, now)) is not None:
        _finish(batch, "unknown", "failed", UNKNOWN % {"why": why})
    elif batch.status == "pending" and (wait_for := _member_wait(batch, now)):
        batch.not_before, batch.wait_reason = wait_for.until, wait_for.reason
        log.info("campaign %s batch %s waits until %s: %s", campaign.id, batch.number,
                 wait_for.until, wait_for.reason)
    else:
        claimed = leases.claim(batch, now)
    db.session.commit()
    return claimed


def send(campaign: Campaign, batch: SendBatch) -> None:
    """Make the batch's call and record its outcome, unless another worker took the batch over
    meanwhile (its lease ran out): then the outcome is that worker's to record."""
    attempt = batch.attempts
    try:
        result = wecom_app.client().send(batch.request)
    except (RetryableError, ApiError) as exc:
        result = exc
    if not leases.held(batch.id, attempt):
        log.warning("campaign %s batch %s was taken over during attempt %s", campaign.id,
                    batch.number, attempt)
        db.session.rollback()
        return
    outcome(campaign, batch, result)


def outcome(campaign: Campaign, batch: SendBatch, result: SendResult | Exception) -> None:
    """Record what the call for the batch came to: accepted, retry later, or a permanent error."""
    batch.lease_until = None  # written with the outcome, in one UPDATE of the batch
    if isinstance(result, RetryableError):
        _retry_later(campaign, batch, result)
    elif isinstance(result, ApiError) and result.errcode != ALL_INVALID:
        fail_campaign(campaign, batch, result)
    elif isinstance(result, ApiError):
        record(batch, SendResult.from_response(result.response))
    else:
        record(batch, result)
    failed = campaign.status == "failed"  # read before the commit expires it
    db.session.commit()
    if failed:
        signals.finished.send(campaign)


def _leave_out_who_answered(campaign: Campaign, batch: SendBatch) -> bool:
    """A reminder's first attempt leaves out whoever answered since it was planned; False when
    nobody in the batch is left (the batch is then done, its ledger rows cancelled)."""
    if batch.attempts or not (campaign.options or {}).get("remind_of"):
        return True
    pending = db.session.scalars(db.select(Delivery.userid).filter_by(
        batch_id=batch.id, state="pending")).all()
    answered = answered_among(campaign, pending)
    if not answered:
        return True
    set_ledger(campaign.id, Delivery.batch_id == batch.id, Delivery.userid.in_(answered),
               state="cancelled", detail=ANSWERED)
    left = [userid for userid in pending if userid not in answered]
    if not left:
        batch.status, batch.finished_at = "cancelled", utcnow()
        return False
    batch.request = plan.body(campaign, batch.number, left)
    return True


def _unsafe_to_repeat(campaign: Campaign, batch: SendBatch, now: datetime) -> str | None:
    """Why this batch, already attempted, may not be sent again; None when it may (or is new)."""
    options = campaign.options or {}
    if batch.attempts >= _max_attempts():
        return WHY_ATTEMPTS % {"n": batch.attempts}
    if batch.status == "sending" and not options.get("enable_duplicate_check", True):
        return WHY_STOPPED
    interval = timedelta(seconds=options.get("duplicate_check_interval", 1800))
    if batch.attempts and options.get("enable_duplicate_check", True) and (
            now > batch.sent_at + interval - WINDOW_MARGIN):
        return WHY_LATE
    return None


def _member_wait(batch: SendBatch, now: datetime) -> limits.Wait | None:
    userids = db.select(Delivery.userid).where(Delivery.batch_id == batch.id)
    return limits.wait_for(userids, now, exclude_batch=batch.id, campaign_id=batch.campaign_id)


def _retry_later(campaign: Campaign, batch: SendBatch, exc: RetryableError) -> None:
    """Capped exponential backoff with jitter (retry_delay); WeCom's suggested delay is the floor."""
    batch.errcode, batch.errmsg = exc.errcode, exc.errmsg
    attempts = _max_attempts()
    if exc.request_sent and not (campaign.options or {}).get("enable_duplicate_check", True):
        _finish(batch, "unknown", "failed", UNKNOWN % {"why": WHY_NO_CHECK})
    elif batch.attempts >= attempts:
        _finish(batch, "failed", "failed", GAVE_UP % {"explanation": exc.explanation, "n": attempts})
    else:
        delay = retry_delay(batch.attempts, exc.retry_after)
        batch.status, batch.not_before = "pending", utcnow() + timedelta(seconds=delay)
        batch.wait_reason = RETRY % {"attempt": batch.attempts + 1, "total": attempts,
                                     "explanation": exc.explanation.rstrip(".")}
    log.warning("campaign %s batch %s attempt %s: %s", campaign.id, batch.number,
                batch.attempts, exc)


def retry_delay(attempts: int, suggested: float = 0) -> float:
    """Seconds to wait after ``attempts`` tries: CAMPAIGN_RETRY_BASE doubled per try up to
    CAMPAIGN_RETRY_MAX, never less than WeCom's suggested delay, times a jitter of 1 to 1.5 (so
    that batches which failed together do not all come back at once). With the defaults, ten
    tries ride out a WeCom outage of about six minutes."""
    config = current_app.config
    backoff = min(config["CAMPAIGN_RETRY_MAX"], config["CAMPAIGN_RETRY_BASE"] * 2 ** (attempts - 1))
    return max(suggested, backoff) * random.uniform(1, 1.5)


def _max_attempts() -> int:
    return current_app.config["CAMPAIGN_MAX_ATTEMPTS"]


def _finish(batch: SendBatch, status: str, state: str, detail: str) -> None:
    batch.status, batch.finished_at = status, utcnow()
    batch.not_before = batch.wait_reason = None
    _set_rows(batch, state=state, detail=detail,
              sent_at=batch.sent_at)  # attempted then (it counts toward the member limits)


def _set_rows(batch: SendBatch, *where, **values) -> None:
    """Update the batch's ledger rows still pending (those left out of it stay as they are), found
    by the batch alone: its index finds them whatever the planner knows of the ledger."""
    db.session.execute(db.update(Delivery).where(Delivery.batch_id == batch.id,
                                                 Delivery.state == "pending", *where).values(**values))


def record(batch: SendBatch, result: SendResult) -> None:
    """WeCom's answer: per batch the response and its lists, per person the outcome."""
    batch.status, batch.finished_at, batch.response = "done", utcnow(), result.raw
    batch.errcode, batch.errmsg = result.errcode, result.errmsg
    batch.msgid, batch.response_code = result.msgid or None, result.response_code
    batch.invalid_users, batch.unlicensed_users = result.invalid_users, result.unlicensed_users
    batch.invalid_parties, batch.invalid_tags = result.invalid_parties, result.invalid_tags
    for state, userids, detail in (
            ("invalid", result.invalid_users, INVALID),
            ("unlicensed", result.unlicensed_users, UNLICENSED)):
        if userids:  # WeCom lower-cases the ids it lists
            lowered = db.func.lower(Delivery.userid).in_([u.lower() for u in userids])
            _set_rows(batch, lowered, state=state, detail=detail, sent_at=batch.finished_at)
    _set_rows(batch, state="accepted", detail=None, sent_at=batch.finished_at)
    code = result.response_code
    if code and not db.session.scalar(db.select(ResponseCode.id).filter_by(code=code)):
        db.session.add(ResponseCode(code=code, campaign_id=batch.campaign_id, batch_id=batch.id,
                                    source="send", expires_at=utcnow() + RESPONSE_CODE_LIFE))


def describe(exc: ApiError, batch: SendBatch) -> str:
    """A permanent WeCom error in words, naming the card field for card errors."""
    field = f" Card field: {' or '.join(exc.fields)}." if exc.fields else ""
    return (f"WeCom refused batch {batch.number} with errcode {exc.errcode}: {exc.explanation}"
            f"{field} (WeCom said: {exc.errmsg})")


def fail_campaign(campaign: Campaign, batch: SendBatch, exc: ApiError) -> None:
    """A permanent error: retrying will not help, so the campaign stops and says why."""
    batch.errcode, batch.errmsg, batch.response = exc.errcode, exc.errmsg, exc.response or None
    _finish(batch, "failed", "failed", exc.explanation)
    cancel_batches(campaign, STOPPED % {"errcode": exc.errcode})
    campaign.status, campaign.finished_at = "failed", utcnow()
    campaign.status_reason = describe(exc, batch)
    log.error("campaign %s failed: %s", campaign.id, campaign.status_reason)


def cancel_batches(campaign: Campaign, detail: str) -> None:
    """Batches not yet sent are cancelled, and so are their ledger rows."""
    pending = db.select(SendBatch.id).filter_by(campaign_id=campaign.id, status="pending")
    set_ledger(campaign.id, Delivery.batch_id.in_(pending), state="cancelled", detail=detail)
    db.session.execute(db.update(SendBatch).filter_by(campaign_id=campaign.id, status="pending")
                       .values(status="cancelled", not_before=None, wait_reason=None)
                       .execution_options(synchronize_session=False))


def settle(campaign: Campaign) -> datetime | None:
    """After a run's loop: nothing while other workers still send (the last one settles), the
    next batch's time if some wait, or the campaign's final status (set once)."""
    db.session.refresh(campaign)
    if campaign.status == "cancelled":  # a batch that was in flight may have asked for a retry
        cancel_batches(campaign, CANCELLED)
        db.session.commit()
    if campaign.status != "sending" or leases.in_flight(campaign.id, utcnow()):
        return None
    open_batches = db.select(SendBatch.not_before).filter_by(campaign_id=campaign.id).where(
        SendBatch.status.in_(("pending", "sending")))
    if waiting := db.session.scalars(open_batches).all():
        return min((at for at in waiting if at), default=utcnow())
    states = dict(db.session.execute(db.select(Delivery.state, db.func.count())
                                     .filter_by(campaign_id=campaign.id).group_by(Delivery.state)).all())
    failed, total = states.get("failed", 0), sum(states.values())
    status = "sent" if not failed else "partially_sent" if failed < total else "failed"
    reason = SOME_FAILED % {"failed": f"{failed:,}", "total": f"{total:,}"} if failed \
        else campaign.status_reason
    # A batch added meanwhile (a reply rule's standing campaign grows) keeps the campaign sending.
    if leases.update(campaign.id, Campaign.status == "sending", ~open_batches.exists(), status=status,
                     finished_at=utcnow(), status_reason=reason):
        log.info("campaign %s finished: %s", campaign.id, status)
        signals.finished.send(campaign)
    elif db.session.execute(open_batches.limit(1)).first() is not None:
        db.session.refresh(campaign)
        return utcnow()
    db.session.refresh(campaign)
    return None


# --- the sweep -------------------------------------------------------------------------------


def due_campaigns() -> list[int]:
    """Start scheduled campaigns whose time has come, and find 'sending' campaigns with batches
    to claim or nothing left to send (after a restart, a stopped worker, a lost queue entry).
    Every worker's consumer runs this sweep: it only queues runs, which share out the work."""
    now = utcnow()
    for campaign in db.session.scalars(db.select(Campaign).filter_by(status="scheduled")
                                       .where(Campaign.send_at <= now)).all():
        start(campaign)
    leases.free_orphans()
    due = db.select(SendBatch.campaign_id).where(leases.claimable(now))
    unsettled = db.select(SendBatch.campaign_id).where(SendBatch.status.in_(("pending", "sending")))
    return list(db.session.scalars(db.select(Campaign.id).filter_by(status="sending").where(
        db.or_(Campaign.id.in_(due), Campaign.id.not_in(unsettled)))))
