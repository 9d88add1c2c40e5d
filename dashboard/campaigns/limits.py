"""WeCom's per-member limits, read from the ledger: at most 30 messages a minute and 1000 an hour
from one app to one member; WeCom drops the excess silently, so we wait instead.

The ledger is the shared counter: a row counts from the moment a worker claims its batch (until
the outcome stamps the row, the batch's first send time stands for it; a repeat stamps the rows
at its claim), and claims run one at a time across workers (leases.py), so the limits hold
however many workers send. A member has one row per campaign, so while fewer other campaigns have
sent in the last hour than the lowest limit, nobody can be at a limit and the rows are not read.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..extensions import db
from ..models import Delivery, SendBatch


def N_(text: str) -> str:
    """Marks a text stored in rows for `pybabel extract`, and returns it as is: the worker writes
    such texts in English; pages show them in their language (queries.stored_text)."""
    return text


# The limits, and their words in a batch's wait reason (stored in English, like the reason).
WINDOWS = ((timedelta(minutes=1), 30, N_("30 a minute")),
           (timedelta(hours=1), 1000, N_("1,000 an hour")))
WAIT_ONE = N_("per-member limit (1 recipient is at WeCom's %(limit)s)")
WAIT_MANY = N_("per-member limit (%(n)s recipients are at WeCom's %(limit)s)")
LOWEST = min(limit for _window, limit, _words in WINDOWS)
STORED = (WAIT_ONE, WAIT_MANY, *(words for _window, _limit, words in WINDOWS))
NOT_DELIVERED = ("invalid", "unlicensed", "cancelled")
CHUNK = 500  # ids per IN (...) query


def recent_sends(userids, now: datetime, *, exclude_batch: int | None = None
                 ) -> dict[str, list[datetime]]:
    """Per userid, the times in the last hour we sent them something (oldest first).

    userids is a list, or a SELECT of userids (one query instead of a long IN list).
    """
    sent: dict[str, list[datetime]] = defaultdict(list)
    since = now - WINDOWS[-1][0]
    groups = [userids[i:i + CHUNK] for i in range(0, len(userids), CHUNK)] if isinstance(
        userids, list) else [userids]
    when = db.func.coalesce(Delivery.sent_at, SendBatch.sent_at)  # a claimed batch's rows: its time
    for group in groups:
        query = (db.select(Delivery.userid, when)
                 .outerjoin(SendBatch, SendBatch.id == Delivery.batch_id)
                 .where(Delivery.userid.in_(group), when > since, Delivery.state.not_in(NOT_DELIVERED)))
        if exclude_batch is not None:
            query = query.where(db.or_(Delivery.batch_id.is_(None), Delivery.batch_id != exclude_batch))
        for userid, at in db.session.execute(query):
            sent[userid].append(at)
    return {userid: sorted(times) for userid, times in sent.items()}


def free_at(times: list[datetime], now: datetime) -> tuple[datetime, str] | None:
    """When one more message keeps this member within both limits, and which limit; None: now."""
    latest = None
    for window, limit, words in WINDOWS:
        inside = sorted(t for t in times if t > now - window)
        if len(inside) >= limit:
            at = inside[len(inside) - limit] + window
            if latest is None or at > latest[0]:
                latest = (at, words)
    return latest


@dataclass(frozen=True)
class Wait:
    until: datetime
    members: int
    limit: str

    @property
    def reason(self) -> str:
        if self.members == 1:
            return WAIT_ONE % {"limit": self.limit}
        return WAIT_MANY % {"n": self.members, "limit": self.limit}


def others_sending(campaign_id: int, now: datetime) -> int:
    """How many other campaigns may have ledger rows sent in the last hour: those with a batch
    claimed (in flight, or to be repeated) or finished in that hour, or rows sent outside a batch.
    A batch's rows are stamped at its finish at the latest, so none is missed."""
    since = now - WINDOWS[-1][0]
    batches = db.select(SendBatch.campaign_id).where(SendBatch.campaign_id != campaign_id, db.or_(
        SendBatch.status == "sending", db.and_(SendBatch.status == "pending", SendBatch.attempts > 0),
        SendBatch.finished_at > since))
    loose = db.select(Delivery.campaign_id).where(
        Delivery.batch_id.is_(None), Delivery.sent_at > since, Delivery.campaign_id != campaign_id)
    return db.session.scalar(db.select(db.func.count()).select_from(db.union(batches, loose).subquery()))


def wait_for(userids, now: datetime, *, exclude_batch: int | None = None,
             campaign_id: int | None = None) -> Wait | None:
    """How long a message to all of userids must wait to stay within the limits; None: no wait.
    With campaign_id, userids are people of that campaign (one row each), and the ledger is read
    only when enough other campaigns have sent lately to put one of them at a limit."""
    if campaign_id is not None and others_sending(campaign_id, now) < LOWEST:
        return None
    blocked = [w for times in recent_sends(userids, now, exclude_batch=exclude_batch).values()
               if (w := free_at(times, now))]
    if not blocked:
        return None
    until, limit = max(blocked)
    return Wait(until, len(blocked), limit)
