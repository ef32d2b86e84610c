"""Report 2: care plan reviews for each care coordinator — held on time or late in the
period, and due soon or overdue at its end."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import Q

from carecoord.records.models import Allocation, User
from carecoord.reporting.reports.base import (
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    count_columns,
    display,
    user_name,
)
from plans.models import Plan, Review
from plans.sections import PlanKind


@dataclass
class ComplianceRow:
    coordinator: str
    on_time: int = 0
    late: int = 0
    due: int = 0
    overdue: int = 0


def review_compliance(opened: OpenedReport) -> tuple[list[ComplianceRow], int]:
    """Per care coordinator, and the "due soon" window in days.

    - held on time / late: care plan reviews held in the period, by the coordinator who
      recorded them. On time means on or before the date set at the previous review (a
      plan's first review counts as on time: no earlier date was set).
    - due / overdue: on the period's last day (or today), care plans of service users in
      care coordination whose pending review date is in the next N days (the team's
      reminder window, 14 by default), or already past; counted for each coordinator
      allocated on that day.
    """
    team, period = opened.team, opened.period
    as_of = period.as_of
    window = team.reminder_due_soon_days
    names: dict[int | None, str] = dict(
        team.coordinators.annotate(name=user_name("")).values_list("pk", "name"))
    rows: dict[int | None, ComplianceRow] = {}

    def row(user_id: int | None) -> ComplianceRow:
        if user_id not in rows:
            rows[user_id] = ComplianceRow(coordinator=names.get(user_id, ""))
        return rows[user_id]

    for user_id in names:
        row(user_id)

    reviews_by_plan: dict[int, list[tuple[dt.date, dt.date, int | None]]] = defaultdict(list)
    for plan_id, held_on, next_on, recorded_by in (
        Review.objects.filter(plan__service_user__team=team, plan__kind=PlanKind.CARE_PLAN)
        .order_by("plan_id", "held_on", "pk")
        .values_list("plan_id", "held_on", "next_review_on", "recorded_by_id")
    ):
        reviews_by_plan[plan_id].append((held_on, next_on, recorded_by))

    # Held in the period: on time or late against the date set at the previous review.
    for reviews in reviews_by_plan.values():
        previous_due = None
        for held_on, next_on, recorded_by in reviews:
            if period.start <= held_on <= period.end:
                if previous_due is None or held_on <= previous_due:
                    row(recorded_by).on_time += 1
                else:
                    row(recorded_by).late += 1
            previous_due = next_on

    # Due and overdue on `as_of`: the review date pending on that day.
    in_care = Q(episodes__started_on__lte=as_of) & (
        Q(episodes__discharged_on__isnull=True) | Q(episodes__discharged_on__gt=as_of))
    plans = (
        Plan.objects.filter(service_user__team=team, kind=PlanKind.CARE_PLAN,
                            service_user__in=team.service_users.filter(in_care).values("pk"))
        .values_list("pk", "service_user_id", "next_review_on")
    )
    allocated: dict[int, set[int]] = defaultdict(set)
    for service_user_id, coordinator_id in (
        Allocation.objects.filter(
            episode__service_user__team=team, started_on__lte=as_of,
            episode__started_on__lte=as_of,
        )
        .filter(Q(ended_on__isnull=True) | Q(ended_on__gt=as_of))
        .filter(Q(episode__discharged_on__isnull=True) | Q(episode__discharged_on__gt=as_of))
        .values_list("episode__service_user_id", "coordinator_id")
    ):
        allocated[service_user_id].add(coordinator_id)
    for plan_id, service_user_id, next_review_on in plans:
        reviews = reviews_by_plan.get(plan_id, [])
        if any(held_on > as_of for held_on, _, _ in reviews):
            before = [next_on for held_on, next_on, _ in reviews if held_on <= as_of]
            pending = before[-1] if before else None
        else:
            pending = next_review_on
        if pending is None:
            continue
        if pending < as_of:
            status = "overdue"
        elif pending <= as_of + dt.timedelta(days=window):
            status = "due"
        else:
            continue
        for coordinator_id in allocated.get(service_user_id) or {None}:
            target = row(coordinator_id)
            setattr(target, status, getattr(target, status) + 1)

    missing = [pk for pk, r in rows.items() if not r.coordinator and pk is not None]
    if missing:
        names.update(User.objects.filter(pk__in=missing).annotate(name=user_name(""))
                     .values_list("pk", "name"))
        for pk in missing:
            rows[pk].coordinator = names.get(pk, "")
    if None in rows:
        rows[None].coordinator = "No care coordinator"
    ordered = sorted((r for pk, r in rows.items() if pk is not None),
                     key=lambda r: r.coordinator.lower())
    if None in rows:
        ordered.append(rows[None])
    return ordered, window


def _compliance_columns(window: int) -> list[str]:
    return ["Care coordinator", "Held on time", "Held late", f"Due within {window} days",
            "Overdue"]


def _compliance_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    rows, window = review_compliance(opened)
    labels = _compliance_columns(window)
    table = Table(
        caption=f"Care plan reviews for each care coordinator in {opened.team.name}",
        columns=count_columns(labels),
        rows=[[r.coordinator, r.on_time, r.late, r.due, r.overdue] for r in rows],
        empty_text="The team has no care coordinators and no reviews in this period.",
    )
    return ReportTables(tables=[table], notes=[
        "On time: held on or before the date set at the previous review (a plan's first "
        "review counts as on time).",
        f"Due and overdue: on {display(opened.period.as_of)}, for the care coordinators "
        "allocated that day.",
    ])


def _compliance_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    rows, window = review_compliance(opened)
    return _compliance_columns(window), iter(
        [(r.coordinator, r.on_time, r.late, r.due, r.overdue) for r in rows])


REPORT = ReportSpec(
    slug="review-compliance",
    title="Review compliance",
    summary="For each care coordinator: care plan reviews held on time and late in "
            "the period, and reviews due soon or overdue at its end.",
    tables=_compliance_tables,
    csv=_compliance_csv,
)
