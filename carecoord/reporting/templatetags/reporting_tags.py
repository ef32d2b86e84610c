""""Getting stuck" prompts on pages whose views live below reporting: the coordinator's
home page, a service user's own record and a team's page. The page's template asks for
them here, so carecoord.records.views never imports carecoord.reporting. Reads go through
carecoord.reporting.selectors (which ask the access policy), as in a view."""

from __future__ import annotations

from html import escape

from django import template
from django.template.base import render_value_in_context
from django.utils.safestring import SafeString, mark_safe

from carecoord.records.models import Team, User
from carecoord.records.selectors import OpenedRecord
from carecoord.reporting import selectors
from carecoord.reporting.reports.base import Table
from carecoord.reporting.selectors import StuckRow, TeamStuckSummary

register = template.Library()


@register.simple_tag
def stuck_caseload(user: User) -> list[StuckRow]:
    """The coordinator's service users who have prompts, with the reasons."""
    return selectors.caseload_stuck_prompts_for_page(viewer=user)


@register.simple_tag
def stuck_invitations(user: User, record: OpenedRecord) -> list[str]:
    """On the service user's own record: the prompts as invitations to talk."""
    return selectors.stuck_invitations(viewer=user, record=record)


@register.simple_tag
def team_stuck_summary(user: User, team: Team) -> TeamStuckSummary:
    """Counts only, for the team's managers (404 for anyone else)."""
    return selectors.team_stuck_summary_for_page(viewer=user, team=team)


_ROW = ('\n    <tr class="nhsuk-table__row">\n      <th class="nhsuk-table__header" scope="row">'
        '{}</th>\n      {}\n    </tr>\n    ')
_CELL = '<td class="nhsuk-table__cell">{}</td>\n      '
_NUMERIC_CELL = '<td class="nhsuk-table__cell nhsuk-table__cell--numeric">{}</td>\n      '


@register.simple_tag(takes_context=True)
def report_table_rows(context: template.Context, table: Table) -> SafeString:
    """A report table's rows (a page of access events: 100 rows of 6 cells), written
    here rather than by two nested template loops (issue 15): the same markup, byte for
    byte. A cell that is a plain string (almost all: `display()` made them) is escaped as
    the template language escapes it (`html.escape`); anything else goes through the
    template language's own `render_value_in_context` (numbers, dates, safe strings)."""

    def cell(value: object) -> str:
        if value.__class__ is str:
            return escape(value)
        return str(render_value_in_context(value, context))

    kinds = [_NUMERIC_CELL if column.numeric else _CELL for column in table.columns[1:]]
    lines = "".join(
        _ROW.format(cell(row[0]), "".join(kind.format(cell(value))
                                          for kind, value in zip(kinds, row[1:], strict=False)))
        for row in table.rows
    )
    # Every value escaped in cell().
    return mark_safe(lines)  # noqa: S308  # nosec B308 B703
