"""The callback's background jobs: folding new events into the report summaries every sweep (so
a report has only the last few seconds' events to count when it is opened), closing a poll,
which updates every recipient's card, and changing a clicker's card after the click."""
from __future__ import annotations

import logging
from datetime import timedelta
from types import SimpleNamespace

from flask import current_app

from .. import tasks, wecom_app
from ..extensions import db
from ..models import Campaign, CardEvent, CardVersion, ResponseCode, utcnow
from ..models.event import MENU, REPLY
from ..wecom.errors import ApiError, RetryableError
from . import after_click as settings
from . import codes, polls, rollup
from .service import record_response_code

log = logging.getLogger(__name__)

CATCH_UP = "dashboard.callback.jobs.catch_up"
RETRY_BASE = 2.0  # seconds before the second try of an after-click update; doubles from here
RETRY_MAX = 1800.0  # seconds: the longest wait between two tries
MAX_TRIES = 20  # about five hours of tries, well within the code's life
SWEEP = "dashboard.callback.jobs.after_click_sweep"
SWEEP_AFTER = timedelta(seconds=120)  # the click's own job had this long to claim its code
SWEEP_WINDOW = timedelta(hours=1)  # clicks older than this are left alone
SWEEP_LIMIT = 500  # updates queued per sweep at most


def init_app(app) -> None:
    tasks.job(app, CATCH_UP, rollup.catch_up, periodic=True)
    tasks.job(app, polls.CLOSE_POLL, polls.run_close_poll)
    tasks.job(app, settings.JOB, after_click)
    tasks.job(app, SWEEP, after_click_sweep, periodic=True)


def after_click(event_id: int, attempt: int = 1) -> None:
    """Change the clicker's card with the event's own response code (AFTER_CLICK_VIA=api).

    The code is claimed (committed) before WeCom is called, so a retried job, a duplicate callback
    or close_poll never spend it twice; try N+1 runs only if it takes the code back from try N's
    recorded failure. A failure is recorded on the code (``used_for``) and retried with backoff
    while the code is valid, unless WeCom says the code is used or invalid.
    """
    event = db.session.get(CardEvent, event_id)
    if event is None or not event.response_code or event.event not in (REPLY, MENU):
        return
    campaign = db.session.get(Campaign, event.campaign_id) if event.campaign_id else None
    if campaign is None:
        return
    click = SimpleNamespace(kind=event.event, from_user=event.from_user, selected=event.selected or {},
                            event_key=event.event_key)
    version = campaign.card_version
    request = settings.update_request(click, version.after_click, version.template_card)
    if request is None:
        return
    code = _ledger_row(event)
    if code.expires_at <= utcnow() or not _take(code, attempt):
        return
    try:
        wecom_app.client().update_template_card(code.code, **request)
    except ApiError as exc:
        _failed(code, event_id, attempt, f"errcode {exc.errcode}", retry=exc.errcode not in settings.DEAD_CODE)
    except RetryableError as exc:
        why = "no answer" if exc.request_sent else f"errcode {exc.errcode}"
        _failed(code, event_id, attempt, why, retry=True, wait=exc.retry_after)
    else:
        log.info("after-click update of campaign %s for %s sent (try %d)", event.campaign_id,
                 event.from_user, attempt)


def after_click_sweep() -> int:
    """Queue the update of clicks whose job never ran: the queue was down when the click came
    (the callback stored it and answered, and could not queue). A click of the last hour, older
    than SWEEP_AFTER, whose code nobody claimed, on a card whose settings change it, gets its job
    again; the claim keeps a job that did run (or runs twice) from spending the code twice.
    Returns how many were queued."""
    if current_app.config["AFTER_CLICK_VIA"] != "api":
        return 0
    now = utcnow()
    recent = CardEvent.received_at.between(now - SWEEP_WINDOW, now - SWEEP_AFTER)
    versions = db.session.execute(
        db.select(CardVersion.id, CardVersion.after_click, CardVersion.template_card)
        .where(CardVersion.id.in_(db.select(Campaign.card_version_id).join(
            CardEvent, CardEvent.campaign_id == Campaign.id).where(recent)))).all()
    answering = {v.id: v for v in versions if v.after_click}
    if not answering:
        return 0
    clicks = db.session.execute(
        db.select(CardEvent.id, CardEvent.event, CardEvent.event_key, Campaign.card_version_id)
        .join(Campaign, Campaign.id == CardEvent.campaign_id)
        .outerjoin(ResponseCode, ResponseCode.code == CardEvent.response_code)
        .where(recent, CardEvent.event.in_((REPLY, MENU)), CardEvent.response_code.is_not(None),
               ResponseCode.used_at.is_(None), Campaign.card_version_id.in_(list(answering)))
        .order_by(CardEvent.id).limit(SWEEP_LIMIT)).all()
    queued = 0
    for click in clicks:
        version = answering[click.card_version_id]
        if settings.changes_card(SimpleNamespace(kind=click.event, event_key=click.event_key),
                                 version.after_click, version.template_card):
            tasks.enqueue(settings.JOB, click.id)
            queued += 1
    if queued:
        log.warning("after-click updates of %d click(s) queued again: their own jobs never ran", queued)
    return queued


def _ledger_row(event: CardEvent) -> ResponseCode:
    """The event's code in the ledger; added here if the roll-up has not counted the event yet."""
    record_response_code(event.response_code, campaign_id=event.campaign_id, batch_id=event.batch_id,
                         userid=event.from_user, source="callback", received_at=event.received_at)
    db.session.commit()
    return db.session.scalars(db.select(ResponseCode).filter_by(code=event.response_code)).one()


def _take(code: ResponseCode, attempt: int) -> bool:
    """The first try claims the unused code; a later one takes it back from the try before."""
    if attempt == 1:
        return codes.claim(code, settings.USED_FOR)
    return codes.reclaim(code, f"{settings.FAILED} {attempt - 1}:", settings.USED_FOR)


def _failed(code: ResponseCode, event_id: int, attempt: int, why: str, *, retry: bool,
            wait: float = 0.0) -> None:
    """Record the failure on the code; queue the next try if one may still succeed in time."""
    delay = max(wait, min(RETRY_BASE * 2 ** (attempt - 1), RETRY_MAX))
    retry = retry and attempt < MAX_TRIES and (code.expires_at - utcnow()).total_seconds() > delay
    code.used_for = (f"{settings.FAILED} {attempt}: " if retry else f"{settings.FAILED}: ") + why
    db.session.commit()
    log.warning("after-click update for %s (code %s) failed on try %d: %s%s", code.userid, code.id,
                attempt, why, f"; retrying in {delay:g} s" if retry else "")
    if retry:
        tasks.enqueue(settings.JOB, event_id, attempt + 1, delay=delay)
