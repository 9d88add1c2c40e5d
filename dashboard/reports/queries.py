"""Read-only campaign aggregates, computed in SQL (GROUP BY), never by loading events.

A few building blocks hold the rules, and every figure is built on them:

* ``respondents(ids)``: one row per person who answered (a ``template_card_event``), with the
  first and last CreateTime and how many answers they sent;
* ``current_answers(ids)``: one row per person, question and chosen option of that person's
  *latest* answer to the question (CreateTime, then id, decides), so a changed vote counts once,
  as its last value, and a multi-select answer counts each option chosen;
* ``response_delays(ids)``: seconds from each responder's delivery to their first answer;
* ``first_answers`` (the timeline), ``has_answered``, ``responder_counts``, ``key_counts``.

They read the summaries that callback/rollup.py keeps from card_event and event_selection, keyed by the
family's root (``ids[0]``); every report brings them up to date first (``rollup.catch_up``).
The vote tallies read option_tally, the current answers already counted per option.

A reminder is a campaign whose ``parent_id`` is set and that is not a test: its answers count in
its parent's report, so the figures read the events of the campaign *family* (root + reminders).
Test sends are separate campaigns (``is_test``) and never part of a family or a list.
"""
from __future__ import annotations

from datetime import datetime, timedelta
from functools import cache, lru_cache
from zoneinfo import ZoneInfo

from sqlalchemy import bindparam, exists, func, literal, select, true, union_all

from ..campaigns.families import family_ids, is_reminder, reminders, root  # noqa: F401
from ..campaigns.queries import can_read  # noqa: F401  (the rule visible_to applies in SQL)
from ..extensions import db
from ..models import (Campaign, CardEvent, CurrentAnswer, Delivery, EventCount, OptionTally, Respondent,
                      utcnow)
from ..models.campaign import DELIVERY_STATES
from ..models.event import MENU, REPLY

LIVE_FOR = timedelta(days=1)  # a sent campaign's report keeps refreshing this long


# --- access ------------------------------------------------------------------------------------


def visible_to(user):
    """Managers (and admins) read every campaign's report; staff those they created
    (campaigns.queries.can_read, as a condition on reportable campaigns)."""
    return true() if user.has_role("manager") else Campaign.created_by_id == user.id


def reportable():
    """Campaigns that have a report of their own: not test sends, not reminders."""
    return Campaign.is_test.is_(False) & Campaign.parent_id.is_(None)


def is_live(campaign: Campaign, now: datetime | None = None) -> bool:
    """Sending, or finished less than a day ago: answers are still coming in."""
    now = now or utcnow()
    if campaign.status in ("sending", "paused"):
        return True
    return campaign.status in ("sent", "partially_sent") and bool(
        campaign.finished_at and now - campaign.finished_at < LIVE_FOR)


def report_list(user, page: int):
    """Reportable campaigns the user may read, newest first (drafts have nothing to report)."""
    query = (select(Campaign).where(reportable(), visible_to(user),
                                    Campaign.status.not_in(("draft", "awaiting_approval")))
             .order_by(Campaign.created_at.desc()))
    return db.paginate(query, page=page, per_page=25, error_out=False)


def ledger_counts(campaign_ids: list[int]) -> dict[int, dict[str, int]]:
    """{campaign id: {state: n}} for a page of campaigns."""
    out: dict[int, dict[str, int]] = {cid: {} for cid in campaign_ids}
    for cid, state, n in db.session.execute(
            select(Delivery.campaign_id, Delivery.state, func.count())
            .where(Delivery.campaign_id.in_(campaign_ids))
            .group_by(Delivery.campaign_id, Delivery.state)):
        out[cid][state] = n
    return out


# --- the building blocks -----------------------------------------------------------------------


def respondents(ids: list[int], userids: list[str] | None = None):
    """(userid, first_time, last_time, answers): one row per person who answered."""
    query = (select(Respondent.userid, Respondent.first_time, Respondent.last_time, Respondent.answers)
             .where(Respondent.campaign_id == ids[0]))
    return query if userids is None else query.where(Respondent.userid.in_(userids))


def current_answers(ids: list[int], userids: list[str] | None = None):
    """(userid, question_key, option_id, create_time, first_option): the options of each person's
    latest answer to each question; first_option marks one row per person and question, so people
    per question are a SUM."""
    query = (select(CurrentAnswer.userid, CurrentAnswer.question_key, CurrentAnswer.option_id,
                    CurrentAnswer.create_time, CurrentAnswer.first_option)
             .where(CurrentAnswer.campaign_id == ids[0]))
    return query if userids is None else query.where(CurrentAnswer.userid.in_(userids))


def response_delays(ids: list[int]):
    """(delay,): seconds from each responder's delivery (in the root's ledger) to their first answer."""
    return (select(Respondent.response_seconds.label("delay"))
            .where(Respondent.campaign_id == ids[0], Respondent.response_seconds.is_not(None)))


def first_answers(ids: list[int], origin: int, seconds: int, buckets: int) -> dict[int, int]:
    """{bucket: people whose first answer falls in it}, buckets of ``seconds`` from ``origin``
    (Unix time); anything earlier counts in bucket 0, anything later in the last of ``buckets``."""
    buckets = max(buckets, 1)
    bounds = {f"from{index}": origin + index * seconds for index in range(1, buckets)}
    counts = db.session.execute(_bucket_counts(buckets), {"campaign": ids[0], **bounds})
    return {bucket: n for bucket, n in counts if n}


@lru_cache(maxsize=64)
def _bucket_counts(buckets: int):
    """One index range count per bucket (the first and last open-ended), built once per number
    of buckets: building and compiling the arms cost more than running them."""
    def arm(index: int):
        query = select(literal(index), func.count()).where(Respondent.campaign_id == bindparam("campaign"))
        if index:
            query = query.where(Respondent.first_time >= bindparam(f"from{index}"))
        if index < buckets - 1:
            query = query.where(Respondent.first_time < bindparam(f"from{index + 1}"))
        return query
    return union_all(*map(arm, range(buckets)))


def has_answered(ids: list[int], userid):
    """A condition: the person (a userid column) has answered the campaign family."""
    return exists().where(Respondent.campaign_id == ids[0], Respondent.userid == userid)


def events_page(campaign: Campaign, page: int, per_page: int):
    """The events of a campaign and its reminders, oldest first, a page at a time (JSON API)."""
    query = (select(CardEvent).where(CardEvent.campaign_id.in_(family_ids(campaign)))
             .order_by(CardEvent.id))
    return db.paginate(query, page=page, per_page=per_page, error_out=False, max_per_page=per_page)


def responder_counts(roots: list[int]) -> dict[int, int]:
    """{campaign id: people who answered it or one of its reminders}, for a list of campaigns."""
    if not roots:
        return {}
    return dict(db.session.execute(select(Respondent.campaign_id, func.count())
                                   .where(Respondent.campaign_id.in_(roots))
                                   .group_by(Respondent.campaign_id)).all())


@cache
def _key_counts_statement():
    return (select(EventCount.event, EventCount.event_key, EventCount.n)
            .where(EventCount.campaign_id == bindparam("campaign")).order_by(EventCount.event_key))


def key_counts(ids: list[int]) -> dict[str, dict[str, int]]:
    """{REPLY: clicks per button key, MENU: choices per menu key}, every event counted."""
    out: dict[str, dict[str, int]] = {REPLY: {}, MENU: {}}
    for event, key, n in db.session.execute(_key_counts_statement(), {"campaign": ids[0]}):
        out[event][key or None] = n
    return out


# --- figures -----------------------------------------------------------------------------------
# The report's statements are built once (functools.cache) and run with the campaign as a bound
# parameter: building and compiling them each time cost several times what the database spends
# running them (bench/bench_reports.py).


LISTED = ("invalid", "unlicensed")  # states whose userids the report lists


@cache
def _ledger_statements():
    campaign = bindparam("campaign")
    counts = union_all(*(  # one index range count per state: twice as fast as GROUP BY
        select(literal(state), func.count()).where(Delivery.campaign_id == campaign, Delivery.state == state)
        for state in DELIVERY_STATES))
    lists = select(Delivery.state, Delivery.userid).where(
        Delivery.campaign_id == campaign, Delivery.state.in_(LISTED))
    return counts, lists


def ledger(campaign: Campaign) -> dict:
    """Recipients by delivery state, and the ids WeCom reported invalid or unlicensed."""
    counts, listed = _ledger_statements()
    params = {"campaign": campaign.id}
    states = {state: n for state, n in db.session.execute(counts, params) if n}
    lists: dict[str, list[str]] = {state: [] for state in LISTED}
    for state, userid in db.session.execute(listed, params):
        lists[state].append(userid)
    for userids in lists.values():
        userids.sort()  # a few ids, sorted here: ORDER BY would make SQLite walk the whole ledger
    return {"recipients": sum(states.values()), "states": states, **lists}


@cache
def _response_statements():
    ids = [bindparam("campaign")]
    people = respondents(ids).subquery("responder_rows")
    delays = response_delays(ids).subquery("delays")
    counts = select(func.count(), func.count().filter(people.c.answers > 1),
                    select(func.count()).select_from(delays).scalar_subquery())
    middle = (response_delays(ids).order_by(Respondent.response_seconds)
              .limit(bindparam("take")).offset(bindparam("skip")).subquery("middle"))
    return counts, select(func.avg(middle.c.delay))


def response_times(ids: list[int]) -> dict:
    """Responders, people who answered more than once, and the median seconds from a person's
    delivery to their first answer (the middle one, or the mean of the middle two)."""
    counts, median_of = _response_statements()
    responders, changed, count = db.session.execute(counts, {"campaign": ids[0]}).one()
    median = db.session.scalar(median_of, {"campaign": ids[0], "take": 2 - count % 2,
                                           "skip": (count - 1) // 2}) if count else None
    return {"responders": responders, "changed": changed,
            "median_seconds": None if median is None else round(median)}


@cache
def _votes_statement():
    return (select(OptionTally.question_key, OptionTally.option_id, OptionTally.n, OptionTally.people)
            .where(OptionTally.campaign_id == bindparam("campaign"), OptionTally.n > 0)
            .order_by(OptionTally.question_key, OptionTally.option_id))


def votes(ids: list[int]) -> tuple[dict[str, dict[str, int]], dict[str, int]]:
    """({question: {option: n}}, {question: people who answered it}), latest answers only: the
    current answers counted as callback/rollup.py keeps them (option_tally), a few rows however many people."""
    tallies: dict[str, dict[str, int]] = {}
    answered: dict[str, int] = {}
    for question, option, n, people in db.session.execute(_votes_statement(), {"campaign": ids[0]}):
        tallies.setdefault(question, {})[option] = n
        answered[question] = answered.get(question, 0) + people
    return tallies, answered


BUCKETS = (  # (campaign age up to, bucket): at most about 30 points on the chart
    (timedelta(hours=6), timedelta(minutes=15)), (timedelta(days=1), timedelta(hours=1)),
    (timedelta(days=3), timedelta(hours=3)), (timedelta(days=30), timedelta(days=1)),
    (timedelta(days=210), timedelta(days=7)))


def bucket_size(span: timedelta) -> timedelta:
    return next((size for limit, size in BUCKETS if span <= limit), timedelta(days=30))


def timeline(campaign: Campaign, ids: list[int], now: datetime | None = None) -> list[dict]:
    """New and total responders per time bucket (in the campaign's zone) since it started."""
    now = now or utcnow()
    start = (campaign.started_at or campaign.created_at).astimezone(ZoneInfo(campaign.timezone))
    size = bucket_size(now - start)
    seconds = int(size.total_seconds())
    origin = start.replace(second=0, microsecond=0, minute=start.minute // 15 * 15)
    if size >= timedelta(hours=1):
        origin = origin.replace(minute=0)
    if size >= timedelta(days=1):
        origin = origin.replace(hour=0)
    first = int(origin.timestamp())
    counts = first_answers(ids, first, seconds, int(now.timestamp() - first) // seconds + 1)
    last = max([int(now.timestamp() - first) // seconds, *counts])
    fmt = "%m-%d" if size >= timedelta(days=1) else "%m-%d %H:%M"
    rows, total = [], 0
    for index in range(last + 1):
        total += counts.get(index, 0)
        label = (origin + index * size).strftime(fmt)
        rows.append({"label": label, "new": counts.get(index, 0), "total": total})
    return rows


def answer_span(ids: list[int]) -> tuple[int | None, int | None]:
    """The first and the last first answer (Unix time) of the family, None when nobody answered."""
    first, last = db.session.execute(
        select(func.min(Respondent.first_time), func.max(Respondent.first_time))
        .where(Respondent.campaign_id == ids[0])).one()
    return first, last


def per_minute(campaign: Campaign, ids: list[int], first: int, last: int) -> list[dict]:
    """New and total responders per minute from the first answer's minute to the last's, as
    timeline() counts them, for a campaign whose answers came within a few minutes."""
    origin = first - first % 60
    counts = first_answers(ids, origin, 60, (last - origin) // 60 + 1)
    zone = ZoneInfo(campaign.timezone)
    rows, total = [], 0
    for index in range((last - origin) // 60 + 1):
        total += counts.get(index, 0)
        label = datetime.fromtimestamp(origin + 60 * index, zone).strftime("%H:%M")
        rows.append({"label": label, "new": counts.get(index, 0), "total": total})
    return rows


def campaign_report(campaign: Campaign) -> dict:
    """The report in the JSON API's shape; answers to reminders count, test sends never do."""
    campaign = root(campaign)
    return report_figures(campaign, family_ids(campaign))["api"]


def report_figures(campaign: Campaign, ids: list[int]) -> dict:
    """Everything the report page counts: the API shape, states, per-question totals, times."""
    counts = ledger(campaign)
    times = response_times(ids)
    tallies, answered = votes(ids)
    keys = key_counts(ids)
    accepted = counts["states"].get("accepted", 0)
    api = {
        "recipients": counts["recipients"], "accepted": accepted,
        "invalid": counts["invalid"], "unlicensed": counts["unlicensed"],
        "responders": times["responders"],
        "response_rate": round(times["responders"] / accepted, 4) if accepted else 0.0,
        "clicks": keys[REPLY], "votes": tallies, "menu": keys[MENU],
    }
    return {"api": api, "states": counts["states"], "answered": answered, **times}
