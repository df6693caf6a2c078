"""A line chart computed on the server, for the console's overview: the coordinates of
an inline SVG (polylines, axis ticks, date labels), so the page needs no JavaScript
and no chart library. The template draws it; screen readers get the data table."""

from __future__ import annotations

import dataclasses
import datetime as dt
import typing as t

WIDTH = 640
HEIGHT = 240
LEFT = 44
"""Room for the value labels, left of the plot."""
RIGHT = 12
TOP = 12
BOTTOM = 28
"""Room for the date labels, under the plot."""
DATE_LABELS = 6
"""At most this many dates are written under the axis."""


@dataclasses.dataclass(frozen=True)
class Line:
    """One series: its name (a CSS class), its points as SVG wants them
    (``"x,y x,y"``), and the same points as pairs, for markers."""

    name: str
    points: str
    coordinates: list[tuple[float, float]]


@dataclasses.dataclass(frozen=True)
class Tick:
    """A label at ``position`` along its axis (y for values, x for dates)."""

    position: float
    text: str
    anchor: str = "middle"
    """Which end of the text is at ``position`` (SVG's ``text-anchor``): the dates at
    the ends of the axis stay inside the chart."""


@dataclasses.dataclass(frozen=True)
class Chart:
    width: int
    height: int
    left: int
    right: float
    """The x of the plot's right edge."""
    top: int
    bottom: float
    """The y of the plot's baseline (zero)."""
    lines: list[Line]
    values: list[Tick]
    dates: list[Tick]
    peak: int
    """The top of the value axis: a round number at least the largest value."""


def round_peak(largest: int) -> int:
    """The smallest of 1, 2, 5, 10, 20, 50... that is at least ``largest`` (at least 1,
    so an all-zero chart still has a scale)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= largest:
                return step * factor
        step *= 10


def value_steps(peak: int) -> list[int]:
    """The values the axis names, from zero to ``peak`` (1, 2 or 5 times a power of
    ten) in whole, even steps: 0-5-10, 0-10-20, 0-1-2-3-4-5."""
    digits = len(str(peak)) - 1
    step = 10**digits if str(peak)[0] in "25" else max(1, 10**digits // 2)
    return list(range(0, peak + 1, step))


def _anchor(index: int, count: int) -> str:
    if count > 1 and index == 0:
        return "start"
    return "end" if count > 1 and index == count - 1 else "middle"


def line_chart(
    days: t.Sequence[dt.date],
    series: t.Mapping[str, t.Sequence[int]],
    *,
    width: int = WIDTH,
    height: int = HEIGHT,
) -> Chart:
    """The chart of ``series`` (name: one value per day of ``days``, oldest first):
    days spread evenly across the width, values from zero at the baseline up to a
    round peak, three value ticks and at most :data:`DATE_LABELS` dates."""
    for name, values in series.items():
        if len(values) != len(days):
            raise ValueError(f"{name} has {len(values)} values for {len(days)} days")
    right, bottom = width - RIGHT, height - BOTTOM
    largest = max((value for values in series.values() for value in values), default=0)
    peak = round_peak(largest)

    def x(index: int) -> float:
        if len(days) == 1:
            return round((LEFT + right) / 2, 1)
        return round(LEFT + (right - LEFT) * index / (len(days) - 1), 1)

    def y(value: int) -> float:
        return round(bottom - (bottom - TOP) * value / peak, 1)

    lines = []
    for name, values in series.items():
        coordinates = [(x(index), y(value)) for index, value in enumerate(values)]
        points = " ".join(f"{cx:g},{cy:g}" for cx, cy in coordinates)
        lines.append(Line(name, points, coordinates))
    value_ticks = [Tick(y(tick), str(tick)) for tick in value_steps(peak)]
    every = max(1, -(-len(days) // DATE_LABELS))  # ceiling division
    shown = list(range(0, len(days), every))
    last = len(days) - 1
    if days and shown[-1] != last:  # the last day is named, a whole step from the one before
        if last - shown[-1] < every and len(shown) > 1:
            shown.pop()
        shown.append(last)
    dates = [
        Tick(x(index), days[index].strftime("%m-%d"), _anchor(index, len(days))) for index in shown
    ]
    return Chart(width, height, LEFT, right, TOP, bottom, lines, value_ticks, dates, peak)
