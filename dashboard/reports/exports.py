"""CSV exports, streamed: rows come from a server-side cursor a chunk at a time and leave as text,
so a million rows never sit in memory. UTF-8 with a BOM first, so Excel shows Chinese correctly.

Column names, and the fixed words a person reads in cells (a delivery state, what a figure is),
are in the page's language; ``english=True`` (``?header=en``) gives the English names and words
scripts rely on. Data stays as stored (user ids, keys, option ids), times are ISO 8601 in the
campaign's zone, except that text a spreadsheet would run as a formula gets a leading ``'``
(``formula_safe``, applied to every cell in ``stream``, the one place rows are written).
"""
from __future__ import annotations

import csv
import io
import json
from contextlib import nullcontext
from datetime import datetime, timezone
from typing import Iterable, Iterator
from zoneinfo import ZoneInfo

from flask_babel import force_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l
from sqlalchemy import Text, cast, select, type_coerce

from ..extensions import db
from ..models import Campaign, CardEvent, Delivery, DirectoryUser, SendBatch
from . import people, queries
from .labels import card_labels
from .report import build

BOM = "\ufeff"
CHUNK = 2000
KINDS = ("ledger", "events", "tallies")

# Column names: the English name (what scripts read, ?header=en) is the message id.
COLUMNS = {
    "userid": _l("userid"), "name": _l("name"), "departments": _l("departments"), "state": _l("state"),
    "detail": _l("detail"), "batch": _l("batch"), "sent_at": _l("sent_at"), "event_id": _l("event_id"),
    "campaign_id": _l("campaign_id"), "time": _l("time"), "event": _l("event"), "event_key": _l("event_key"),
    "key_text": _l("key_text"), "answer": _l("answer"), "selected": _l("selected"), "section": _l("section"),
    "key": _l("key"), "text": _l("text"), "count": _l("count"), "percent": _l("percent"),
}
# A recipient's delivery state as a person reads it (English: the stored state itself).
STATES = {"pending": _l("pending"), "accepted": _l("accepted"), "invalid": _l("invalid"),
          "unlicensed": _l("unlicensed"), "failed": _l("failed"), "cancelled": _l("cancelled")}
# The figures of the tallies export: key -> what it is.
FIGURES = {"recipients": _l("recipients"), "accepted": _l("accepted"), "invalid": _l("invalid"),
           "unlicensed": _l("unlicensed"), "responders": _l("responders"),
           "response_rate": _l("response rate"), "median_seconds_to_answer": _l("median seconds to answer")}


def _header(names: list[str]) -> list[str]:
    return [str(COLUMNS[name]) for name in names]


# What makes Excel, LibreOffice or Sheets read a cell as a formula (OWASP, "CSV Injection").
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def formula_safe(value):
    """A cell as it may be opened in a spreadsheet: text starting with = + - @ tab or CR gets a
    leading ' so it shows as text instead of running (``=cmd|'/c calc'!A0``, ``@SUM(..)``).
    Decided by the Python type: only str is text (so the option name "-3" gets the quote), while
    ints and floats are numbers written as they are (-3 stays -3); anything else is left alone."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def stream(header: list[str], rows: Iterable[Iterable[list]]) -> Iterator[str]:
    """The BOM and header, then one string per chunk of rows; every cell through formula_safe."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([formula_safe(cell) for cell in header])
    yield BOM + buffer.getvalue()
    for chunk in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerows([formula_safe(cell) for cell in row] for row in chunk)
        yield buffer.getvalue()


def _chunks(statement):
    """Rows of a Core select in chunks, through a server-side cursor (no ORM row objects)."""
    result = db.session.connection().execution_options(yield_per=CHUNK).execute(statement)
    yield from result.partitions(CHUNK)


class Clock:
    """Times in a campaign's zone as text. A minute's prefix is worked out once and reused (zone
    offsets are whole minutes), so a million rows cost a dict lookup each, not a conversion."""

    SECONDS = [f"{n:02d}" for n in range(60)]

    def __init__(self, zone: str) -> None:
        self.zone, self.minutes = ZoneInfo(zone or "UTC"), {}

    def _prefix(self, key: int | str) -> str:
        utc = (datetime.fromisoformat(key).replace(tzinfo=timezone.utc) if isinstance(key, str)
               else datetime.fromtimestamp(key * 60, timezone.utc))
        prefix = self.minutes[key] = utc.astimezone(self.zone).strftime("%Y-%m-%d %H:%M:")
        return prefix

    def epoch(self, seconds: int) -> str:
        """Unix seconds (WeCom's CreateTime)."""
        minute = seconds // 60
        return (self.minutes.get(minute) or self._prefix(minute)) + self.SECONDS[seconds % 60]

    def __call__(self, value: int | str | datetime | None) -> str:
        """Unix seconds, a datetime, or the text SQLite stores (2026-03-02 01:00:05.000000)."""
        if value is None:
            return ""
        if isinstance(value, str):
            return (self.minutes.get(value[:16]) or self._prefix(value[:16])) + value[17:19]
        return self.epoch(int(value.timestamp()) if isinstance(value, datetime) else value)


def _cached(function):
    """function(raw JSON text) with its results kept: exports repeat the same few values."""
    seen: dict = {}

    def cached(raw):
        if raw not in seen:
            seen[raw] = function(json.loads(raw) if isinstance(raw, str) else raw)
        return seen[raw]

    return cached


def ledger(campaign: Campaign) -> tuple[list[str], Iterator]:
    """One row per recipient: who, delivery state and why, which call, when."""
    local, names = Clock(campaign.timezone), people.department_names()
    departments = _cached(lambda ids: " / ".join(names.get(d, str(d)) for d in ids or []))
    header = _header(["userid", "name", "departments", "state", "detail", "batch", "sent_at"])
    state = {code: str(text) for code, text in STATES.items()}
    statement = (select(Delivery.userid, DirectoryUser.name, cast(DirectoryUser.departments, Text),
                        Delivery.state, Delivery.detail, SendBatch.number,
                        type_coerce(Delivery.sent_at, Text))
                 .outerjoin(DirectoryUser, DirectoryUser.userid == Delivery.userid)
                 .outerjoin(SendBatch, SendBatch.id == Delivery.batch_id)
                 .where(Delivery.campaign_id == campaign.id)
                 .order_by(Delivery.userid))  # the unique index's order: no sort before the first row

    def rows():
        for chunk in _chunks(statement):
            yield [(u, n or "", departments(d) if d else "", state.get(s, s), detail or "", b or "", local(at))
                   for u, n, d, s, detail, b, at in chunk]

    return header, rows()


def events(campaign: Campaign) -> tuple[list[str], Iterator]:
    """One row per event of the campaign and its reminders; without names when the campaign
    reports aggregates only."""
    local, labels = Clock(campaign.timezone).epoch, card_labels(campaign.card_version.template_card)
    named = campaign.privacy != "aggregate"
    answer = _cached(lambda selected: (labels.answer(selected or {}),
                                       json.dumps(selected, ensure_ascii=False) if selected else ""))
    header = _header(["event_id", "campaign_id", "time", *(["userid", "name"] if named else []), "event",
                      "event_key", "key_text", "answer", "selected"])
    columns = (CardEvent.id, CardEvent.campaign_id, CardEvent.create_time, CardEvent.from_user,
               DirectoryUser.name, CardEvent.event, CardEvent.event_key, cast(CardEvent.selected, Text))
    text = {**labels.buttons, **labels.menu}

    def rows():  # the campaign, then each reminder, in the order the callbacks arrived (an index)
        for campaign_id in queries.family_ids(campaign):
            statement = (select(*columns).outerjoin(DirectoryUser, DirectoryUser.userid == CardEvent.from_user)
                         .where(CardEvent.campaign_id == campaign_id)
                         .order_by(CardEvent.received_at, CardEvent.id))
            for chunk in _chunks(statement):
                if named:
                    yield [(i, c, local(t), u, n or "", e, k, text.get(k, ""), *answer(s))
                           for i, c, t, u, n, e, k, s in chunk]
                else:
                    yield [(i, c, local(t), e, k, text.get(k, ""), *answer(s))
                           for i, c, t, u, n, e, k, s in chunk]

    return header, rows()


def tallies(campaign: Campaign) -> tuple[list[str], Iterator]:
    """The report's numbers: figures, then votes (latest answers), clicks and menu choices."""
    report = build(campaign)  # the same numbers the page shows
    api = report.api
    header = _header(["section", "key", "text", "count", "percent"])
    rows = [[_("figure"), key, str(FIGURES[key]), value, ""] for key, value in (
        ("recipients", api["recipients"]), ("accepted", api["accepted"]),
        ("invalid", len(api["invalid"])), ("unlicensed", len(api["unlicensed"])),
        ("responders", api["responders"]), ("response_rate", api["response_rate"]),
        ("median_seconds_to_answer", report.median_seconds if report.median_seconds is not None else ""))]
    for section in report.questions:
        rows.append([_("question %(key)s", key=section.key), "", section.title, section.total, ""])
        vote = _("vote %(key)s", key=section.key)
        rows += [[vote, r.key, r.text, r.count, "" if r.percent is None else r.percent]
                 for r in section.rows]
    for section, name in ((report.clicks, _("click")), (report.menu, _("menu"))):
        if section:
            rows += [[name, r.key, r.text, r.count, "" if r.percent is None else r.percent]
                     for r in section.rows]
    return header, iter([rows])


def export(campaign: Campaign, kind: str, english: bool = False) -> Iterator[str]:
    """The CSV of a kind, a chunk at a time; in English throughout when ``english`` (every word is
    put in place here: the rows that follow are data)."""
    with force_locale("en") if english else nullcontext():
        header, rows = {"ledger": ledger, "events": events, "tallies": tallies}[kind](campaign)
    return stream(header, rows)
