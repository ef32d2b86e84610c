"""Report 4: how many sharing decisions were made each week. Counts and dates only:
never the item, the note or the basis."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator

from django.db.models import Count, Q
from django.db.models.functions import TruncWeek

from carecoord.reporting.reports.base import (
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    count_columns,
    display,
    totals_row,
)
from consent.models import ConsentDecision

CONSENT_COLUMNS = ["Week beginning", "Items shared", "Items no longer shared",
                   "Section rules: share", "Section rules: do not share",
                   "Recorded by a professional", "All changes"]


def consent_changes(opened: OpenedReport) -> list[tuple]:
    """Sharing decisions made in the period, counted per week (weeks start on Monday;
    weeks with none are left out). Counts and dates only: no item, no note."""
    period = opened.period
    item = Q(item__isnull=False)
    rule = Q(item__isnull=True)
    return [
        (week.date() if isinstance(week, dt.datetime) else week, *counts)
        for week, *counts in (
            ConsentDecision.objects.filter(
                service_user__team=opened.team,
                decided_at__gte=period.starts_at, decided_at__lt=period.ends_before,
            )
            .annotate(week=TruncWeek("decided_at"))
            .values("week")
            .annotate(
                items_shared=Count("pk", filter=item & Q(shared=True)),
                items_withdrawn=Count("pk", filter=item & Q(shared=False)),
                rules_shared=Count("pk", filter=rule & Q(shared=True)),
                rules_withdrawn=Count("pk", filter=rule & Q(shared=False)),
                by_professional=Count("pk", filter=~Q(decided_as="service_user")),
                total=Count("pk"),
            )
            .order_by("week")
            .values_list("week", "items_shared", "items_withdrawn", "rules_shared",
                         "rules_withdrawn", "by_professional", "total")
        )
    ]


def _consent_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    rows = consent_changes(opened)
    table = Table(
        caption=f"Sharing decisions each week in {opened.team.name}",
        columns=count_columns(CONSENT_COLUMNS),
        rows=[[display(week), *counts] for week, *counts in rows],
        empty_text="No sharing decisions were made in this period.",
    )
    if rows:
        table.rows.append(list(totals_row("All weeks", rows, len(CONSENT_COLUMNS))))
    return ReportTables(tables=[table], notes=[
        "Weeks begin on Monday; weeks with no decisions are left out.",
    ])


def _consent_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return CONSENT_COLUMNS, iter(
        [(week.isoformat(), *counts) for week, *counts in consent_changes(opened)])


REPORT = ReportSpec(
    slug="consent-changes",
    title="Consent changes",
    summary="How many sharing decisions were made each week. Counts and dates only.",
    tables=_consent_tables,
    csv=_consent_csv,
)
