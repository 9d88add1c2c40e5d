"""WeCom's per-member limits, read from the ledger: at most 30 messages a minute and 1000 an hour
from one app to one member; WeCom drops the excess silently, so we wait instead.

The ledger is the shared counter: a batch's rows carry their send time from the moment a worker
claims it, and claims run one at a time across workers (leases.py), so the limits hold however
many workers send.
"""
from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import datetime, timedelta

from ..extensions import db
from ..models import Delivery


def N_(text: str) -> str:
    """Marks a text stored in rows for `pybabel extract`, and returns it as is: the worker writes
    such texts in English; pages show them in their language (queries.stored_text)."""
    return text


# The limits, and their words in a batch's wait reason (stored in English, like the reason).
WINDOWS = ((timedelta(minutes=1), 30, N_("30 a minute")),
           (timedelta(hours=1), 1000, N_("1,000 an hour")))
WAIT_ONE = N_("per-member limit (1 recipient is at WeCom's %(limit)s)")
WAIT_MANY = N_("per-member limit (%(n)s recipients are at WeCom's %(limit)s)")
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
    for group in groups:
        query = db.select(Delivery.userid, Delivery.sent_at).where(
            Delivery.userid.in_(group), Delivery.sent_at > since,
            Delivery.state.not_in(NOT_DELIVERED))
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


def wait_for(userids, now: datetime, *, exclude_batch: int | None = None) -> Wait | None:
    """How long a message to all of userids must wait to stay within the limits; None: no wait."""
    blocked = [w for times in recent_sends(userids, now, exclude_batch=exclude_batch).values()
               if (w := free_at(times, now))]
    if not blocked:
        return None
    until, limit = max(blocked)
    return Wait(until, len(blocked), limit)
