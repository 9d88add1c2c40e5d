"""The campaigns' background jobs: delivering a campaign's batches, and the sweep that starts
scheduled campaigns and picks up those a stopped worker left behind. Runs of one campaign share
out its batches (leases.py), so a run queued twice does no harm."""
from __future__ import annotations

import logging
from datetime import datetime

from .. import tasks
from . import delivery, leases

log = logging.getLogger(__name__)

# The names queued work carries (kept from when the queue module defined these jobs).
DELIVER = "dashboard.tasks.deliver"
SWEEP = "dashboard.tasks.sweep"


def init_app(app) -> None:
    tasks.job(app, DELIVER, _deliver)
    tasks.job(app, SWEEP, _sweep, periodic=True)
    tasks.on_worker_start(app, _free_orphans)


def deliver(campaign_id: int, eta: datetime | None = None) -> None:
    """Queue delivery work for a campaign, now or at eta (the sweep is the safety net)."""
    tasks.enqueue(DELIVER, campaign_id, eta=eta)


def _deliver(campaign_id: int) -> None:
    stop = tasks.stop_flag()
    if (when := delivery.run(campaign_id, lambda: deliver(campaign_id),
                             stopping=stop.is_set if stop else None)) is not None:
        deliver(campaign_id, eta=when)


def _sweep() -> None:
    for campaign_id in delivery.due_campaigns():
        deliver(campaign_id)


def _free_orphans() -> None:
    if released := leases.free_orphans():
        log.info("released %d batch(es) held by a stopped worker of this host", released)
