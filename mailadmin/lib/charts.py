"""Charts drawn on the server as SVG (templates/includes/chart.html): no script, nothing loaded from
elsewhere, so the strict CSP holds and a chart shows even where JavaScript fails. Each chart comes
with its numbers as a table (for screen readers, and for anyone who wants the figures).

Django-agnostic, as ``mailadmin.lib.sizes``: the figures on the axis and in the table are written
by the caller's ``number`` (given a figure as ``"1234.5"``; English digit grouping by default) with
the caller's unit names (``names``, as ``sizes.UNIT_NAMES``), so the panel writes them the
language's way (1.234,5 in German).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from decimal import Decimal

from mailadmin.lib.sizes import UNIT_NAMES

WIDTH, HEIGHT = 640, 200
LEFT, RIGHT, TOP, BOTTOM = 64, 8, 12, 24  # room for the axis labels
COLOURS = ["#2563eb", "#16a34a", "#d97706", "#dc2626", "#7c3aed"]


@dataclass
class Series:
    name: str
    values: list[float | None]  # None: not measured yet (no point drawn)
    colour: str = ""
    points: str = ""  # the SVG polyline's points


@dataclass
class Chart:
    title: str
    labels: list[str]  # one per x position (a day, an hour)
    series: list[Series]
    unit: str = ""  # "bytes" or "" (a count)
    width: int = WIDTH
    height: int = HEIGHT
    ticks: list[dict] = field(default_factory=list)  # y axis: {"y": px, "text": label}
    rows: list[dict] = field(default_factory=list)  # the table: {"label": ..., "values": [...]}

    @property
    def empty(self) -> bool:
        return not self.labels or not any(any(v for v in s.values if v) for s in self.series)

    @property
    def series_names(self) -> str:
        """The series' names, for the chart's description (written in includes/chart.html)."""
        return ", ".join(s.name for s in self.series)


def grouped(figure: str) -> str:
    """A figure given as ``"1234.5"`` with English digit grouping: ``1,234.5`` (the default ``number``)."""
    return f"{Decimal(figure):,}"


def human(value: float | None, unit: str, *, number: Callable[[str], str] = grouped, names=UNIT_NAMES) -> str:
    """A figure of a chart: a count as a whole number, bytes as ``900 bytes``, ``2.0 MB``."""
    if value is None:
        return "–"
    if unit != "bytes":
        return number(f"{value:.0f}")
    for step in ("bytes", "KB", "MB", "GB", "TB"):
        if abs(value) < 1024 or step == "TB":
            if step == "bytes":
                return names["bytes"].format(number(f"{value:.0f}"))
            return f"{number(f'{value:.1f}')} {names[step]}"
        value /= 1024
    return str(value)


def line_chart(
    title: str,
    labels: list[str],
    series: dict[str, list[float]],
    unit: str = "",
    *,
    number: Callable[[str], str] = grouped,
    names=UNIT_NAMES,
) -> Chart:
    """A line chart of ``series`` (name -> one value per label), scaled from 0 to its highest value;
    its figures written with ``number`` and ``names`` (see ``human``)."""
    chart = Chart(title=title, labels=labels, series=[], unit=unit)
    top = max([v for values in series.values() for v in values if v is not None] + [0])
    top = top or 1
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(labels) - 1, 1)
    for n, (name, values) in enumerate(series.items()):
        points = " ".join(
            f"{LEFT + i * step:.1f},{TOP + plot_h - (v / top) * plot_h:.1f}"
            for i, v in enumerate(values)
            if v is not None
        )
        chart.series.append(Series(name=name, values=values, colour=COLOURS[n % len(COLOURS)], points=points))

    def figure(value):
        return human(value, unit, number=number, names=names)

    chart.ticks = [{"y": TOP + plot_h - f * plot_h, "text": figure(top * f)} for f in (0, 0.5, 1)]
    chart.rows = [
        {"label": label, "values": [figure(s.values[i]) for s in chart.series]} for i, label in enumerate(labels)
    ]
    return chart
