"""Reminders: send the card again, only to the people who have not answered yet.

The follow-up is an ordinary campaign (parent_id = the campaign) built and sent through the
campaigns service, so it gets the same checks, ledger, limits and audit rows. Its recipients are
worked out in the same transaction that plans its batches, so whoever answered before the click
is left out, and again by the sender as each batch goes out (campaigns.delivery.prepare). Answers to the reminder count in the parent's report (queries.family_ids).
"""
from __future__ import annotations

import logging
from zoneinfo import ZoneInfo

from flask import current_app
from flask_babel import gettext as _

from ..callback import rollup
from ..campaigns import service as campaigns
from ..campaigns.queries import label
from ..models import Campaign, CardVersion, audit
from . import people, queries

log = logging.getLogger(__name__)

REMINDABLE = ("sent", "partially_sent")


def why_no_reminder(campaign: Campaign) -> str | None:
    """Why the campaign (a root) cannot be reminded now, in words for the page; None if it can."""
    if campaign.is_test:
        return _("Test sends have no reminders.")
    if campaign.purged_at:
        day = campaign.purged_at.astimezone(ZoneInfo(current_app.config["TIMEZONE"]))
        return _("Named answers were removed on %(day)s (retention): the people who have not answered "
                 "are known only by pseudonyms, so a reminder cannot reach them.", day=f"{day:%Y-%m-%d}")
    if campaign.status not in REMINDABLE:
        return _("Reminders go out once the campaign has been sent; it is %(status)s.",
                 status=label(campaign.status))
    return None


def remind_non_responders(campaign: Campaign, actor=None,
                          card_version: CardVersion | None = None) -> Campaign:
    """Create and send a follow-up campaign to the recipients of campaign who have not answered.

    Commits what the session holds first (to count the latest answers); the caller commits the
    reminder, then queues delivery (``campaigns.jobs.deliver(reminder.id)``).
    :raises CampaignError: not sent yet, a test send, or nobody left to remind.
    """
    rollup.catch_up()  # whoever answered a moment ago is not reminded
    parent = queries.root(campaign)
    if why := why_no_reminder(parent):
        raise campaigns.CampaignError(why)
    userids = people.non_responder_userids(parent, queries.family_ids(parent))
    if not userids:
        raise campaigns.CampaignError(_("Everyone who received the card has answered: nobody to remind."))
    number = len(queries.reminders(parent)) + 1
    reminder = campaigns.create_campaign(
        name=_("Reminder %(number)s: %(name)s", number=number, name=parent.name)[:120],
        card_version=card_version or parent.card_version,
        notes=_("Sent to the %(n)s recipients of campaign %(id)s who had not answered.",
                n=len(userids), id=parent.id),
        recipients={"users": userids}, options={**(parent.options or {}), "remind_of": parent.id},
        timezone=parent.timezone, actor=actor)
    reminder.parent_id, reminder.privacy = parent.id, parent.privacy
    campaigns.send(reminder, actor=actor)
    audit("campaign_reminded", parent, actor=actor, reminder=reminder.id, recipients=len(userids))
    log.info("campaign %s: reminder %s to %d non-responders by %s", parent.id, reminder.id,
             len(userids), getattr(actor, "username", actor) or "system")
    return reminder
