"""What the API needs that no service offers yet. Each function names where it should move; the
API then imports it from there and this module goes away."""
from __future__ import annotations

from datetime import datetime, timezone

from ..extensions import db
from ..models import Campaign, CardEvent
from ..reports import queries as report_queries


def events_page(campaign: Campaign, page: int, per_page: int):
    """Move to reports/queries.py: the events of a campaign and its reminders, oldest first."""
    query = (db.select(CardEvent).where(CardEvent.campaign_id.in_(report_queries.family_ids(campaign)))
             .order_by(CardEvent.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, max_per_page=per_page)


def event_json(event: CardEvent, named: bool) -> dict:
    """One event for integrators; user is None when the campaign reports aggregates only."""
    return {"user": event.from_user if named else None, "event": event.event,
            "event_key": event.event_key, "task_id": event.task_id, "card_type": event.card_type,
            "selected": event.selected or {}, "created_at": _epoch(event.create_time)}


def _epoch(seconds: int) -> str | None:
    """WeCom's CreateTime (Unix seconds) as ISO-8601 UTC; None if it is not a real time."""
    try:
        return datetime.fromtimestamp(seconds, timezone.utc).isoformat()
    except (OverflowError, OSError, ValueError):
        return None
