"""Server-rendered SVG charts: the geometry is computed here, templates/reports/_charts.html draws it.

No JavaScript and no third-party asset, so the charts work on an intranet and under a strict CSP;
every chart is followed by a table of the same numbers.
"""
from __future__ import annotations

from dataclasses import dataclass, field

WIDTH = 640
LABEL_WIDTH = 170
VALUE_WIDTH = 90
BAR_HEIGHT = 22
BAR_GAP = 8


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
    label_width: int = LABEL_WIDTH


def bar_chart(rows: list[tuple]) -> BarChart:
    """Horizontal bars for (label, value, percent or None[, leading]), scaled to the largest value."""
    top = max((row[1] for row in rows), default=0) or 1
    room = WIDTH - LABEL_WIDTH - VALUE_WIDTH
    bars = [Bar(row[0], row[1], row[2], i * (BAR_HEIGHT + BAR_GAP), round(room * row[1] / top, 1),
                *row[3:4]) for i, row in enumerate(rows)]
    return BarChart(bars, max(len(bars) * (BAR_HEIGHT + BAR_GAP) - BAR_GAP, BAR_HEIGHT))


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
    height: int = 220
    left: int = 48
    bottom: int = 24
    ticks: list[Point] = field(default_factory=list)  # x-axis labels (a few of the points)


def line_chart(series: list[tuple[str, int]], height: int = 220) -> LineChart:
    """One line through (label, value) points spaced evenly, y from 0 to a round maximum."""
    left, right, top_pad, bottom = 48, 12, 12, 24
    top = _round_up(max((value for _, value in series), default=0))
    plot_w, plot_h = WIDTH - left - right, height - top_pad - bottom
    step = plot_w / max(len(series) - 1, 1)
    points = [Point(label, value, round(left + i * step, 1),
                    round(top_pad + plot_h * (1 - value / top), 1))
              for i, (label, value) in enumerate(series)]
    path = " ".join(f"{'M' if i == 0 else 'L'}{p.x},{p.y}" for i, p in enumerate(points))
    every = max(1, round(len(points) / 6))
    ticks = [p for i, p in enumerate(points) if i % every == 0 or i == len(points) - 1]
    return LineChart(points, path, top, height=height, left=left, bottom=bottom, ticks=ticks)


def _round_up(value: int) -> int:
    """1, 2, 5, 10, 20, 50 ... at least value, so the axis ends on a round number."""
    top = 1
    while top < value:
        for factor in (2, 5 / 2, 2):
            top = int(top * factor)
            if top >= value:
                break
    return top
