"""The campaigns' background jobs: delivering a campaign's batches, and the sweep that starts
scheduled campaigns and picks up those a stopped worker left behind. Runs of one campaign share
out its batches (leases.py), so a run queued twice does no harm."""
from __future__ import annotations

import logging
import time
from datetime import datetime

from .. import tasks
from ..models import utcnow
from . import delivery, leases

log = logging.getLogger(__name__)

# The names queued work carries (kept from when the queue module defined these jobs).
DELIVER = "dashboard.tasks.deliver"
SWEEP = "dashboard.tasks.sweep"
BACKOFF_MIN, BACKOFF_MAX = 0.5, 5.0  # seconds a run waits, with the queue down, before going on


def init_app(app) -> None:
    tasks.job(app, DELIVER, _deliver)
    tasks.job(app, SWEEP, _sweep, periodic=True)
    tasks.on_worker_start(app, _free_orphans)


def deliver(campaign_id: int, eta: datetime | None = None) -> None:
    """Queue delivery work for a campaign, now or at eta (the sweep is the safety net)."""
    tasks.enqueue(DELIVER, campaign_id, eta=eta)


def _deliver(campaign_id: int) -> None:
    """Run the campaign, and queue its next run for when its waiting batches are due. With the
    queue down (a Redis blip) the run backs off and goes on here instead of failing: the
    campaign does not wait for the sweep."""
    stop = tasks.stop_flag()
    stopping = stop.is_set if stop else None
    while (when := delivery.run(campaign_id, lambda: deliver(campaign_id), stopping=stopping)) is not None:
        try:
            deliver(campaign_id, eta=when)
            return
        except Exception as exc:  # noqa: BLE001 - the queue is down: keep the campaign going here
            pause = min(BACKOFF_MAX, max(BACKOFF_MIN, (when - utcnow()).total_seconds()))
            log.warning("campaign %s: next run not queued (%s); going on here in %.1f s",
                        campaign_id, exc, pause)
            if _stopped_during(stop, pause):
                return  # the worker stops: the sweep takes it up after the restart


def _stopped_during(stop, seconds: float) -> bool:
    """Wait; True when the worker began to stop meanwhile (never outside a worker)."""
    if stop is None:
        time.sleep(seconds)
        return False
    return stop.wait(seconds)


def _sweep() -> None:
    for campaign_id in delivery.due_campaigns():
        deliver(campaign_id)


def _free_orphans() -> None:
    if released := leases.free_orphans():
        log.info("released %d batch(es) held by a stopped worker of this host", released)
