"""The response_code ledger, read and spent: which codes a campaign still holds, and claiming one.

Each code allows one card update and lasts 24 h (PROTOCOL §2.3). A send code updates the
recipients of its task (one SendBatch); so does a callback code, given ``atall``. Claiming a
code is committed before WeCom is called, so no two workers ever spend the same code.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from flask_babel import gettext as _

from ..extensions import db
from ..i18n import format_time
from ..models import ResponseCode, SendBatch, utcnow
from . import rollup
from .service import RESPONSE_CODE_LIFE, record_response_code

WARN_BEFORE = timedelta(hours=3)  # the campaign page warns this long before the last codes expire


@dataclass(frozen=True)
class CodeStatus:
    """What the campaign page says about the codes left to update everyone's card."""

    valid: int  # unused, unexpired codes
    sends: int  # sent tasks (batches) whose recipients a close would update
    uncovered: int  # of those, how many have no valid code left
    deadline: datetime | None  # when the first task loses its last valid code
    warn: bool
    message: str | None


def sent_batches(campaign) -> list[SendBatch]:
    """The batches WeCom accepted: the tasks whose recipients hold the card."""
    return list(db.session.scalars(
        db.select(SendBatch).where(SendBatch.campaign_id == campaign.id,
                                   db.or_(SendBatch.status == "done", SendBatch.response_code.is_not(None)))
        .order_by(SendBatch.number)))


def _unledgered(campaign):
    return db.select(SendBatch).where(
        SendBatch.campaign_id == campaign.id, SendBatch.response_code.is_not(None),
        ~db.select(ResponseCode.id).where(ResponseCode.code == SendBatch.response_code).exists())


def backfill(campaign) -> int:
    """Ledger rows for send codes the sender kept only on SendBatch (the caller commits)."""
    batches = list(db.session.scalars(_unledgered(campaign)))
    for batch in batches:
        sent = batch.sent_at or batch.finished_at or batch.created_at
        record_response_code(batch.response_code, campaign_id=campaign.id, batch_id=batch.id,
                             source="send", received_at=sent)
    return len(batches)


def expiring_codes(campaign, *, now: datetime | None = None) -> CodeStatus:
    """Valid codes per sent task, and a warning before the last ones expire. Rolls up pending
    events first, which adds their codes to the ledger (commits the session)."""
    rollup.catch_up()
    now = now or utcnow()
    per_batch: dict[int | None, list] = {}
    query = (db.select(ResponseCode.batch_id, db.func.count(), db.func.max(ResponseCode.expires_at))
             .where(ResponseCode.campaign_id == campaign.id, ResponseCode.used_at.is_(None),
                    ResponseCode.expires_at > now).group_by(ResponseCode.batch_id))
    for batch_id, count, last in db.session.execute(query):
        per_batch[batch_id] = [count, last]
    for batch in db.session.scalars(_unledgered(campaign)):  # not in the ledger yet: count them too
        expires = (batch.sent_at or batch.finished_at or batch.created_at) + RESPONSE_CODE_LIFE
        if expires > now:
            entry = per_batch.setdefault(batch.id, [0, expires])
            entry[0], entry[1] = entry[0] + 1, max(entry[1], expires)
    sends = [b.id for b in sent_batches(campaign)]
    uncovered = sum(1 for b in sends if b not in per_batch)
    valid = sum(count for count, _ in per_batch.values())
    deadline = min((per_batch[b][1] for b in sends if b in per_batch), default=None)
    message = _message(valid, len(sends), uncovered, deadline, now)
    return CodeStatus(valid, len(sends), uncovered, deadline, message is not None, message)


def _message(valid: int, sends: int, uncovered: int, deadline, now: datetime) -> str | None:
    if not sends:
        return None
    if not valid:
        return _("No unused response code left: every code this campaign received was used or has "
                 "expired (each allows one card update and lasts 24 hours), so the recipients' cards "
                 "can no longer be updated. A new click on the card brings a fresh code.")
    if uncovered:
        return _("%(uncovered)s of %(total)s sends have no unused response code left: closing the poll "
                 "would not update their recipients' cards.", uncovered=uncovered, total=sends)
    if deadline - now < WARN_BEFORE:
        left = int((deadline - now).total_seconds() // 60)
        local = format_time(deadline)
        return _("The last response codes expire at %(time)s (in %(hour)s h %(minute)s min): close "
                 "the poll before then, or the recipients' cards can no longer be updated.",
                 time=local, hour=left // 60, minute=left % 60)
    return None


def next_code(batch_id: int, now: datetime) -> ResponseCode | None:
    """The batch's next unused code: send codes first, then the one expiring soonest."""
    send_first = db.case((ResponseCode.source == "send", 0), else_=1)
    return db.session.scalars(
        db.select(ResponseCode).where(ResponseCode.batch_id == batch_id, ResponseCode.used_at.is_(None),
                                      ResponseCode.expires_at > now)
        .order_by(send_first, ResponseCode.expires_at, ResponseCode.id).limit(1)).first()


def claim(code: ResponseCode, used_for: str) -> bool:
    """Mark the code used and COMMIT; False when another worker took it first."""
    result = db.session.execute(
        db.update(ResponseCode).where(ResponseCode.id == code.id, ResponseCode.used_at.is_(None))
        .values(used_at=utcnow(), used_for=used_for))
    db.session.commit()
    return result.rowcount == 1


def reclaim(code: ResponseCode, failed: str, used_for: str) -> bool:
    """Take back a claimed code whose last use failed (``used_for`` starting with ``failed``) for
    another try, and COMMIT; False when another run took it first, or it was not left so. A
    code that failed stays claimed, so nothing else spends it between two tries."""
    result = db.session.execute(
        db.update(ResponseCode).where(ResponseCode.id == code.id,
                                      ResponseCode.used_for.startswith(failed, autoescape=True))
        .values(used_for=used_for))
    db.session.commit()
    return result.rowcount == 1


def release(code: ResponseCode) -> None:
    """Give back a claimed code that surely never reached WeCom (the caller commits)."""
    db.session.execute(db.update(ResponseCode).where(ResponseCode.id == code.id)
                       .values(used_at=None, used_for=None))
