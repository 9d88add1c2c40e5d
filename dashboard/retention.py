"""Retention: finished campaigns idle past a cut-off lose the names in their answers and their raw
callbacks, and keep every figure their reports show.

Nothing is deleted. The decrypted callback bodies (card_event.xml) become NULL, the dedupe keys
(hashes of the sender) purged-<id>, and every userid in the campaign's rows a pseudonym
(purged-0001 ...), the same one for the same person across the campaign and its reminders. Distinct respondents, first and changed answers, tallies, delays
and non-responders therefore count exactly as before, with no special case in the report code.
The campaign keeps when (purged_at) and for how many people (purged_people); an audit row says
who ran it. The sandbox's own tables play WeCom and are left alone.

The inbox is the exception: what members said to the app, and what it answered, has no figures to
keep beyond the cut-off, so those messages are deleted (audited, with how many).
"""
from __future__ import annotations

import logging
import random
import re
from dataclasses import dataclass
from datetime import datetime, timedelta
from itertools import count

from sqlalchemy import Column, MetaData, String, Table, cast, delete, func, literal, select, update

from .campaigns.queries import FINISHED
from .extensions import db
from .models import (Campaign, CardEvent, ConversationMessage, CurrentAnswer, Delivery, Respondent,
                     ResponseCode, SendBatch, audit, utcnow)
from .callback import rollup
from .reports.queries import family_ids

log = logging.getLogger(__name__)

#: (table, column) holding a person's userid in a campaign's rows; each table has campaign_id.
USERID_COLUMNS = [
    (CardEvent.__table__, "from_user"),
    (Delivery.__table__, "userid"),
    (ResponseCode.__table__, "userid"),
    (Respondent.__table__, "userid"),  # the report summaries, keyed by the family's root
    (CurrentAnswer.__table__, "userid"),
]
#: (model, JSON column, key path) holding userids, as a list or as WeCom's "a|b" text.
USERID_JSON = [
    (Campaign, "recipients", ("users",)),
    (Campaign, "recipients", ("exclude", "users")),
    (SendBatch, "request", ("touser",)),
    (SendBatch, "response", ("invaliduser",)),
    (SendBatch, "response", ("unlicenseduser",)),
    (SendBatch, "invalid_users", ()),
    (SendBatch, "unlicensed_users", ()),
]
PSEUDONYM = "purged-{:04d}"
IS_PSEUDONYM = re.compile(r"purged-\d{4,}")
#: dedupe_key is a SHA-256 of the sender and fields kept beside it, so a list of userids would
#: re-identify the row; WeCom retries within seconds, so old rows need no dedupe key.
PURGED_KEY = literal("purged-", String) + cast(CardEvent.id, String)
UNMATCHED_SENDER = "purged"  # callbacks that matched no campaign have no figures to keep
UNITS = {"h": "hours", "d": "days", "w": "weeks"}


def parse_age(text: str) -> timedelta:
    """'180d', '12w' or '36h' as a timedelta. :raises ValueError: anything else, or zero."""
    match = re.fullmatch(r"(\d{1,6})([hdw])", (text or "").strip().lower())
    if not match or not int(match[1]):
        raise ValueError(f"{text!r} is not an age such as 180d, 12w or 36h.")
    return timedelta(**{UNITS[match[2]]: int(match[1])})


@dataclass
class Plan:
    """One campaign to purge (a report's root, or a test send) and what it holds."""

    campaign: Campaign
    ids: list[int]  # the campaign and its reminders
    last_activity: datetime
    people: int
    bodies: int  # decrypted callbacks still stored


def due(cutoff: datetime) -> list[Plan]:
    """Finished campaigns whose family's last send or callback is before cutoff and that hold
    named data: never purged, or a late callback arrived since the purge."""
    roots = db.session.scalars(select(Campaign).where(
        Campaign.parent_id.is_(None) | Campaign.is_test, Campaign.status.in_(FINISHED),
        func.coalesce(Campaign.finished_at, Campaign.created_at) < cutoff).order_by(Campaign.id))
    plans = []
    for campaign in roots:
        ids = family_ids(campaign)
        family = db.session.scalars(select(Campaign).where(Campaign.id.in_(ids))).all()
        last_event = db.session.scalar(select(func.max(CardEvent.received_at))
                                       .where(CardEvent.campaign_id.in_(ids)))
        last = max([c.finished_at or c.created_at for c in family] + [last_event or campaign.created_at])
        fresh = campaign.purged_at is None or (last_event is not None and last_event > campaign.purged_at)
        if fresh and last < cutoff and all(c.status in FINISHED for c in family):
            plans.append(Plan(campaign, ids, last, len(_userids(ids)), db.session.scalar(
                select(func.count()).where(CardEvent.campaign_id.in_(ids), CardEvent.xml.is_not(None)))))
    return plans


def purge(plan: Plan, *, cutoff: datetime, actor="cli") -> None:
    """Pseudonymise the family's userids and drop its raw callbacks; the caller commits."""
    db.session.commit()  # a fresh transaction, whose first write is the lock (SQLite cannot upgrade a stale read)
    rollup.lock()  # no catch-up adds a real userid to the summaries while they are renamed
    found = _userids(plan.ids)
    mapping = pseudonyms(found, keep_existing=plan.campaign.purged_at is not None)
    rename(plan.ids, mapping)
    db.session.execute(update(CardEvent).where(CardEvent.campaign_id.in_(plan.ids))
                       .values(xml=None, dedupe_key=PURGED_KEY).execution_options(synchronize_session=False))
    people, now = len(found), utcnow()
    for campaign in db.session.scalars(select(Campaign).where(Campaign.id.in_(plan.ids))):
        campaign.purged_at, campaign.purged_people = now, people
    audit("campaign_purged", plan.campaign, actor=actor, cutoff=cutoff.isoformat(), campaigns=plan.ids,
          people=people, pseudonymised=len(mapping), callbacks=plan.bodies)
    log.info("campaign %s purged by %s: %d people pseudonymised, %d raw callbacks removed",
             plan.campaign.id, actor, len(mapping), plan.bodies)


def pseudonyms(userids: set[str], *, keep_existing: bool = False) -> dict[str, str]:
    """{userid: pseudonym}, in a random order so numbers say nothing about names. With
    keep_existing (a second purge), the pseudonyms an earlier purge gave stay as they are."""
    kept = {u for u in userids if IS_PSEUDONYM.fullmatch(u)} if keep_existing else set()
    fresh = list(userids - kept)
    random.SystemRandom().shuffle(fresh)
    free = (name for name in map(PSEUDONYM.format, count(1)) if name not in userids)
    return {userid: next(free) for userid in fresh}


def rename(ids: list[int], mapping: dict[str, str]) -> None:
    """Replace userids in every USERID_COLUMNS and USERID_JSON place of the campaigns ids."""
    if not mapping:
        return
    conn = db.session.connection()
    alias = Table("retention_alias", MetaData(), Column("old", String(64), primary_key=True),
                  Column("new", String(64)), prefixes=["TEMPORARY"])
    alias.create(conn)
    conn.execute(alias.insert(), [{"old": old, "new": new} for old, new in mapping.items()])
    for table, name in USERID_COLUMNS:  # one UPDATE per column, however many people
        column = table.c[name]
        new = select(alias.c.new).where(alias.c.old == column).scalar_subquery()
        conn.execute(update(table).where(table.c.campaign_id.in_(ids), column.in_(select(alias.c.old)))
                     .values({name: new}))
    alias.drop(conn)
    for row, name, path in _json_places(ids):
        setattr(row, name, _swap(getattr(row, name), path, lambda userid: mapping.get(userid, userid)))


def _userids(ids: list[int]) -> set[str]:
    found = set()
    for table, name in USERID_COLUMNS:
        column = table.c[name]
        found.update(db.session.scalars(select(column).distinct().where(
            table.c.campaign_id.in_(ids), column.is_not(None))))
    for row, name, path in _json_places(ids):
        _swap(getattr(row, name), path, lambda userid: found.add(userid) or userid)
    found.discard("")
    return found


def _json_places(ids: list[int]):
    """(row, column, path) for every USERID_JSON place of the campaigns and their batches."""
    rows = {Campaign: db.session.scalars(select(Campaign).where(Campaign.id.in_(ids))).all(),
            SendBatch: db.session.scalars(select(SendBatch).where(SendBatch.campaign_id.in_(ids))).all()}
    return [(row, name, path) for model, name, path in USERID_JSON for row in rows[model]]


def _swap(value, path: tuple, function):
    """value with each userid at path passed through function (a new object when there is one)."""
    if path:
        if not isinstance(value, dict) or path[0] not in value:
            return value
        return {**value, path[0]: _swap(value[path[0]], path[1:], function)}
    if isinstance(value, list):
        return [function(userid) for userid in value]
    if isinstance(value, str) and value and value != "@all":
        return "|".join(function(userid) for userid in value.split("|"))
    return value


def unmatched(cutoff: datetime) -> int:
    """Callbacks matching no campaign (and messages to the app) received before cutoff and not
    yet purged."""
    return db.session.scalar(select(func.count()).where(*_unmatched(cutoff)))


def purge_unmatched(cutoff: datetime) -> int:
    """Their bodies removed and their senders replaced, with their response codes' userids; the
    caller commits. Returns how many callbacks."""
    done = db.session.execute(update(CardEvent).where(*_unmatched(cutoff))
                              .values(xml=None, from_user=UNMATCHED_SENDER, dedupe_key=PURGED_KEY)
                              .execution_options(synchronize_session=False)).rowcount
    db.session.execute(update(ResponseCode).where(ResponseCode.campaign_id.is_(None),
                                                  ResponseCode.created_at < cutoff)
                       .values(userid=None).execution_options(synchronize_session=False))
    return done


def _unmatched(cutoff: datetime) -> tuple:
    return (CardEvent.campaign_id.is_(None), CardEvent.received_at < cutoff,
            (CardEvent.from_user != UNMATCHED_SENDER) | CardEvent.xml.is_not(None))


def old_messages(cutoff: datetime) -> int:
    """Inbox messages (members' and the answers to them) received before cutoff."""
    return db.session.scalar(select(func.count()).select_from(ConversationMessage)
                             .where(ConversationMessage.created_at < cutoff))


def delete_messages(cutoff: datetime, *, actor="cli") -> int:
    """Delete them, audited; the caller commits. Returns how many."""
    done = db.session.execute(delete(ConversationMessage).where(ConversationMessage.created_at < cutoff)
                              .execution_options(synchronize_session=False)).rowcount
    audit("conversation_messages_deleted", actor=actor, cutoff=cutoff.isoformat(), messages=done)
    log.info("%d conversation messages before %s deleted by %s", done, cutoff.isoformat(), actor)
    return done
