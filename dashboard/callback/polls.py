"""Closing a poll: every recipient's card becomes read-only and shows the result.

One unused response_code per sent task (SendBatch) and ``atall`` update the whole task
(PROTOCOL §2.3); a one-batch campaign spends exactly one code. Runs in the worker (the Huey task
registered here); the functions commit, since each claimed code must be durable before the call.
"""
from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field

from flask_babel import gettext as _

from .. import tasks, wecom_app
from ..extensions import db
from ..i18n import card_error_text
from ..models import AuditLog, Campaign, CardEvent, OptionTally, User, audit, utcnow
from ..wecom.cards import validate
from ..wecom.errors import ApiError, RetryableError
from . import codes, rollup
from .after_click import INTERACTIVE, questions
from .forms import ClosePollForm

log = logging.getLogger(__name__)

CLOSED = "投票已结束"
USED_FOR = "close_poll"
DEAD_CODE = {42022, 60140}  # used or expired: the batch's next code may still work
BUTTON = "@button"
CLOSE_POLL = "dashboard.callback.polls.close_poll"  # the job's name in queued work  # tally key of button clicks, beside (question_key, option_id)


class PollError(ValueError):
    """The poll cannot be closed; the message says why, in words for the person."""


class NoResponseCode(PollError):
    """No unused, unexpired response_code is left to update the cards with."""


@dataclass
class ClosePollResult:
    card: dict
    updated: list[int] = field(default_factory=list)  # batch numbers whose cards were updated
    problems: list[str] = field(default_factory=list)
    codes_used: int = 0
    invalid_users: list[str] = field(default_factory=list)


def tallies(campaign: Campaign) -> dict[tuple[str, str], int]:
    """The people whose latest answer chose each option (question_key, option_id), as the report
    counts them (``option_tally``: CreateTime, then event id, decides), and per clicked button
    (BUTTON, key) the people whose latest click it was. Rolls up pending events first; commits
    the session."""
    rollup.catch_up()
    chosen = db.select(OptionTally.question_key, OptionTally.option_id, OptionTally.n).where(
        OptionTally.campaign_id == campaign.id, OptionTally.n > 0)
    latest = (db.select(db.func.max(CardEvent.id))
              .where(CardEvent.campaign_id == campaign.id, CardEvent.event == "template_card_event")
              .group_by(CardEvent.from_user))
    clicks = (db.select(CardEvent.event_key, db.func.count()).where(CardEvent.id.in_(latest))
              .group_by(CardEvent.event_key))
    counts = {(key, option): n for key, option, n in db.session.execute(chosen)}
    counts.update({(BUTTON, key): n for key, n in db.session.execute(clicks)})
    return counts


def closed_card(campaign: Campaign, counts: dict | None = None) -> dict:
    """The campaign's card, closed: the result in the title area, every option disabled."""
    counts = tallies(campaign) if counts is None else counts
    card = copy.deepcopy(campaign.card_version.template_card)
    card.pop("task_id", None)
    checkbox, parts = card.get("checkbox"), []
    for option in (checkbox or {}).get("option_list") or ():
        option["is_checked"] = False
    for question in questions(card):
        text = " · ".join(f"{o.get('text')} {counts.get((question.get('question_key'), o.get('id')), 0)}"
                          for o in question.get("option_list") or ())
        parts.append(text)
        if question is not checkbox and question.get("title"):
            question["title"] = f"{question['title']} · {text}"
        question["disable"] = True
        question.pop("selected_id", None)
    if not parts and card.get("button_list"):
        parts.append(" · ".join(f"{b.get('text')} {counts.get((BUTTON, b.get('key')), 0)}"
                                for b in card["button_list"]))
    title = (card.get("main_title") or {}).get("title")
    card["main_title"] = {"title": _fit(f"{CLOSED} · {title}" if title else CLOSED, 36),
                          "desc": _fit(" | ".join(parts), 44)}
    card["replace_text"] = CLOSED
    return card


def _fit(text: str, size: int) -> str:
    return text if len(text) <= size else text[:size - 1] + "…"


def close_poll(campaign: Campaign, actor) -> ClosePollResult:
    """Update every recipient's card to the closed card, one code per sent task; commits."""
    if campaign.card_version.template_card.get("card_type") not in INTERACTIVE:
        raise PollError(_("Only button, vote and multiple-choice cards can be closed."))
    codes.backfill(campaign)
    db.session.commit()
    status = codes.expiring_codes(campaign)
    if not status.sends:
        raise PollError(_("Nothing was sent yet, so there is no card to close."))
    if not status.valid:
        raise NoResponseCode(status.message)
    card = closed_card(campaign)
    if errors := validate(card, for_update=True):
        problems = "; ".join(f"{e.path}: {card_error_text(e)}" for e in errors)
        raise PollError(_("The closed card is not valid: %(detail)s", detail=problems))
    result = ClosePollResult(card=card)
    for batch in codes.sent_batches(campaign):
        _close_batch(batch, card, result)
    audit("campaign.poll_closed", campaign, actor=actor, updated=result.updated,
          problems=result.problems, codes_used=result.codes_used)
    db.session.commit()
    log.info("poll of campaign %s closed by %s: %d send(s) updated, %d problem(s)", campaign.id,
             getattr(actor, "username", actor), len(result.updated), len(result.problems))
    return result


def _close_batch(batch, card: dict, result: ClosePollResult) -> None:
    """Spend codes of this batch until one update succeeds or none is left."""
    while (code := codes.next_code(batch.id, utcnow())) is not None:
        if not codes.claim(code, USED_FOR):
            continue  # another worker took it
        result.codes_used += 1
        try:
            answer = wecom_app.client().update_template_card(code.code, atall=True, template_card=card)
        except ApiError as exc:
            code.used_for = f"{USED_FOR}: errcode {exc.errcode}"
            db.session.commit()
            if exc.errcode in DEAD_CODE:
                continue
            result.problems.append(f"Send {batch.number}: {exc}")
            return
        except RetryableError as exc:
            if not exc.request_sent:
                codes.release(code)
                result.codes_used -= 1
            db.session.commit()
            result.problems.append(f"Send {batch.number}: {exc} Try closing the poll again.")
            return
        result.updated.append(batch.number)
        result.invalid_users += answer.invalid_users
        return
    result.problems.append(f"Send {batch.number}: no unused response code left for its recipients.")


def last_closing(campaign: Campaign) -> AuditLog | None:
    """The audit row of the latest attempt to close the poll (done by the worker), if any."""
    return db.session.scalars(
        db.select(AuditLog).where(AuditLog.object_type == "campaign", AuditLog.object_id == str(campaign.id),
                                  AuditLog.action.in_(("campaign.poll_closed", "campaign.poll_close_failed")))
        .order_by(AuditLog.id.desc()).limit(1)).first()


def queue_close_poll(campaign: Campaign, actor) -> None:
    """Check that the poll can be closed (PollError says why not), then let the worker close it."""
    if campaign.card_version.template_card.get("card_type") not in INTERACTIVE:
        raise PollError(_("Only button, vote and multiple-choice cards can be closed."))
    status = codes.expiring_codes(campaign)
    if not status.valid:
        raise NoResponseCode(status.message or _("No unused response code left: nothing was sent yet."))
    name = getattr(actor, "username", None) or str(actor)
    tasks.enqueue(CLOSE_POLL, campaign.id, name)
    log.info("closing the poll of campaign %s queued by %s", campaign.id, name)


def run_close_poll(campaign_id: int, actor_name: str) -> ClosePollResult | None:
    """The close_poll job, in the worker (callback/jobs.py registers it)."""
    campaign = db.session.get(Campaign, campaign_id)
    if campaign is None:
        return None
    actor = db.session.scalar(db.select(User).filter_by(username=actor_name)) or actor_name
    try:
        return close_poll(campaign, actor)
    except PollError as exc:
        db.session.rollback()
        audit("campaign.poll_close_failed", campaign, actor=actor, reason=str(exc))
        db.session.commit()
        log.warning("poll of campaign %s not closed: %s", campaign_id, exc)
        return None


def close_poll_panel(campaign) -> dict:
    """Template context for the campaign page's close-poll panel (empty for non-poll cards)."""
    if campaign.is_test or campaign.status in ("draft", "awaiting_approval", "scheduled", "cancelled") \
            or campaign.card_version.template_card.get("card_type") not in INTERACTIVE:
        return {}
    return {"codes": codes.expiring_codes(campaign), "close_form": ClosePollForm()}
