"""Server-rendered SVG charts of the analytics pages (pygal), inline, without JavaScript.

pygal draws the chart; this module makes its SVG fit the page and the Content Security
Policy (``style-src 'self'``, no inline scripts): the ``<script>`` and ``<style>`` pygal
puts in its ``<defs>`` are dropped (the same rules are served from our own origin by
:func:`stylesheet`, under ``.pygal-chart``), inline ``style`` attributes become
presentation attributes, and ids inside the chart are removed (several charts share a
page). Each chart gets a ``<title>`` and ``<desc>`` and ``role="img"``; its numbers are
in a table beside it (templates/analytics/_chart.html).

A value None is a gap (pygal's ``allow_interruptions``), never 0. Text — stream names in
legends — goes through ElementTree, which escapes it.
"""
from __future__ import annotations

import datetime
import functools
import itertools
import re
import xml.etree.ElementTree as ET
from dataclasses import dataclass

import pygal
from markupsafe import Markup
from pygal.style import Style

#: Calm colours on Pico's white, each at least 3:1 against it (WCAG non-text contrast).
COLOURS = ("#0172ad", "#c2410c", "#067647", "#7c3aed", "#b42318", "#0e7490", "#a16207", "#be185d")
FONT = 'system-ui, "Segoe UI", Roboto, Oxygen, Ubuntu, Cantarell, Helvetica, Arial, sans-serif'
STYLE = Style(
    background="transparent", plot_background="transparent", foreground="#373c44",
    foreground_strong="#1f2937", foreground_subtle="#e5e7eb", opacity=".85", opacity_hover="1",
    colors=COLOURS, font_family=FONT, label_font_size=13, major_label_font_size=13, legend_font_size=13,
    title_font_size=15, value_font_size=13, tooltip_font_size=13, no_data_font_size=16,
    guide_stroke_color="#e5e7eb", major_guide_stroke_color="#d1d5db", transition="none",
)
#: Drawn at this size and scaled to the column (on a 375 px phone 13 px labels stay 9 px).
WIDTH, HEIGHT = 480, 260
#: Series with a colour of their own (a topic's streams in one chart); pygal derives the
#: colours beyond :data:`COLOURS`.
SERIES_STYLED = 48
#: Dots on the lines up to this many values: each is most of pygal's time (20 streams ×
#: 90 days took 174 ms with them, 24 without); beyond, a lone day between gaps is in the
#: chart's table only.
MAX_DOTS = 200
#: Longer ranges draw bars per week: ninety thin bars read as noise.
WEEKLY_AFTER = 31
#: Series one chart draws at most: beyond, the smaller ones add up to "N other streams"
#: (twenty lines read as noise, and pygal's time grows with each: a topic of 20 streams
#: drew its four charts in 200–260 ms). The Own vs competitors page and the CSV keep
#: every stream apart.
MAX_SERIES = 8


@dataclass
class Chart:
    """One chart and the numbers behind it: ``rows`` are (label, values per series)."""

    title: str
    description: str
    svg: Markup
    series: list[str]
    rows: list[tuple[str, list]]
    note: str | None = None
    #: What the table's first column holds.
    heading: str = "Day"
    percent: bool = False


def _config(kind, labels: list[str], empty: str):
    every = max(1, len(labels) // 6)
    return kind(
        style=STYLE, js=[], css=[], disable_xml_declaration=True, allow_interruptions=True,
        width=WIDTH, height=HEIGHT, explicit_size=False, show_legend=False, legend_at_bottom=True,
        legend_at_bottom_columns=2, truncate_legend=28, truncate_label=-1, x_labels=labels, x_labels_major_every=every,
        show_minor_x_labels=False, show_x_guides=False, margin=8, spacing=8, dots_size=2.5,
        min_scale=3, max_scale=6, no_data_text=empty, include_x_axis=True, print_values=False,
        value_formatter=_number,
    )


def _number(value) -> str:
    """Counts as whole numbers, scale steps between them with a decimal (never 1, 1, 2)."""
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.1f}"


_uid = itertools.count(1)


def _finish(chart, title: str, description: str) -> Markup:
    """pygal's SVG made CSP-clean, id-free and accessible (see the module's docstring)."""
    root = chart.render_tree()
    for parent in list(root.iter()):
        for child in list(parent):
            if child.tag in ("script", "style") or "tooltip-overlay" in child.get("class", ""):
                parent.remove(child)
            elif child.tag == "title" and parent is root:
                parent.remove(child)  # pygal's own title: ours replaces it below
    for element in root.iter():
        element.attrib.pop("id", None)
        style = element.attrib.pop("style", None)
        if style and "opacity: 0" in style:
            element.set("opacity", "0")
    n = next(_uid)
    root.set("role", "img")
    root.set("aria-labelledby", f"chart-title-{n} chart-desc-{n}")
    root.set("class", "pygal-chart")
    title_node, desc_node = ET.Element("title", id=f"chart-title-{n}"), ET.Element("desc", id=f"chart-desc-{n}")
    title_node.text, desc_node.text = title, description
    root.insert(0, desc_node)
    root.insert(0, title_node)
    svg = ET.tostring(root, encoding="unicode")
    svg = re.sub(r"<!--.*?-->", "", svg)  # pygal's banner comments
    return Markup(svg.replace(' xmlns:ns0="http://www.w3.org/2000/svg"', ""))


def _bins(days: list[datetime.date], series: list[list]) -> tuple[list[str], list[list], bool]:
    """Per day, or per week (weeks start on Monday) beyond :data:`WEEKLY_AFTER` days:
    a week's sum over its days that have a value (None when none has)."""
    if len(days) <= WEEKLY_AFTER:
        return [_day_label(d) for d in days], series, False
    weeks: dict[datetime.date, list[int]] = {}
    for n, day in enumerate(days):
        weeks.setdefault(day - datetime.timedelta(days=day.weekday()), []).append(n)
    binned = []
    for values in series:
        out = []
        for indexes in weeks.values():
            found = [values[i] for i in indexes if values[i] is not None]
            out.append(sum(found) if found else None)
        binned.append(out)
    return [_day_label(max(start, days[0])) for start in weeks], binned, True


def _day_label(day: datetime.date) -> str:
    return f"{day.strftime('%b')} {day.day}"


def _chart(kind, title: str, description: str, days: list[datetime.date], series: dict[str, list],
           note: str | None, binned: bool) -> Chart:
    return _drawn(kind, title, description, tuple(days), tuple((name, tuple(values)) for name, values in series.items()),
                  note, binned)


#: pygal takes 5–10 ms a chart; a chart is a pure function of its numbers, which change
#: when a metrics refresh writes the roll-up (hourly), so a dashboard seen again reuses them.
@functools.lru_cache(maxsize=512)
def _drawn(kind, title: str, description: str, days: tuple, series: tuple, note: str | None, binned: bool) -> Chart:
    names = [name for name, _ in series]
    values = [list(row) for _, row in series]
    weekly = False
    if binned:
        labels, values, weekly = _bins(days, values)
    else:
        labels = [_day_label(d) for d in days]
    chart = _config(kind, labels, note or "No figures for this range yet")
    chart.show_legend = len(names) > 1
    chart.show_dots = sum(len(row) for row in values) <= MAX_DOTS
    provided = any(v is not None for row in values for v in row)
    for name, row in zip(names, values):
        chart.add(name, row if provided else [])  # nothing at all: pygal's "no data" text, our note
    rows = [(label, [row[i] for row in values]) for i, label in enumerate(labels)]
    return Chart(title, description, _finish(chart, title, description), names, rows, note,
                 "Week of" if weekly else "Day")


def top_series(series: dict[str, list], most: int = MAX_SERIES) -> dict[str, list]:
    """``series`` (name → a value or None per day) cut to ``most``: the ``most`` − 1
    largest by their sum, then the rest added up day by day as "N other streams" (a day
    none of them provides stays None: a gap, never 0)."""
    if len(series) <= most:
        return series
    ranked = sorted(series.items(), key=lambda item: sum(v for v in item[1] if v is not None), reverse=True)
    kept, rest = dict(ranked[:most - 1]), [values for _, values in ranked[most - 1:]]
    others = []
    for day in zip(*rest):
        found = [v for v in day if v is not None]
        others.append(sum(found) if found else None)
    kept[f"{len(rest)} other streams"] = others
    return kept


def line_chart(title: str, description: str, days: list[datetime.date], series: dict[str, list],
               note: str | None = None) -> Chart:
    """A line per series (name → one value or None per day); ``note`` is shown when
    nothing is provided ("not provided by X")."""
    return _chart(pygal.Line, title, description, days, series, note, binned=False)


def bar_chart(title: str, description: str, days: list[datetime.date], series: dict[str, list],
              note: str | None = None) -> Chart:
    """Bars per day (per week beyond a month), stacked when there are several series."""
    kind = pygal.StackedBar if len(series) > 1 else pygal.Bar
    return _chart(kind, title, description, days, series, note, binned=True)


def compare_chart(title: str, description: str, rows: list[tuple[str, float | None]], percent: bool = False) -> Chart:
    """Horizontal bars, one per row (a stream's name and its value; None: no bar, and
    "not provided" in the table)."""
    return _compared(title, description, tuple(rows), percent)


@functools.lru_cache(maxsize=256)
def _compared(title: str, description: str, rows: tuple, percent: bool) -> Chart:
    drawn = rows[::-1]  # pygal stacks horizontal bars from the bottom up: the first row on top
    chart = _config(pygal.HorizontalBar, [label for label, _ in drawn], "No figures for this range yet")
    chart.height = 70 + 34 * max(1, len(rows))
    chart.truncate_label = 24
    chart.max_scale = 4  # the value axis runs across: few, wide labels
    if percent:
        chart.value_formatter = lambda v: f"{_number(v)} %"
    chart.x_labels_major_every = None
    chart.show_minor_x_labels = True
    values = [value for _, value in drawn]
    chart.add(title, values if any(v is not None for v in values) else [])
    return Chart(title, description, _finish(chart, title, description), [title], [(label, [value]) for label, value in rows],
                 heading="Stream", percent=percent)


@functools.lru_cache(maxsize=1)
def stylesheet() -> str:
    """pygal's own rules for :data:`STYLE`, scoped to ``.pygal-chart`` (served from our
    origin: the CSP refuses the ``<style>`` pygal would inline)."""
    chart = pygal.Line(style=STYLE, js=[], disable_xml_declaration=True)
    for _ in range(SERIES_STYLED):  # pygal writes a colour rule per series of the chart it draws
        chart.add("", [1])
    root = chart.render_tree()
    prefix = f"#chart-{chart.uuid}"
    css = "".join(node.text or "" for node in root.iter("style"))
    return css.replace(prefix, ".pygal-chart")
