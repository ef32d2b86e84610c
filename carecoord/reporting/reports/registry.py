"""The one registry of the managers' reports, and opening one of them: the access
policy first, then the access event for this reading."""

from __future__ import annotations

from collections.abc import Iterator

from django.http import Http404

from carecoord.audit.services import access_event_record
from carecoord.records.models import Team, User
from carecoord.reporting.reports import (
    access_events,
    consent_changes,
    episodes_past_end,
    listened,
    review_compliance,
    signatures,
    signposting,
)
from carecoord.reporting.reports.base import (
    OpenedReport,
    Period,
    Position,
    ReportSpec,
    ReportTables,
)
from carecoord.web.db_routing import reads_from_replica
from consent import policy

BASIS = "team manager: metadata only"

# In the order the reports page lists them.
REPORTS: dict[str, ReportSpec] = {
    spec.slug: spec
    for spec in (
        access_events.REPORT,
        review_compliance.REPORT,
        signatures.REPORT,
        consent_changes.REPORT,
        listened.REPORT,
        episodes_past_end.REPORT,
        signposting.REPORT,
    )
}


def team_for_reports(*, viewer: User, team_id: int) -> Team:
    """The team, if `viewer` manages it; otherwise 404 (coordinators and admins too)."""
    return policy.team_for_manager(viewer, team_id)


def report_spec(slug: str) -> ReportSpec:
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404("No such report.")
    return spec


def report_open(*, viewer: User, team_id: int, slug: str, period: Period,
                channel: str = "view") -> OpenedReport:
    """Check the policy and write the one access event for this reading."""
    team = team_for_reports(viewer=viewer, team_id=team_id)
    spec = report_spec(slug)
    access_event_record(actor=viewer, service_user=None, action=f"report.{channel}",
                        target=f"team:{team.pk}:{spec.slug}", basis=BASIS)
    return OpenedReport(team=team, spec=spec, period=period, viewer=viewer)


def report_tables(opened: OpenedReport, *, position: Position | None = None,
                  row_limit: int | None = None) -> ReportTables:
    """The report as tables of display strings. Access events come a page at a time
    (from `position`; None: the newest), or for a PDF the first `row_limit` rows. Read
    from the replica when there is one."""
    with reads_from_replica():
        return opened.spec.tables(opened, position, row_limit)


def report_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    """The header and the rows (lazily: the access events come from the database in
    chunks), with machine-friendly values (ISO dates, two-decimal averages). Read from the
    replica when there is one: a report's CSV function reads its rows now, or chooses
    its database now and keeps it for the rows it reads later (the access events)."""
    with reads_from_replica():
        return opened.spec.csv(opened)
