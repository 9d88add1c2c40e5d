"""Server-rendered SVG charts: the geometry is computed here, templates/reports/_charts.html draws it.

No JavaScript and no third-party asset, so the charts work on an intranet and under a strict CSP;
every chart is followed by a table of the same numbers. The drawings are 360 units wide with 13-unit
text and labels above the bars, so that on a phone (about 320 px of card) text stays >= 11 px;
reports.css caps their width so that they do not grow huge on a desktop.
"""
from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 360
VALUE_WIDTH = 84  # room right of the longest bar for "1,234 · 56.7%"
BAR_HEIGHT = 16
ROW_HEIGHT = 42  # label line, bar, gap
ROW_GAP = 6
LABEL_CHARS = 28
MAX_TICKS = 3  # x-axis labels of the time charts: "03-02 09:15" is 11 characters


@dataclass
class Bar:
    label: str
    value: int
    percent: float | None
    y: int
    width: float
    leading: bool = False


@dataclass
class BarChart:
    bars: list[Bar]
    height: int
    width: int = WIDTH
    bar_height: int = BAR_HEIGHT
    label_chars: int = LABEL_CHARS


def bar_chart(rows: list[tuple]) -> BarChart:
    """Horizontal bars, each under its label, for (label, value, percent or None[, leading]),
    scaled to the largest value."""
    top = max((row[1] for row in rows), default=0) or 1
    room = WIDTH - VALUE_WIDTH
    bars = [Bar(row[0], row[1], row[2], i * ROW_HEIGHT, round(room * row[1] / top, 1), *row[3:4])
            for i, row in enumerate(rows)]
    return BarChart(bars, max(len(bars), 1) * ROW_HEIGHT - ROW_GAP)


@dataclass
class Point:
    label: str
    value: int
    x: float
    y: float


@dataclass
class LineChart:
    points: list[Point]
    path: str
    top: int  # the value at the top of the y axis
    width: int = WIDTH
    height: int = 200
    left: int = 40
    bottom: int = 24
    ticks: list[Point] = field(default_factory=list)  # x-axis labels (a few of the points)


def line_chart(series: list[tuple[str, int]], height: int = 200) -> LineChart:
    """One line through (label, value) points spaced evenly, y from 0 to a round maximum."""
    left, right, top_pad, bottom = 40, 40, 14, 24
    top = _round_up(max((value for _, value in series), default=0))
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    step = plot_w / max(len(series) - 1, 1)
    points = [Point(label, value, round(left + i * step, 1),
                    round(top_pad + plot_h * (1 - value / top), 1))
              for i, (label, value) in enumerate(series)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    return LineChart(points, path, top, height=height, left=left, bottom=bottom,
                     ticks=_ticks(points))


@dataclass
class Column:
    label: str
    value: int
    x: float
    y: float
    width: float
    height: float


@dataclass
class ColumnChart:
    columns: list[Column]
    top: int
    ticks: list[Column]
    show_values: bool  # the count above each column, while they are wide enough for it
    width: int = WIDTH
    height: int = 180
    left: int = 40
    bottom: int = 24


def column_chart(series: list[tuple[str, int]], height: int = 180) -> ColumnChart:
    """Vertical bars for (label, value), e.g. answers per minute of a short campaign."""
    left, right, top_pad, bottom = 40, 12, 20, 24
    top = _round_up(max((value for _, value in series), default=0))
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    slot = plot_w / max(len(series), 1)
    columns = [Column(label, value, round(left + i * slot + slot * 0.15, 1),
                      round(top_pad + plot_h * (1 - value / top), 1), round(slot * 0.7, 1),
                      round(plot_h * value / top, 1))
               for i, (label, value) in enumerate(series)]
    return ColumnChart(columns, top, _ticks(columns), show_values=slot >= 22, height=height,
                       left=left, bottom=bottom)


def _ticks(items: list) -> list:
    """At most MAX_TICKS of the items to label on the x axis, the first and the last among them."""
    if len(items) <= MAX_TICKS:
        return items
    step = (len(items) - 1) / (MAX_TICKS - 1)
    return [items[round(i * step)] for i in range(MAX_TICKS)]


def _round_up(value: int) -> int:
    """1, 2, 5, 10, 20, 50 ... at least value, so the axis ends on a round number."""
    top = 1
    while top < value:
        for factor in (2, 5 / 2, 2):
            top = int(top * factor)
            if top >= value:
                break
    return top
