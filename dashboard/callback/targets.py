"""Which campaign a TaskId belongs to: the batch, the campaign, and the card's after-click settings."""
from __future__ import annotations

from time import monotonic

from flask import current_app

from ..extensions import db
from ..models import Campaign, CardVersion, SendBatch

TTL = 5.0  # seconds a task id's campaign and after-click settings are kept per process
MAX_KEPT = 1000

_QUERY = (
    db.select(SendBatch.id.label("batch_id"), SendBatch.campaign_id, CardVersion.after_click,
              CardVersion.template_card)
    .join(Campaign, Campaign.id == SendBatch.campaign_id)
    .join(CardVersion, CardVersion.id == Campaign.card_version_id)
    .where(SendBatch.task_id == db.bindparam("task_id"))
)


def lookup(conn, task_id: str):
    """(batch_id, campaign_id, after_click, template_card) of a task id, or None when unknown.

    Kept a few seconds per process (``app.extensions["callback_targets"]``), so a burst of clicks
    on one campaign costs one SELECT, and a changed after-click setting applies within TTL.
    """
    cache, now = current_app.extensions["callback_targets"], monotonic()
    hit = cache.get(task_id)
    if hit is not None and hit[0] > now:
        return hit[1]
    target = conn.execute(_QUERY, {"task_id": task_id}).first()
    if target is not None:
        if len(cache) >= MAX_KEPT:
            cache.clear()
        cache[task_id] = (now + TTL, target)
    return target


def forget() -> None:
    """Drop this process's kept targets (after a change of after-click settings)."""
    current_app.extensions["callback_targets"].clear()
