"""Report 7: signposting to peer support and education — how many opportunities were
offered in the period, by kind, and how many were taken up. Counts only."""

from __future__ import annotations

from collections.abc import Iterator

from django.db.models import Count, Q

from carecoord.reporting.reports.base import (
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    count_columns,
    totals_row,
)
from peersupport.models import OfferKind, Signposting, TakenUp

SIGNPOSTING_COLUMNS = ["Kind of opportunity", "Offered", "Taken up", "Not taken up",
                       "Not decided yet"]


def signposting(opened: OpenedReport) -> list[tuple[str, int, int, int, int]]:
    """Offers made to the team's service users in the period, by kind of opportunity."""
    rows = (
        Signposting.objects.filter(service_user__team=opened.team,
                                   offered_on__gte=opened.period.start,
                                   offered_on__lte=opened.period.end)
        .values("offer__kind")
        .annotate(
            n_offered=Count("pk"),
            n_yes=Count("pk", filter=Q(taken_up=TakenUp.YES)),
            n_no=Count("pk", filter=Q(taken_up=TakenUp.NO)),
            n_not_yet=Count("pk", filter=Q(taken_up=TakenUp.NOT_YET)),
        )
        .order_by("offer__kind")
    )
    labels = dict(OfferKind.choices)
    result = [(labels.get(r["offer__kind"], r["offer__kind"]), r["n_offered"], r["n_yes"],
               r["n_no"], r["n_not_yet"]) for r in rows]
    return [*result, totals_row("All kinds", result, len(SIGNPOSTING_COLUMNS))]


def _signposting_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    rows = signposting(opened)
    table = Table(
        caption=f"Opportunities offered to {opened.team.name}'s service users",
        columns=count_columns(SIGNPOSTING_COLUMNS),
        rows=[list(r) for r in rows] if rows[-1][1] else [],
        empty_text="Nobody was offered an opportunity from the directory in this period.",
    )
    return ReportTables(tables=[table], notes=[
        "Counted by the date the opportunity was offered; 'taken up' is as recorded now.",
    ])


def _signposting_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return SIGNPOSTING_COLUMNS, iter(signposting(opened))


REPORT = ReportSpec(
    slug="signposting",
    title="Signposting to peer support and education",
    summary="How many opportunities were offered in the period, by kind, and how "
            "many were taken up. Counts only.",
    tables=_signposting_tables,
    csv=_signposting_csv,
)
