"""The conversations report (消息 统计): messages a day, the rules matched most, the members who
wrote, and the words of unanswered messages (ideas for new rules); each table also as a CSV,
written by the campaign reports' exporter (a BOM for Excel, formula-safe cells)."""
from __future__ import annotations

from contextlib import nullcontext
from typing import Callable

from flask import Response, abort, current_app, render_template, request, stream_with_context
from flask_babel import force_locale
from flask_babel import lazy_gettext as _l

from ..auth import role_required
from ..reports import exports
from . import stats
from .blueprint import READERS, bp

DAYS = 30  # the period shown when none is asked for
PERIODS = (7, 30, 90, 365)  # the periods offered on the page (any 1..366 may be asked for)
ON_PAGE = 20  # rows of each table on the page; the CSV has them all
BAR_MIN = 2  # percent of the chart's height a day with messages shows at least, so it is seen

# CSV column names: the English name (?header=en, what scripts read) is the message id.
COLUMNS = {
    "date": _l("date"), "messages": _l("messages"), "answered": _l("answered"),
    "unanswered": _l("unanswered"), "rule_id": _l("rule_id"), "rule": _l("rule"), "times": _l("times"),
    "last_matched": _l("last_matched"), "userid": _l("userid"), "name": _l("name"),
    "last_message": _l("last_message"), "word": _l("word"), "unanswered_messages": _l("unanswered_messages"),
}


@bp.route("/report")
@role_required(*READERS)
def report():
    period = _period()
    days = stats.daily(period)
    return render_template("conversations/report.html", period=period, periods=PERIODS, days=days,
                           chart=bars(days), writer_count=stats.writer_count(period),
                           rules=stats.top_rules(period, ON_PAGE), writers=stats.writers(period, ON_PAGE),
                           words=stats.frequent_words(stats.unanswered_texts(period), ON_PAGE))


@bp.route("/report.csv")
@role_required(*READERS)
def report_csv():
    """One table of the report as CSV (?kind=daily|rules|members|words, ?days=); in the page's
    language, or with English column names for scripts (?header=en)."""
    table = TABLES.get(request.args.get("kind", "daily"))
    if table is None:
        abort(404)
    period = _period()
    with force_locale("en") if request.args.get("header") == "en" else nullcontext():
        header, rows = table(period)
    name = f"conversations-{request.args.get('kind', 'daily')}-{period.days}d.csv"
    return Response(stream_with_context(exports.stream(header, [rows])), mimetype="text/csv",
                    headers={"Content-Disposition": f'attachment; filename="{name}"'})


def _period() -> stats.Period:
    return stats.period(request.args.get("days", DAYS, type=int), current_app.config["TIMEZONE"])


def bars(days: list[stats.Day]) -> list[tuple[stats.Day, int]]:
    """Each day with its column's height in percent of the busiest day's."""
    top = max((day.messages for day in days), default=0) or 1
    return [(day, max(round(100 * day.messages / top), BAR_MIN) if day.messages else 0) for day in days]


def _header(*names: str) -> list[str]:
    return [str(COLUMNS[name]) for name in names]


def daily_table(period: stats.Period) -> tuple[list[str], list[list]]:
    return (_header("date", "messages", "answered", "unanswered"),
            [[day.date.isoformat(), day.messages, day.answered, day.unanswered] for day in stats.daily(period)])


def rules_table(period: stats.Period) -> tuple[list[str], list[list]]:
    local = exports.Clock(period.zone)
    return (_header("rule_id", "rule", "times", "last_matched"),
            [[use.rule_id, use.name, use.times, local(use.last)] for use in stats.top_rules(period)])


def members_table(period: stats.Period) -> tuple[list[str], list[list]]:
    local = exports.Clock(period.zone)
    return (_header("userid", "name", "messages", "last_message"),
            [[w.userid, w.name or "", w.messages, local(w.last)] for w in stats.writers(period)])


def words_table(period: stats.Period) -> tuple[list[str], list[list]]:
    return (_header("word", "unanswered_messages"),
            [[w.word, w.messages] for w in stats.frequent_words(stats.unanswered_texts(period))])


TABLES: dict[str, Callable[[stats.Period], tuple[list[str], list[list]]]] = {
    "daily": daily_table, "rules": rules_table, "members": members_table, "words": words_table}
