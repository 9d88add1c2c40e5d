"""Keeping the report summaries (dashboard/models/rollup.py) up to date with the events.

The callback only stores events, marked not yet rolled up, and answers. :func:`catch_up` folds
the pending events into the summaries a batch at a time (writing out their chosen options as
event_selection rows and their response codes into the ledger first), with a few set-based
statements per batch: the worker runs it with every sweep, and every report (and the response
code status, codes.expiring_codes) runs it before reading, so the figures are never behind the
events while a report stays as fast for 250,000 answers as for 25.

One process at a time: a batch starts by updating the single rollup_state row, which takes
SQLite's write lock or PostgreSQL's row lock until COMMIT, and only then reads which events
are pending, so two catch-ups never count an event twice; ids are read, not ranges, so an event
committed meanwhile waits for the next batch.
"""
from __future__ import annotations

import logging
from collections import Counter
from functools import lru_cache

from sqlalchemy import case, delete, func, insert, literal_column, select, text, true, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..models import (Campaign, CardEvent, CurrentAnswer, Delivery, EventCount, EventSelection,
                      OptionTally, Respondent, ResponseCode, RollupState)
from ..models.base import epoch
from ..models.event import MENU, REPLY
from .service import code_row

log = logging.getLogger(__name__)

BATCH = 5000
ID = literal_column("id")  # of card_event, in _pending's SELECTs
NO_KEY = ""  # event_count's stand-in for an event without EventKey
# The campaign whose report an event counts in: a reminder's parent, else its own.
REPORT = case((Campaign.parent_id.is_not(None) & Campaign.is_test.is_(False), Campaign.parent_id),
              else_=Campaign.id)


def catch_up() -> int:
    """Fold every pending event into the summaries; returns how many were folded. Commits the
    session (first too: SQLite cannot turn an old read into a write). If another process holds
    the lock past the busy timeout, the figures stay a little behind and the next call goes on."""
    folded = 0
    try:
        while db.session.scalar(_any_pending(db.session.get_bind().dialect.name)):
            done = _fold_batch()
            folded += done
            if done < BATCH:
                break
    except OperationalError as exc:
        db.session.rollback()
        log.warning("report summaries not brought up to date this time: %s", exc.orig)
    return folded


def pending() -> int:
    """Events stored but not yet counted in the summaries."""
    return db.session.scalar(_pending(func.count()))


def lock() -> None:
    """Hold the summaries' lock until the session's COMMIT: the first write of a transaction.
    The row is made once; the UPDATE after it takes the lock, also for the process whose INSERT
    found the row another had just made (that INSERT locks nothing on PostgreSQL)."""
    claim = update(RollupState).values(runs=RollupState.runs + 1)
    if not db.session.execute(claim).rowcount:
        db.session.execute(_insert(RollupState).values(id=1, runs=0, events=0).on_conflict_do_nothing())
        db.session.execute(claim)


def _fold_batch() -> int:
    session = db.session
    session.commit()
    lock()
    ids = session.scalars(_pending(ID).order_by(ID).limit(BATCH)).all()
    if ids:
        _selections(ids)
        _response_codes(ids)
        _respondents(ids)
        _current_answers(ids)
        _event_counts(ids)
        session.execute(update(CardEvent).where(CardEvent.id.in_(ids)).values(rolled_up=True))
        session.execute(update(RollupState).values(events=RollupState.events + len(ids)))
    session.commit()
    return len(ids)


@lru_cache(maxsize=2)
def _any_pending(dialect: str):
    """Built once: every report page asks."""
    return _pending(ID, dialect).limit(1)


def _pending(column, dialect: str | None = None):
    """SELECT column (``ID`` or an aggregate) of the pending events, through their partial index,
    named for SQLite: its planner would scan the whole table when its statistics date from
    before a catch-up."""
    if (dialect or db.session.get_bind().dialect.name) == "sqlite":
        return select(column).select_from(text("card_event INDEXED BY ix_card_event_pending")).where(
            text("rolled_up = 0"))
    return select(column).select_from(CardEvent).where(~CardEvent.rolled_up)


def _insert(model):
    """An INSERT that can say ON CONFLICT, in the database's dialect."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql if dialect == "postgresql" else sqlite).insert(model)


def _events(ids: list[int], *columns):
    """The batch's events with the campaign they report in."""
    return (select(REPORT.label("campaign_id"), *columns).select_from(CardEvent)
            .join(Campaign, Campaign.id == CardEvent.campaign_id).where(CardEvent.id.in_(ids)))


def _plain(query):
    """SELECT * FROM (query) WHERE true: what SQLite's parser needs before ON CONFLICT, which it
    would otherwise take for a join's ON."""
    return select(*query.subquery().c).where(true())


def _least(a, b):
    return case((a < b, a), else_=b)


def _selections(ids: list[int]) -> None:
    """The options each event of the batch chose (its ``selected``), as event_selection rows: the
    callback leaves them to the roll-up, one row fewer per option in its commit."""
    rows = [{"event_id": event_id, "campaign_id": campaign_id, "question_key": key[:1024],
             "option_id": option[:128]}
            for event_id, campaign_id, selected in db.session.execute(
                select(CardEvent.id, CardEvent.campaign_id, CardEvent.selected).where(CardEvent.id.in_(ids)))
            for key, options in (selected or {}).items() for option in options]
    if rows:
        db.session.execute(insert(EventSelection), rows)


def _response_codes(ids: list[int]) -> None:
    """The batch's response codes into the ledger, valid 24 h from when each event arrived: the
    callback leaves them to the roll-up (a known code stays as it is)."""
    rows = [code_row(code, campaign_id, batch_id, userid, "callback", received_at)
            for code, campaign_id, batch_id, userid, received_at in db.session.execute(
                select(CardEvent.response_code, CardEvent.campaign_id, CardEvent.batch_id, CardEvent.from_user,
                       CardEvent.received_at).where(CardEvent.id.in_(ids), CardEvent.response_code.is_not(None)))]
    if rows:
        db.session.execute(_insert(ResponseCode).on_conflict_do_nothing(index_elements=["code"]), rows)


def _respondents(ids: list[int]) -> None:
    """Add the batch's answers to each person's first and last time and count. Seconds to the
    first answer count from the delivery in the report campaign's ledger."""
    sent = func.max(epoch(Delivery.sent_at))
    people = (_events(ids, CardEvent.from_user, func.min(CardEvent.create_time),
                      func.max(CardEvent.create_time), func.count(), sent,
                      func.min(CardEvent.create_time) - sent)
              .outerjoin(Delivery, (Delivery.campaign_id == REPORT) & (Delivery.userid == CardEvent.from_user))
              .where(CardEvent.event == REPLY).group_by(REPORT, CardEvent.from_user))
    statement = _insert(Respondent).from_select(
        ["campaign_id", "userid", "first_time", "last_time", "answers", "sent_time", "response_seconds"],
        _plain(people))
    new, old = statement.excluded, Respondent
    first, sent = _least(new.first_time, old.first_time), func.coalesce(old.sent_time, new.sent_time)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id", "userid"],
        set_={"first_time": first, "last_time": case((new.last_time > old.last_time, new.last_time),
                                                     else_=old.last_time),
              "answers": old.answers + new.answers, "sent_time": sent, "response_seconds": first - sent}))


def _current_answers(ids: list[int]) -> None:
    """Replace a person's answer to a question when the batch holds a later one (CreateTime,
    then event id), keeping every option of that one event."""
    latest_first = (CardEvent.create_time.desc(), CardEvent.id.desc())
    key = (REPORT, CardEvent.from_user, EventSelection.question_key)
    ranked = (_events(ids, CardEvent.from_user.label("userid"), EventSelection.question_key,
                      EventSelection.option_id, CardEvent.id.label("event_id"), CardEvent.create_time,
                      func.rank().over(partition_by=key, order_by=latest_first).label("rank"),
                      func.row_number().over(partition_by=key, order_by=(*latest_first, EventSelection.option_id))
                      .label("nth"))
              .join(EventSelection, EventSelection.event_id == CardEvent.id)
              .where(CardEvent.event == REPLY).subquery())
    rows = db.session.execute(select(ranked).where(ranked.c.rank == 1)).mappings().all()
    if not rows:
        return
    keys = {(r["campaign_id"], r["userid"], r["question_key"]): (r["create_time"], r["event_id"]) for r in rows}
    held, options = {}, {}
    for campaign_id, userid, question_key, option_id, first_option, create_time, event_id in db.session.execute(
            select(CurrentAnswer.campaign_id, CurrentAnswer.userid, CurrentAnswer.question_key,
                   CurrentAnswer.option_id, CurrentAnswer.first_option, CurrentAnswer.create_time,
                   CurrentAnswer.event_id)
            .where(CurrentAnswer.campaign_id.in_({k[0] for k in keys}),
                   CurrentAnswer.userid.in_({k[1] for k in keys}))):
        key = (campaign_id, userid, question_key)
        held[key] = (create_time, event_id)
        options.setdefault(key, []).append((option_id, first_option))
    newer = {k for k, when in keys.items() if k not in held or when > held[k]}
    chose, answered = Counter(), Counter()  # (campaign, question, option) -> change in n, in people
    replaced = [k for k in newer if k in held]
    if replaced:
        table = CurrentAnswer.__table__
        db.session.execute(delete(table).where(
            table.c.campaign_id == db.bindparam("c"), table.c.userid == db.bindparam("u"),
            table.c.question_key == db.bindparam("q")), [dict(zip(("c", "u", "q"), k)) for k in replaced])
        for campaign_id, userid, question_key in replaced:
            for option_id, first_option in options[(campaign_id, userid, question_key)]:
                chose[(campaign_id, question_key, option_id)] -= 1
                answered[(campaign_id, question_key, option_id)] -= bool(first_option)
    added = [{"campaign_id": r["campaign_id"], "userid": r["userid"], "question_key": r["question_key"],
              "option_id": r["option_id"], "first_option": r["nth"] == 1, "event_id": r["event_id"],
              "create_time": r["create_time"]}
             for r in rows if (r["campaign_id"], r["userid"], r["question_key"]) in newer]
    if added:
        db.session.execute(insert(CurrentAnswer), added)
        for row in added:
            chose[(row["campaign_id"], row["question_key"], row["option_id"])] += 1
            answered[(row["campaign_id"], row["question_key"], row["option_id"])] += row["first_option"]
    _add_to_tallies(chose, answered)


def _add_to_tallies(chose: Counter, answered: Counter) -> None:
    """Add the changes {(campaign, question, option): change} to option_tally's n and people."""
    changed = [{"campaign_id": key[0], "question_key": key[1], "option_id": key[2], "n": chose[key],
                "people": answered[key]} for key in sorted(chose.keys() | answered.keys())
               if chose[key] or answered[key]]
    if changed:
        statement = _insert(OptionTally)
        db.session.execute(statement.on_conflict_do_update(
            index_elements=["campaign_id", "question_key", "option_id"],
            set_={"n": OptionTally.n + statement.excluded.n,
                  "people": OptionTally.people + statement.excluded.people}), changed)


def _event_counts(ids: list[int]) -> None:
    """Clicks per button key and choices per menu key."""
    event_key = func.coalesce(CardEvent.event_key, NO_KEY)
    counts = _plain(_events(ids, CardEvent.event, event_key, func.count())
                    .where(CardEvent.event.in_((REPLY, MENU))).group_by(REPORT, CardEvent.event, event_key))
    statement = _insert(EventCount).from_select(["campaign_id", "event", "event_key", "n"], counts)
    db.session.execute(statement.on_conflict_do_update(
        index_elements=["campaign_id", "event", "event_key"],
        set_={"n": EventCount.n + statement.excluded.n}))
