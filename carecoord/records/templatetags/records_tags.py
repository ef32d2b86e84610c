"""The manager's team page's 300 lines, written here rather than by the template language
(issue 15): a template resolves each of a line's twenty-odd variables and includes the
identity line, about 40 ms for a team of 300 on the benchmark machine; the same markup
put together with `format_html` costs a few. The lines are plain rows worked out by
`records.selectors.team_service_users`; nothing here reads the database.

The markup is the one `carecoord/team_detail.html` had, byte for byte (whitespace
included), and the identity line is the same function `carecoord/includes/
identity_line.html` renders, so each has one source."""

from __future__ import annotations

import datetime as dt
from html import escape

from django import template
from django.template.defaultfilters import date as date_filter
from django.template.defaulttags import CsrfTokenNode
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import get_language

from carecoord.records.models import ServiceUser
from carecoord.records.selectors import TeamServiceUserRow

register = template.Library()

# The values are escaped as the template language escapes them (html.escape, quotes
# included: Django's escape() is that), once each: format_html escapes through lazy-aware
# wrappers, about half of the time of 300 lines.
_IDENTITY = ('<p class="nhsuk-body-s nhsuk-u-margin-bottom-0 app-identity" '
             'data-testid="identity">{full_name}<span class="nhsuk-u-visually-hidden">.</span>'
             ' Born {born}<span class="nhsuk-u-visually-hidden">.</span> NHS number {nhs}</p>')


_MONTHS_BY_LANGUAGE: dict[str, list[str]] = {}


def _months() -> list[str]:
    """The months as the `date` filter's "M" writes them, in the active language (worked
    out once per language: they never change while the server runs)."""
    language = get_language() or ""
    months = _MONTHS_BY_LANGUAGE.get(language)
    if months is None:
        months = ["", *(date_filter(dt.date(2000, month, 1), "M") for month in range(1, 13))]
        _MONTHS_BY_LANGUAGE[language] = months
    return months


def _identity(service_user: ServiceUser, months: list[str]) -> str:
    born = service_user.date_of_birth
    return _IDENTITY.format(
        full_name=escape(service_user.full_name),
        # The date filter's "j M Y", without its general machinery for each of 300 lines.
        born=(escape(f"{born.day} {months[born.month]} {born.year:04d}") if born
              else "(not recorded)"),
        nhs=escape(service_user.nhs_number_display or "not recorded"),
    )


@register.simple_tag
def identity_line(service_user: ServiceUser) -> SafeString:
    """For staff who must be sure who someone is: full name, date of birth and NHS number
    (3-3-4). Never on a page a carer sees."""
    # Every value escaped in _identity.
    return mark_safe(_identity(service_user, _months()))  # noqa: S308  # nosec B308 B703


_HEADING = '<span class="nhsuk-table-responsive__heading" aria-hidden="true">{}</span>'
_ROW = (
    '<tr class="nhsuk-table__row" role="row">\n'
    '      <td class="nhsuk-table__cell" role="cell">' + _HEADING.format("Service user ")
    + '{name}{identity}\n</td>\n'
    '      <td class="nhsuk-table__cell" role="cell">' + _HEADING.format("Care coordination ")
    + '{coordination}</td>\n'
    '      <td class="nhsuk-table__cell" role="cell">' + _HEADING.format("Care coordinators ")
    + '\n        {coordinators}\n      </td>\n'
    '      <td class="nhsuk-table__cell" role="cell">\n        \n'
    '        <a href="{next_step_url}">{next_step}<span class="nhsuk-u-visually-hidden">'
    '{next_step_hidden}{name}</span></a>\n        \n'
    '        <br><a href="{care_team_url}">Care team<span class="nhsuk-u-visually-hidden">'
    ' of {name}</span></a>\n'
    '      </td>\n'
    '    </tr>'
)
_ALLOCATION = (
    '\n            <li>{coordinator}\n'
    '              <form method="post" action="{end_url}" data-confirm="End {coordinator}\'s'
    ' allocation to {name}?">{csrf}\n'
    '                <button class="nhsuk-button nhsuk-button--secondary nhsuk-button--small"'
    ' type="submit">End allocation<span class="nhsuk-u-visually-hidden"> of {coordinator}'
    ' to {name}</span></button>\n'
    '              </form>\n'
    '            </li>\n          '
)
_NOBODY = ('\n            <li><strong class="nhsuk-tag nhsuk-tag--red">Nobody allocated'
           '</strong></li>\n          ')
_LIST = '\n          <ul class="nhsuk-list">\n          {}\n          </ul>\n        '
_PAST_END = '<strong class="nhsuk-tag nhsuk-tag--orange">Past planned end</strong> '
_BETWEEN = "\n    \n  \n    \n    "  # what the template's loop left between two lines


def _row(row: TeamServiceUserRow, csrf: str, months: list[str]) -> str:
    name = escape(row.name)
    if row.in_care_coordination:
        coordination = (_PAST_END if row.past_planned_end else "") + escape(row.progress_text)
        coordinators = _LIST.format("".join(
            _ALLOCATION.format(coordinator=escape(allocation.coordinator_name),
                               end_url=escape(allocation.end_url), name=name, csrf=csrf)
            for allocation in row.allocations
        ) or _NOBODY)
        next_step, next_step_hidden = "Allocate", " a care coordinator to "
    else:
        coordination = "Not in care coordination"
        coordinators = "–"
        next_step, next_step_hidden = "Start a new episode", " for "
    return _ROW.format(
        name=name, identity=_identity(row.service_user, months), coordination=coordination,
        coordinators=coordinators, next_step_url=escape(row.next_step_url),
        next_step=next_step, next_step_hidden=next_step_hidden,
        care_team_url=escape(row.care_team_url),
    )


@register.simple_tag(takes_context=True)
def team_service_user_rows(context: template.Context,
                           rows: list[TeamServiceUserRow]) -> SafeString:
    """The table body's lines. The forms' CSRF field is the one `{% csrf_token %}` makes,
    made once for all of them."""
    csrf = str(CsrfTokenNode().render(context))
    months = _months()
    lines = _BETWEEN.join(_row(row, csrf, months) for row in rows)
    # Every value escaped in _row, the CSRF field made by Django's own node.
    return mark_safe(lines)  # noqa: S308  # nosec B308 B703
