"""Report 3: for each kind of plan, whether its latest version is agreed, waiting for
signatures or declined at the end of the period."""

from __future__ import annotations

from collections.abc import Iterator

from carecoord.reporting.reports.base import (
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    count_columns,
    display,
    totals_row,
)
from plans.models import PlanVersion, Signature
from plans.sections import PlanKind

SIGNATURE_COLUMNS = ["Plan", "Agreed", "Waiting for signatures", "Declined", "All plans"]


def signature_status(opened: OpenedReport) -> list[tuple[str, int, int, int, int]]:
    """For each plan kind: the latest version of each plan proposed by the period's
    end, and its status at the end of that day — agreed, declined (someone declined to
    sign) or waiting for signatures."""
    end = opened.period.ends_before
    latest: dict[int, tuple[int, str]] = {}
    for version_id, plan_id, kind in (
        PlanVersion.objects.filter(plan__service_user__team=opened.team, proposed_at__lt=end)
        .order_by("plan_id", "-number")
        .values_list("pk", "plan_id", "plan__kind")
    ):
        latest.setdefault(plan_id, (version_id, kind))
    version_ids = [version_id for version_id, _ in latest.values()]
    agreed = set(
        PlanVersion.objects.filter(pk__in=version_ids, agreed_at__lt=end)
        .values_list("pk", flat=True)
    )
    declined = set(
        Signature.objects.filter(version_id__in=version_ids, signed_at__lt=end,
                                 decision=Signature.Decision.DECLINED)
        .values_list("version_id", flat=True)
    )
    counts = {kind: [0, 0, 0] for kind in PlanKind.values}
    for version_id, kind in latest.values():
        if version_id in agreed:
            counts[kind][0] += 1
        elif version_id in declined:
            counts[kind][2] += 1
        else:
            counts[kind][1] += 1
    rows = [(PlanKind(kind).label, a, w, d, a + w + d) for kind, (a, w, d) in counts.items()]
    return [*rows, totals_row("All kinds", rows, len(SIGNATURE_COLUMNS))]


def _signature_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    table = Table(
        caption=f"Latest plan versions by status on {display(opened.period.end)}",
        columns=count_columns(SIGNATURE_COLUMNS),
        rows=[list(r) for r in signature_status(opened)],
    )
    return ReportTables(tables=[table], notes=[
        "Each plan counts once, by its latest version proposed on or before "
        f"{display(opened.period.end)}, as it stood at the end of that day.",
    ])


def _signature_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return SIGNATURE_COLUMNS, iter(signature_status(opened))


REPORT = ReportSpec(
    slug="signature-status",
    title="Signature status",
    summary="For each kind of plan: whether the latest version is agreed, waiting "
            "for signatures or declined, at the end of the period.",
    tables=_signature_tables,
    csv=_signature_csv,
)
