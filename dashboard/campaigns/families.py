"""Campaign families: a campaign and its reminders, whose answers count in the campaign's report.

A reminder is a campaign whose ``parent_id`` is set and that is not a test; test sends are
separate campaigns (``is_test``) and never part of a family.
"""
from __future__ import annotations

from functools import lru_cache

from sqlalchemy import bindparam, select

from ..extensions import db
from ..models import Campaign, CardEvent
from ..models.event import REPLY


def is_reminder(campaign: Campaign) -> bool:
    return campaign.parent_id is not None and not campaign.is_test


def root(campaign: Campaign) -> Campaign:
    """The campaign whose report this campaign's answers count in."""
    return db.session.get(Campaign, campaign.parent_id) if is_reminder(campaign) else campaign


def family_ids(campaign: Campaign) -> list[int]:
    """The campaign and its reminders (never its test sends)."""
    return [campaign.id, *db.session.scalars(_reminders_of(Campaign.id), {"parent": campaign.id})]


def reminders(campaign: Campaign) -> list[Campaign]:
    return db.session.scalars(_reminders_of(Campaign), {"parent": campaign.id}).all()


@lru_cache(maxsize=2)
def _reminders_of(what):
    return (select(what).where(Campaign.parent_id == bindparam("parent"), Campaign.is_test.is_(False))
            .order_by(Campaign.id))


def answered_among(campaign: Campaign, userids: list[str]) -> set[str]:
    """Which of these people have answered the campaign (or its parent, for a reminder) by now:
    for the sender to leave them out of a reminder batch at the moment it goes out."""
    report_on = root(campaign)
    ids, found = family_ids(report_on), set()
    for start in range(0, len(userids), 500):
        found.update(db.session.scalars(select(CardEvent.from_user).distinct().where(
            CardEvent.campaign_id.in_(ids), CardEvent.event == REPLY,
            CardEvent.from_user.in_(userids[start:start + 500]))))
    return found
