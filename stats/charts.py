"""Charts as server-drawn SVG (no script, no inline style: the public pages'
CSP allows neither): the geometry is computed here, the template writes the
shapes with presentation attributes. Every chart stands beside a table with
the same figures (stats.tables)."""

from __future__ import annotations

from dataclasses import dataclass, field

from .figures import Figures, Row
from .tables import month_label

RECEIVED_COLOUR = "#1d4f91"
FIXED_COLOUR = "#1a7f37"
RESPONSE_COLOUR = "#1d4f91"
FIX_COLOUR = "#8a4b00"


def nice_ceiling(value: int) -> int:
    """The smallest of 1, 2, 5 × 10^n at or above ``value`` (at least 1)."""
    step = 1
    while True:
        for factor in (1, 2, 5):
            if step * factor >= value:
                return step * factor
        step *= 10


@dataclass
class Bar:
    x: float
    y: float
    width: float
    height: float
    colour: str
    title: str


@dataclass
class Label:
    x: float
    y: float
    text: str
    anchor: str = "middle"


@dataclass
class Chart:
    width: int
    height: int
    bars: list[Bar] = field(default_factory=list)
    labels: list[Label] = field(default_factory=list)
    # Horizontal grid lines: (y, label).
    grid: list[Label] = field(default_factory=list)
    plot_left: float = 0
    plot_right: float = 0
    empty: bool = False


def month_chart(figures: Figures, *, received_label: str, fixed_label: str) -> Chart:
    """Received and fixed (of those received) per month: a pair of columns each."""
    rows: list[Row] = figures.rows("received_month")
    top = nice_ceiling(max((r.received for r in rows), default=0))
    left, right, upper, lower = 48, 8, 12, 40
    slot = 36
    width = max(320, left + right + slot * len(rows))
    height = 240
    chart = Chart(width=width, height=height, plot_left=left, plot_right=width - right)
    chart.empty = not any(r.received for r in rows)
    plot = height - upper - lower
    base = upper + plot
    for fraction in (0, 0.5, 1):
        chart.grid.append(
            Label(
                x=left - 6,
                y=base - plot * fraction,
                text=f"{round(top * fraction):,}".replace(",", "\u00a0"),
                anchor="end",
            )
        )
    every = 1 if len(rows) <= 12 else 3 if len(rows) <= 36 else 6
    for index, row in enumerate(rows):
        x = left + slot * index
        for offset, value, colour, name in (
            (4, row.received, RECEIVED_COLOUR, received_label),
            (18, row.fixed, FIXED_COLOUR, fixed_label),
        ):
            height_of = plot * value / top
            chart.bars.append(
                Bar(
                    x=x + offset,
                    y=base - height_of,
                    width=13,
                    height=height_of,
                    colour=colour,
                    title=f"{month_label(row.key)}: {name} {value}",
                )
            )
        if index % every == 0:
            chart.labels.append(
                Label(x=x + slot / 2, y=base + 16, text=row.key.strftime("%m/%y"))
            )
    return chart


def promise_chart(figures: Figures, *, response_label: str, fix_label: str) -> Chart:
    """Per category, the share of response and fix promises kept: two
    horizontal bars each, 0–100 %."""
    rows = [
        r
        for r in figures.rows("category")
        if r.response_kept_share is not None or r.fix_kept_share is not None
    ]
    left, right, upper = 170, 16, 24
    band = 34
    width = 560
    height = upper + band * max(1, len(rows)) + 8
    chart = Chart(width=width, height=height, plot_left=left, plot_right=width - right)
    chart.empty = not rows
    span = width - left - right
    for fraction in (0, 0.5, 1):
        chart.grid.append(
            Label(
                x=left + span * fraction, y=upper - 8, text=f"{round(fraction * 100)} %"
            )
        )
    for index, row in enumerate(rows):
        y = upper + band * index
        label = row.label if len(row.label) <= 26 else row.label[:25] + "…"
        chart.labels.append(Label(x=left - 6, y=y + 18, text=label, anchor="end"))
        for offset, value, colour, name in (
            (3, row.response_kept_share, RESPONSE_COLOUR, response_label),
            (16, row.fix_kept_share, FIX_COLOUR, fix_label),
        ):
            if value is None:
                continue
            chart.bars.append(
                Bar(
                    x=left,
                    y=y + offset,
                    width=max(span * value, 1),
                    height=12,
                    colour=colour,
                    title=f"{row.label}: {name} {round(value * 100)} %",
                )
            )
    return chart
