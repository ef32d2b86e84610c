"""Report 5: "Did you feel listened to?" — service users' own answers after their
reviews, for each care coordinator and each month. Scores only, never comments."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from carecoord.reporting.reports.base import (
    Column,
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    count_columns,
    display,
    user_name,
)
from plans.models import Review

SCORES = (1, 2, 3, 4, 5)


@dataclass
class ListenedRow:
    label: str
    answers: int = 0
    total: int = 0
    distribution: dict[int, int] = field(default_factory=lambda: dict.fromkeys(SCORES, 0))

    def add(self, score: int) -> None:
        self.answers += 1
        self.total += score
        self.distribution[score] += 1

    @property
    def average(self) -> Decimal | None:
        return Decimal(self.total) / Decimal(self.answers) if self.answers else None


def listened(opened: OpenedReport) -> tuple[list[ListenedRow], list[ListenedRow]]:
    """The service users' answers (1 to 5) after reviews held in the period: per care
    coordinator who recorded the review, and per month the review was held. Scores
    only: the comments are the person's own words, and are never read here."""
    period = opened.period
    by_coordinator: dict[int | None, ListenedRow] = {}
    by_month: dict[dt.date, ListenedRow] = {}
    for recorded_by, name, held_on, score in (
        Review.objects.filter(
            plan__service_user__team=opened.team, held_on__gte=period.start,
            held_on__lte=period.end, listened_score__isnull=False,
        )
        .annotate(coordinator_name=user_name("recorded_by__"))
        .order_by("held_on", "pk")
        .values_list("recorded_by_id", "coordinator_name", "held_on", "listened_score")
    ):
        by_coordinator.setdefault(
            recorded_by, ListenedRow(label=name or "Not recorded")).add(score)
        month = held_on.replace(day=1)
        by_month.setdefault(month, ListenedRow(label=f"{month:%B %Y}")).add(score)
    coordinators = sorted(by_coordinator.values(), key=lambda r: r.label.lower())
    months = [by_month[month] for month in sorted(by_month)]
    return coordinators, months


# The columns after the care coordinator or the month, on the page and in the CSV.
ANSWER_COLUMNS = ["Answers", "Average", *(f"Score {score}" for score in SCORES)]


def _listened_columns(first: str) -> list[Column]:
    return count_columns([first, *ANSWER_COLUMNS])


def _listened_cells(row: ListenedRow) -> list:
    return [row.label, row.answers, display(row.average),
            *(row.distribution[score] for score in SCORES)]


def _listened_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    coordinators, months = listened(opened)
    empty = "No service user answered after a review held in this period."
    return ReportTables(
        tables=[
            Table(caption="Answers for each care coordinator",
                  columns=_listened_columns("Care coordinator"),
                  rows=[_listened_cells(r) for r in coordinators], empty_text=empty),
            Table(caption="Answers for each month",
                  columns=_listened_columns("Month"),
                  rows=[_listened_cells(r) for r in months], empty_text=empty),
        ],
        notes=["Scores run from 1 (not at all) to 5 (completely). The columns Score 1 to "
               "Score 5 count the answers of each score. Months are the month the review was "
               "held; coordinators are the care coordinator who recorded it."],
    )


LISTENED_CSV_COLUMNS = ["Grouped by", "Care coordinator or month", *ANSWER_COLUMNS]


def _listened_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    coordinators, months = listened(opened)

    def cells(group: str, row: ListenedRow) -> tuple:
        average = row.average
        return (group, row.label, row.answers,
                f"{average.quantize(Decimal('0.01'), rounding=ROUND_HALF_UP)}"
                if average is not None else "",
                *(row.distribution[score] for score in SCORES))

    return LISTENED_CSV_COLUMNS, iter(
        [cells("care coordinator", r) for r in coordinators]
        + [cells("month", r) for r in months])


REPORT = ReportSpec(
    slug="listened",
    title="Did you feel listened to?",
    summary="Service users' own answers after their reviews, for each care "
            "coordinator and each month. Scores only, never comments.",
    tables=_listened_tables,
    csv=_listened_csv,
)
