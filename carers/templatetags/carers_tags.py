"""Template tags for the carer's own space: the wellbeing chart, and the carer panels on
a service user's record page (whose view belongs to carecoord).

Reads go through carers.selectors (which ask the access policy), as in a view.
"""

from __future__ import annotations

from django import template
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import SafeString

from carers import selectors
from carers.models import WellbeingCheckIn

register = template.Library()


@register.simple_tag
def record_carer_panels(user, service_user) -> list[selectors.CarerPanel]:
    """For an allocated care coordinator on a record: each carer's assessment requests,
    what they know helps, and only what they chose to share of their own space."""
    if not user.is_authenticated:
        return []
    return selectors.carer_panels_for_record(viewer=user, service_user=service_user)


@register.simple_tag
def insights_about_self(user, service_user) -> list:
    """For the service user on their own record: what their carers shared."""
    if not user.is_authenticated:
        return []
    return selectors.insights_about_self(viewer=user, service_user=service_user)


@register.simple_tag
def wellbeing_chart(check_ins: list[WellbeingCheckIn], summary: str) -> SafeString:
    """A small line chart of check-in scores (0 to 10) over time, drawn on the server as
    inline SVG: presentation attributes only, as the CSP forbids style attributes. The
    list beside it and `summary` are its text alternatives."""
    check_ins = list(check_ins)
    if not check_ins:
        return SafeString("")
    width, height = 320, 150
    left, right, top, bottom = 30, 14, 12, 30
    plot_w, plot_h = width - left - right, height - top - bottom
    first, last = check_ins[0].created_at, check_ins[-1].created_at
    span = (last - first).total_seconds()

    def x_of(index: int, check_in: WellbeingCheckIn) -> float:
        if len(check_ins) == 1:
            return left + plot_w / 2
        if span <= 0:
            return left + plot_w * index / (len(check_ins) - 1)
        return left + plot_w * (check_in.created_at - first).total_seconds() / span

    def y_of(score: int) -> float:
        return top + plot_h * (10 - score) / 10

    points = [(round(x_of(i, c), 1), round(y_of(c.coping), 1)) for i, c in enumerate(check_ins)]
    label = "How you have been coping, out of 10: " + "; ".join(
        f"{c.coping} on {date_format(timezone.localtime(c.created_at), 'j F Y')}"
        for c in check_ins
    ) + f". {summary}"
    grid = format_html_join(
        "",
        '<line x1="{}" y1="{}" x2="{}" y2="{}" stroke="#d8dde0" stroke-width="1"/>'
        '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4c6272">{}</text>',
        ((left, y_of(s), width - right, y_of(s), left - 6, y_of(s) + 4, s) for s in (0, 5, 10)),
    )
    line = ""
    if len(points) > 1:
        line = format_html(
            '<polyline points="{}" fill="none" stroke="#005eb8" stroke-width="2"/>',
            " ".join(f"{x},{y}" for x, y in points),
        )
    dots = format_html_join("", '<circle cx="{}" cy="{}" r="4" fill="#005eb8"/>', points)
    first_day = timezone.localtime(first).date()
    last_day = timezone.localtime(last).date()
    dates = format_html(
        '<text x="{}" y="{}" font-size="11" text-anchor="start" fill="#4c6272">{}</text>',
        left, height - 10, date_format(first_day, "j M Y"),
    )
    if last_day != first_day:
        dates += format_html(
            '<text x="{}" y="{}" font-size="11" text-anchor="end" fill="#4c6272">{}</text>',
            width - right, height - 10, date_format(last_day, "j M Y"),
        )
    return format_html(
        '<svg class="app-progress-chart" xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {} {}"'
        ' width="{}" height="{}" role="img" aria-label="{}" focusable="false">'
        "<title>{}</title>{}{}{}{}</svg>",
        width, height, width, height, label, label, grid, line, dots, dates,
    )
