"""Which worker sends which batch: a lease on the batch row, claimed one worker at a time.

Any number of workers, on any number of machines, work on one campaign (delivery.py). A claim is
a conditional UPDATE of the batch, so two workers never hold the same batch; and claims run one at
a time under the claims lock (a row each claim's transaction updates first, held by the database
until the commit), so the per-member limits read by one claim include every batch claimed before.

A batch found 'sending' with its lease run out, or held by a process of this host that is gone,
was left by a stopped worker and its outcome is unknown (delivery.py decides what to do with it).
Workers are named ``host:pid``, so host names must differ between machines.
"""
import os
import socket
from datetime import datetime, timedelta

from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models import Campaign, Delivery, SendBatch, SharedValue

LEASE = timedelta(seconds=90)  # longer than one call can take (timeouts, one token renewal)
CLAIMS = "campaign-claims"  # the SharedValue row that claims lock


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def update(campaign_id: int, *where, **values) -> bool:
    """A conditional UPDATE of the campaign, committed; True when it matched (this worker won)."""
    result = db.session.execute(db.update(Campaign).where(Campaign.id == campaign_id, *where)
                                .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def lock_claims() -> None:
    """Hold the claims lock until the session's next commit or rollback.

    The UPDATE opens the transaction: PostgreSQL locks the row, SQLite takes its write lock.
    """
    db.session.commit()
    lock = db.update(SharedValue).filter_by(name=CLAIMS).values(value=worker_id())
    if db.session.execute(lock).rowcount == 0:  # the first claim ever: make the row
        db.session.rollback()
        try:
            with db.engine.begin() as connection:
                connection.execute(db.insert(SharedValue).values(name=CLAIMS))
        except IntegrityError:  # another worker made it first
            pass
        db.session.execute(lock)


def claimable(now: datetime):
    """The condition for batches a worker may claim: due, or left by a stopped worker."""
    return db.or_(
        db.and_(SendBatch.status == "pending",
                db.or_(SendBatch.not_before.is_(None), SendBatch.not_before <= now)),
        db.and_(SendBatch.status == "sending",
                db.or_(SendBatch.lease_until.is_(None), SendBatch.lease_until < now)))


def in_flight(campaign_id: int, now: datetime) -> int:
    """Batches of the campaign that a live worker is sending."""
    return db.session.scalar(db.select(db.func.count()).select_from(SendBatch).where(
        SendBatch.campaign_id == campaign_id, SendBatch.status == "sending",
        SendBatch.lease_until >= now))


def claim(batch: SendBatch, now: datetime) -> bool:
    """Lease the batch to this worker for one attempt, if it is still claimable. The per-member
    limits count it from now on: a first attempt by the batch's send time, a repeat by its ledger
    rows, which carry this attempt's time."""
    won = db.session.execute(
        db.update(SendBatch).where(SendBatch.id == batch.id, claimable(now))
        .values(status="sending", attempts=batch.attempts + 1,
                sent_at=batch.sent_at or now,  # the first attempt: recall and dedupe windows start here
                not_before=None, wait_reason=None, lease_owner=worker_id(), lease_until=now + LEASE)
        .execution_options(synchronize_session=False)).rowcount == 1
    if won and batch.attempts:
        db.session.execute(db.update(Delivery).where(Delivery.batch_id == batch.id,
                                                     Delivery.state == "pending").values(sent_at=now))
    return won


def held(batch_id: int, attempt: int) -> bool:
    """Whether this worker still holds the batch for that attempt (nobody took it over)."""
    return db.session.scalar(db.select(db.func.count()).select_from(SendBatch).where(
        SendBatch.id == batch_id, SendBatch.status == "sending", SendBatch.attempts == attempt,
        SendBatch.lease_owner == worker_id())) == 1


def release(batch_id: int) -> None:
    """Give up this worker's claim at once (after an error), committed."""
    db.session.execute(db.update(SendBatch).where(SendBatch.id == batch_id,
                                                  SendBatch.lease_owner == worker_id())
                       .values(lease_until=None).execution_options(synchronize_session=False))
    db.session.commit()


def free_orphans(campaign_id: int | None = None) -> int:
    """Release the batches held by processes of this host that are gone (killed, crashed), so
    other workers take them over now rather than when their lease runs out. Committed."""
    host = socket.gethostname()
    query = db.select(SendBatch.id, SendBatch.lease_owner).where(
        SendBatch.status == "sending", SendBatch.lease_until.is_not(None),
        SendBatch.lease_owner.startswith(f"{host}:", autoescape=True))
    if campaign_id is not None:
        query = query.where(SendBatch.campaign_id == campaign_id)
    freed = 0
    for batch_id, owner in db.session.execute(query).all():
        if not _alive(owner):
            freed += db.session.execute(
                db.update(SendBatch).where(SendBatch.id == batch_id, SendBatch.lease_owner == owner,
                                           SendBatch.status == "sending")
                .values(lease_until=None).execution_options(synchronize_session=False)).rowcount
    db.session.commit()
    return freed


def _alive(owner: str) -> bool:
    pid = int(owner.rpartition(":")[2])
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # alive, under another user
        return True
    return True
