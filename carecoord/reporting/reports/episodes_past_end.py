"""Report 6: episodes of care that went on past their planned end in the period. Names
and dates only: never the discharge plan."""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterator
from dataclasses import dataclass

from django.db.models import F, Q

from carecoord.records.models import Allocation, Episode
from carecoord.reporting.reports.base import (
    Column,
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    display,
    service_user_identity,
    user_name,
)

EPISODE_COLUMNS = ["Service user", "Care coordinators", "Planned end", "Weeks past",
                   "Ended"]


@dataclass(frozen=True)
class PastEndRow:
    service_user: str
    coordinators: list[str]
    planned_end_on: dt.date
    weeks_past: int
    days_past: int
    discharged_on: dt.date | None


def episodes_past_end(opened: OpenedReport) -> list[PastEndRow]:
    """Episodes that were past their planned end at some time in the period: still open
    on its last day (or today), or discharged in the period after their planned end.
    Weeks past are counted to the discharge, or to that last day. Names and dates only:
    never the discharge plan."""
    period = opened.period
    as_of = period.as_of
    episodes = list(
        Episode.objects.filter(service_user__team=opened.team, planned_end_on__lt=as_of,
                               started_on__lte=as_of)
        .filter(Q(discharged_on__isnull=True) | Q(discharged_on__gte=period.start,
                                                  discharged_on__gt=F("planned_end_on")))
        .annotate(name=service_user_identity("service_user__"))
        .order_by("planned_end_on", "pk")
        .values_list("pk", "name", "planned_end_on", "discharged_on")
    )
    ids = [pk for pk, *_ in episodes]
    allocations: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for episode_id, name, started_on, ended_on in (
        Allocation.objects.filter(episode_id__in=ids)
        .annotate(name=user_name("coordinator__"))
        .order_by("started_on", "pk")
        .values_list("episode_id", "name", "started_on", "ended_on")
    ):
        allocations[episode_id].append((name, started_on, ended_on))
    rows = []
    for pk, name, planned_end_on, discharged_on in episodes:
        ended = discharged_on if discharged_on is not None and discharged_on <= as_of else None
        until = ended or as_of
        days = (until - planned_end_on).days
        if days <= 0:
            continue
        coordinators = []
        for coordinator, started_on, ended_on in allocations.get(pk, []):
            active = ended_on is None or ended_on > until or (ended and ended_on >= until)
            if started_on <= until and active and coordinator not in coordinators:
                coordinators.append(coordinator)
        rows.append(PastEndRow(service_user=name, coordinators=coordinators,
                               planned_end_on=planned_end_on, weeks_past=days // 7,
                               days_past=days, discharged_on=ended))
    rows.sort(key=lambda r: (-r.days_past, r.service_user.lower()))
    return rows


def _episode_tables(opened: OpenedReport, position, row_limit) -> ReportTables:
    rows = episodes_past_end(opened)
    table = Table(
        caption=f"Episodes of care past their planned end in {opened.team.name}",
        columns=[Column("Service user"), Column("Care coordinators"), Column("Planned end"),
                 Column("Weeks past", numeric=True), Column("Ended")],
        rows=[[r.service_user, ", ".join(r.coordinators) or "Nobody allocated",
               display(r.planned_end_on), r.weeks_past,
               display(r.discharged_on) if r.discharged_on else "Still open"]
              for r in rows],
        empty_text="No episode of care went past its planned end in this period.",
    )
    return ReportTables(tables=[table], notes=[
        f"Weeks past: whole weeks from the planned end to the discharge, or to "
        f"{display(opened.period.as_of)} for episodes still open.",
    ])


def _episode_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return EPISODE_COLUMNS, iter([
        (r.service_user, "; ".join(r.coordinators), r.planned_end_on.isoformat(),
         r.weeks_past, r.discharged_on.isoformat() if r.discharged_on else "")
        for r in episodes_past_end(opened)
    ])


REPORT = ReportSpec(
    slug="episodes-past-end",
    title="Episodes past their planned end",
    summary="Episodes of care that went on past their planned end in the period.",
    tables=_episode_tables,
    csv=_episode_csv,
)
