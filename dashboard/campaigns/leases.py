"""Which worker works on which campaign: a lease on the campaign row, renewed before each batch.

A batch found 'sending' by the holder of a fresh lease was left by a worker that stopped, so its
outcome is unknown (delivery.py decides what to do with it). A worker that starts releases the
leases that earlier workers on the same host held; leases of other hosts run out after LEASE.
"""
import os
import socket
from datetime import timedelta

from ..extensions import db
from ..models import Campaign, utcnow

LEASE = timedelta(seconds=90)  # longer than one call can take (timeouts, one token renewal)


def worker_id() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def update(campaign_id: int, *where, **values) -> bool:
    """A conditional UPDATE of the campaign, committed; True when it matched (this worker won)."""
    result = db.session.execute(db.update(Campaign).where(Campaign.id == campaign_id, *where)
                                .values(**values).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount == 1


def take(campaign_id: int) -> bool:
    now = utcnow()
    return update(campaign_id, Campaign.status == "sending",
                  db.or_(Campaign.lease_until.is_(None), Campaign.lease_until < now),
                  lease_owner=worker_id(), lease_until=now + LEASE)


def renew(campaign_id: int) -> bool:
    """Also the pause/cancel check: a campaign no longer 'sending' cannot be renewed.
    Committed with the batch's next step (one commit less per batch)."""
    result = db.session.execute(
        db.update(Campaign).where(Campaign.id == campaign_id, Campaign.status == "sending",
                                  Campaign.lease_owner == worker_id())
        .values(lease_until=utcnow() + LEASE).execution_options(synchronize_session=False))
    return result.rowcount == 1


def release(campaign_id: int) -> None:
    update(campaign_id, Campaign.lease_owner == worker_id(), lease_owner=None, lease_until=None)


def idle():
    """The condition for campaigns that no live worker holds."""
    return db.or_(Campaign.lease_until.is_(None), Campaign.lease_until < utcnow())


def recover() -> int:
    """At worker start: leases held by an earlier worker on this host died with it."""
    result = db.session.execute(
        db.update(Campaign).where(Campaign.lease_owner.like(f"{socket.gethostname()}:%"))
        .values(lease_owner=None, lease_until=None).execution_options(synchronize_session=False))
    db.session.commit()
    return result.rowcount
