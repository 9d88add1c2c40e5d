"""The campaign report as the page shows it: figures, labelled tallies with their charts.

queries.py counts keys and ids; this module puts the card's words on them and lays out the
charts, so the templates only display.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from zoneinfo import ZoneInfo

from flask_babel import gettext as _
from flask_babel import ngettext

from ..i18n import format_time
from ..models import Campaign
from . import charts, queries
from .labels import CardLabels, card_labels


@dataclass
class Row:
    key: str
    text: str
    count: int
    percent: float | None
    leading: bool = False  # the most chosen (several when tied)


@dataclass
class Section:
    key: str
    title: str
    rows: list[Row]
    total: int  # people who answered the question, or events for clicks and menu
    chart: charts.BarChart
    tie: bool = False
    note: str = ""


@dataclass
class Report:
    campaign: Campaign
    api: dict
    states: dict
    median_seconds: int | None
    changed: int
    questions: list[Section]
    clicks: Section | None
    menu: Section | None
    timeline: list[dict]
    timeline_chart: charts.LineChart | charts.ColumnChart | None
    timeline_note: str = ""  # instead of a chart while a handful of people have answered
    reminders: list[Campaign] = field(default_factory=list)


def _section(key: str, title: str, counts: dict[str, int], names: dict[str, str], total: int,
             note: str = "") -> Section:
    """Every option the card offers (zeros too), then any key the card does not name."""
    keys = list(names) + sorted(k for k in counts if k not in names)
    top = max(counts.values(), default=0)
    rows = [Row(k, names.get(k, k), counts.get(k, 0),
                round(100 * counts.get(k, 0) / total, 1) if total else None,
                leading=bool(top) and counts.get(k, 0) == top) for k in keys]
    chart = charts.bar_chart([(row.text, row.count, row.percent, row.leading) for row in rows])
    return Section(key, title, rows, total, chart, tie=sum(r.leading for r in rows) > 1, note=note)


def question_sections(labels: CardLabels, votes: dict, answered: dict) -> list[Section]:
    keys = list(labels.questions) + sorted(k for k in votes if k not in labels.questions)
    sections = []
    for key in keys:
        question = labels.questions.get(key)
        multiple = question.multiple if question else False
        note = _("Several options may be chosen, so the percentages add up to more than 100.") if multiple else ""
        sections.append(_section(key, labels.question(key), votes.get(key, {}),
                                 question.options if question else {}, answered.get(key, 0), note))
    return sections


def build(campaign: Campaign) -> Report:
    """The report of a campaign (a root: reminders' answers included)."""
    reminders = queries.reminders(campaign)
    ids = [campaign.id, *(reminder.id for reminder in reminders)]  # queries.family_ids, from the list
    figures = queries.report_figures(campaign, ids)
    api = figures["api"]
    labels = card_labels(campaign.card_version.template_card if campaign.card_version else None)
    clicks = api["clicks"]
    menu = api["menu"]
    timeline, timeline_chart, timeline_note = _timeline(campaign, ids, api["responders"])
    return Report(
        campaign=campaign, api=api, states=figures["states"],
        median_seconds=figures["median_seconds"], changed=figures["changed"],
        questions=question_sections(labels, api["votes"], figures["answered"]),
        clicks=_section("clicks", _("Clicks per button"), clicks, labels.buttons, sum(clicks.values()))
        if clicks or labels.buttons else None,
        menu=_section("menu", _("Menu choices"), menu, labels.menu, sum(menu.values()))
        if menu or labels.menu else None,
        timeline=timeline, timeline_chart=timeline_chart, timeline_note=timeline_note,
        reminders=reminders,
    )


FEW_ANSWERS = 5  # under this, a sentence says who answered when: a chart would be a dot or two
SHORT_SPAN = 30 * 60  # answers within this many seconds: one bar per minute


def _timeline(campaign: Campaign, ids: list[int], responders: int):
    """The timeline's rows, its chart and its sentence: a sentence under FEW_ANSWERS answers,
    per-minute bars when the answers came within SHORT_SPAN, else the running total as a line."""
    first, last = queries.answer_span(ids)
    if responders < FEW_ANSWERS:
        return [], None, _answers_sentence(campaign, responders, first, last)
    if last - first <= SHORT_SPAN:
        rows = queries.per_minute(campaign, ids, first, last)
        return rows, charts.column_chart([(row["label"], row["new"]) for row in rows]), ""
    rows = queries.timeline(campaign, ids)
    return rows, charts.line_chart([(row["label"], row["total"]) for row in rows]), ""


def _answers_sentence(campaign: Campaign, responders: int, first: int | None,
                      last: int | None) -> str:
    if not responders or first is None or last is None:
        return _("Nobody has answered yet.")
    start, end = (datetime.fromtimestamp(t, timezone.utc) for t in (first, last))
    shown = format_time(start, "short", campaign.timezone)
    if first == last:
        return ngettext("%(num)s person answered, at %(time)s.",
                        "%(num)s people answered, at %(time)s.", responders, time=shown)
    zone = ZoneInfo(campaign.timezone)
    same_day = start.astimezone(zone).date() == end.astimezone(zone).date()
    until = format_time(end, "time" if same_day else "short", campaign.timezone)
    return ngettext("%(num)s person answered, %(first)s–%(last)s.",
                    "%(num)s people answered, %(first)s–%(last)s.", responders,
                    first=shown, last=until)
