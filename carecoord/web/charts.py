"""Small line charts of 0–10 scores over time (a goal's progress, a carer's check-ins),
drawn on the server as inline SVG with presentation attributes only: the CSP forbids
style attributes. Each page shows the same scores as text beside the chart; the SVG
carries a summary as its accessible name."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

WIDTH, HEIGHT = 320, 150
LEFT, RIGHT, TOP, BOTTOM = 30, 14, 12, 30


def _day(moment: dt.date | dt.datetime) -> dt.date:
    return timezone.localtime(moment).date() if isinstance(moment, dt.datetime) else moment


def _along(moment: dt.date | dt.datetime) -> float:
    """Where a moment lies on the time axis: seconds for a time, days for a date."""
    return moment.timestamp() if isinstance(moment, dt.datetime) else moment.toordinal()


def score_chart(scores: Sequence[tuple[dt.date | dt.datetime, int]], label: str) -> SafeString:
    """`scores`: (when, score out of 10), oldest first. `label`: the chart in words."""
    if not scores:
        return SafeString("")
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    first, last = _along(scores[0][0]), _along(scores[-1][0])
    span = last - first

    def x_of(index: int, moment: dt.date | dt.datetime) -> float:
        if len(scores) == 1:
            return LEFT + plot_w / 2
        if span <= 0:
            return LEFT + plot_w * index / (len(scores) - 1)
        return LEFT + plot_w * (_along(moment) - first) / span

    def y_of(score: int) -> float:
        return TOP + plot_h * (10 - score) / 10

    points = [(round(x_of(i, when), 1), round(y_of(score), 1))
              for i, (when, score) in enumerate(scores)]
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d8dde0" stroke-width="1"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4c6272">{}</text>',
        ((LEFT, y_of(s), WIDTH - RIGHT, y_of(s), LEFT - 6, y_of(s) + 4, s) for s in (0, 5, 10)),
    )
    line = ""
    if len(points) > 1:
        line = format_html(
            '<polyline points="{}" fill="none" stroke="#005eb8" stroke-width="2"/>',
            " ".join(f"{x},{y}" for x, y in points),
        )
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="4" fill="#005eb8"/>', points)
    first_day, last_day = _day(scores[0][0]), _day(scores[-1][0])
    dates = format_html(
        '<text x="{}" y="{}" font-size="11" text-anchor="start" fill="#4c6272">{}</text>',
        LEFT, HEIGHT - 10, date_format(first_day, "j M Y"),
    )
    if last_day != first_day:
        dates += format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4c6272">{}</text>',
            WIDTH - RIGHT, HEIGHT - 10, date_format(last_day, "j M Y"),
        )
    return format_html(
        '<svg class="app-progress-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}"'
        ' width="{}" height="{}" role="img" aria-label="{}" focusable="false">'
        "<title>{}</title>{}{}{}{}</svg>",
        WIDTH, HEIGHT, WIDTH, HEIGHT, label, label, grid, line, dots, dates,
    )
