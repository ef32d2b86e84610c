"""Managers' audit reports: reads for one team and one period, metadata only.

Six reports — access events, review compliance, signature status, consent changes,
"Did you feel listened to?" and episodes past their planned end. Each is computed here,
for a manager of the team (the access policy answers 404 to everyone else), and shown
as a page, streamed as CSV (constant memory however many rows) or rendered as a PDF in
the background (carecoord/report_pdf.py).

Managers see metadata, never clinical free text: no query here selects an item's title
or body, a review's notes or comment, a discharge plan, or a consent decision's note or
basis. Queries use `values_list` with named columns, so such text is never even loaded.
Reading a report writes one access event (action `report.view` for the page,
`report.csv` for the download, `report.pdf` for the file; target `team:<id>:<report>`).
"""

from __future__ import annotations

import csv
import datetime as dt
from collections import defaultdict
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.core.paginator import Paginator
from django.db.models import CharField, Count, F, Q, Value
from django.db.models.functions import Coalesce, NullIf, TruncWeek
from django.http import Http404
from django.utils import timezone

from carecoord.models import AccessEvent, Allocation, Episode, Team, User
from carecoord.services import access_event_record
from consent import policy
from consent.models import ConsentDecision
from peersupport.models import OfferKind, Signposting, TakenUp
from plans.models import Plan, PlanVersion, Review, Signature
from plans.sections import PlanKind

BASIS = "team manager: metadata only"
CSV_CHUNK_SIZE = 2000
PAGE_SIZE = 100  # access events per page
PDF_ROW_LIMIT = 2000  # access events in a PDF; the CSV has them all
SCORES = (1, 2, 3, 4, 5)


@dataclass(frozen=True)
class ReportSpec:
    slug: str
    title: str
    summary: str


REPORTS: dict[str, ReportSpec] = {
    spec.slug: spec
    for spec in (
        ReportSpec("access-events", "Access events",
                   "Who opened or changed the records of the team's service users, when, "
                   "and on which basis."),
        ReportSpec("review-compliance", "Review compliance",
                   "For each care coordinator: care plan reviews held on time and late in "
                   "the period, and reviews due soon or overdue at its end."),
        ReportSpec("signature-status", "Signature status",
                   "For each kind of plan: whether the latest version is agreed, waiting "
                   "for signatures or declined, at the end of the period."),
        ReportSpec("consent-changes", "Consent changes",
                   "How many sharing decisions were made each week. Counts and dates only."),
        ReportSpec("listened", "Did you feel listened to?",
                   "Service users' own answers after their reviews, for each care "
                   "coordinator and each month. Scores only, never comments."),
        ReportSpec("episodes-past-end", "Episodes past their planned end",
                   "Episodes of care that went on past their planned end in the period."),
        ReportSpec("signposting", "Signposting to peer support and education",
                   "How many opportunities were offered in the period, by kind, and how "
                   "many were taken up. Counts only."),
    )
}


# --- Period ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Period:
    """From `start` to `end`, both included, as dates in the service's time zone."""

    start: dt.date
    end: dt.date

    @classmethod
    def default(cls, today: dt.date | None = None) -> Period:
        today = today or timezone.localdate()
        return cls(start=today - dt.timedelta(days=90), end=today)

    @classmethod
    def from_params(cls, params: dict) -> Period:
        return cls(start=dt.date.fromisoformat(params["start"]),
                   end=dt.date.fromisoformat(params["end"]))

    def as_params(self) -> dict:
        return {"start": self.start.isoformat(), "end": self.end.isoformat()}

    @property
    def starts_at(self) -> dt.datetime:
        return _local_midnight(self.start)

    @property
    def ends_before(self) -> dt.datetime:
        """The first moment after the period: midnight at the start of the next day."""
        return _local_midnight(self.end + dt.timedelta(days=1))

    @property
    def as_of(self) -> dt.date:
        """The day "due" and "overdue" are measured on: the period's end, or today if
        the period ends in the future."""
        return min(self.end, timezone.localdate())


def _local_midnight(day: dt.date) -> dt.datetime:
    return timezone.make_aware(dt.datetime.combine(day, dt.time.min))


# --- Opening a report: the policy, then the audit -----------------------------------------


@dataclass(frozen=True)
class OpenedReport:
    team: Team
    spec: ReportSpec
    period: Period
    viewer: User


def team_for_reports(*, viewer: User, team_id: int) -> Team:
    """The team, if `viewer` manages it; otherwise 404 (coordinators and admins too)."""
    return policy.team_for_manager(viewer, team_id)


def report_spec(slug: str) -> ReportSpec:
    spec = REPORTS.get(slug)
    if spec is None:
        raise Http404("No such report.")
    return spec


def may_read_reports(*, viewer: User, team_id: int) -> bool:
    return policy.teams_managed_by(viewer).filter(pk=team_id).exists()


def report_open(*, viewer: User, team_id: int, slug: str, period: Period,
                channel: str = "view") -> OpenedReport:
    """Check the policy and write the one access event for this reading."""
    team = team_for_reports(viewer=viewer, team_id=team_id)
    spec = report_spec(slug)
    access_event_record(actor=viewer, service_user=None, action=f"report.{channel}",
                        target=f"team:{team.pk}:{spec.slug}", basis=BASIS)
    return OpenedReport(team=team, spec=spec, period=period, viewer=viewer)


# --- Tables (what a page or a PDF shows) ------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False


@dataclass
class Table:
    caption: str
    columns: list[Column]
    rows: list[list]
    empty_text: str = "Nothing in this period."
    notes: list[str] = field(default_factory=list)


@dataclass
class ReportTables:
    tables: list[Table]
    page: object | None = None  # a Django Page, for the access events' pagination
    notes: list[str] = field(default_factory=list)


def _name(prefix: str = "") -> Coalesce:
    """A service user's name as the app shows it: the one they chose, else their full name."""
    return Coalesce(NullIf(f"{prefix}preferred_name", Value("")), f"{prefix}full_name",
                    output_field=CharField())


def _user_name(prefix: str) -> Coalesce:
    return Coalesce(NullIf(f"{prefix}full_name", Value("")), f"{prefix}email",
                    output_field=CharField())


def display(value) -> str:
    """A cell for people: dates in words, averages to one decimal place, '–' for none."""
    if value is None:
        return "–"
    if isinstance(value, dt.datetime):
        return f"{timezone.localtime(value):%-d %B %Y, %H:%M}"
    if isinstance(value, dt.date):
        return f"{value:%-d %B %Y}"
    if isinstance(value, Decimal):
        return str(value.quantize(Decimal("0.1"), rounding=ROUND_HALF_UP))
    return str(value)


def report_tables(opened: OpenedReport, *, page_number: int | str | None = 1,
                  row_limit: int | None = None) -> ReportTables:
    """The report as tables of display strings. Access events come a page at a time
    (`page_number`), or for a PDF the first `row_limit` rows."""
    return _TABLES[opened.spec.slug](opened, page_number, row_limit)


def report_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    """The header and the rows (lazily: the access events come from the database in
    chunks), with machine-friendly values (ISO dates, two-decimal averages)."""
    return _CSV[opened.spec.slug](opened)


# --- 1. Access events --------------------------------------------------------------------

ACCESS_COLUMNS = ["When", "Who", "Whose record", "Action", "Basis"]


def access_events(opened: OpenedReport):
    """The access events on the records of the team's service users in the period, as
    (when, who, whose record, action, basis) tuples, oldest first."""
    return (
        AccessEvent.objects.filter(
            service_user__team=opened.team,
            occurred_at__gte=opened.period.starts_at,
            occurred_at__lt=opened.period.ends_before,
        )
        .annotate(actor_name=_user_name("actor__"), record_name=_name("service_user__"))
        .order_by("seq")
        .values_list("occurred_at", "actor_name", "record_name", "action", "basis")
    )


def _access_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    events = access_events(opened)
    notes: list[str] = []
    page = None
    if row_limit is not None:
        total = events.count()
        rows = list(events[:row_limit])
        if total > row_limit:
            notes.append(f"The first {row_limit:,} of {total:,} events. Download the CSV "
                         "file for all of them.")
    else:
        page = Paginator(events, PAGE_SIZE).get_page(page_number)
        rows = list(page.object_list)
    table = Table(
        caption=f"Access events, {display(opened.period.start)} to "
                f"{display(opened.period.end)}",
        columns=[Column(label) for label in ACCESS_COLUMNS],
        rows=[[display(when), who or "The system", whose, action, basis]
              for when, who, whose, action, basis in rows],
        empty_text="Nobody opened or changed these records in this period.",
    )
    return ReportTables(tables=[table], page=page, notes=notes)


def _access_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    rows = (
        (timezone.localtime(when).isoformat(timespec="seconds"), who or "The system", whose,
         action, basis)
        for when, who, whose, action, basis in access_events(opened).iterator(
            chunk_size=CSV_CHUNK_SIZE)
    )
    return ACCESS_COLUMNS, rows


# --- 2. Review compliance ----------------------------------------------------------------


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
        team.coordinators.annotate(name=_user_name("")).values_list("pk", "name"))
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
        names.update(User.objects.filter(pk__in=missing).annotate(name=_user_name(""))
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


def _compliance_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    rows, window = review_compliance(opened)
    labels = _compliance_columns(window)
    table = Table(
        caption=f"Care plan reviews for each care coordinator in {opened.team.name}",
        columns=[Column(labels[0])] + [Column(label, numeric=True) for label in labels[1:]],
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


# --- 3. Signature status -----------------------------------------------------------------

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
    totals = [sum(r[i] for r in rows) for i in range(1, 5)]
    return [*rows, ("All kinds", *totals)]


def _signature_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    table = Table(
        caption=f"Latest plan versions by status on {display(opened.period.end)}",
        columns=[Column(SIGNATURE_COLUMNS[0])]
        + [Column(label, numeric=True) for label in SIGNATURE_COLUMNS[1:]],
        rows=[list(r) for r in signature_status(opened)],
    )
    return ReportTables(tables=[table], notes=[
        "Each plan counts once, by its latest version proposed on or before "
        f"{display(opened.period.end)}, as it stood at the end of that day.",
    ])


def _signature_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return SIGNATURE_COLUMNS, iter(signature_status(opened))


# --- 4. Consent changes -----------------------------------------------------------------

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


def _consent_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    rows = consent_changes(opened)
    table = Table(
        caption=f"Sharing decisions each week in {opened.team.name}",
        columns=[Column(CONSENT_COLUMNS[0])]
        + [Column(label, numeric=True) for label in CONSENT_COLUMNS[1:]],
        rows=[[display(week), *counts] for week, *counts in rows],
        empty_text="No sharing decisions were made in this period.",
    )
    if rows:
        totals = [sum(r[i] for r in rows) for i in range(1, len(CONSENT_COLUMNS))]
        table.rows.append(["All weeks", *totals])
    return ReportTables(tables=[table], notes=[
        "Weeks begin on Monday; weeks with no decisions are left out.",
    ])


def _consent_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return CONSENT_COLUMNS, iter(
        [(week.isoformat(), *counts) for week, *counts in consent_changes(opened)])


# --- 5. "Did you feel listened to?" ---------------------------------------------------------


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
        .annotate(coordinator_name=_user_name("recorded_by__"))
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


def _listened_columns(first: str) -> list[Column]:
    return [Column(first), Column("Answers", numeric=True), Column("Average", numeric=True),
            *(Column(f"Score {score}", numeric=True) for score in SCORES)]


def _listened_cells(row: ListenedRow) -> list:
    return [row.label, row.answers, display(row.average),
            *(row.distribution[score] for score in SCORES)]


def _listened_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
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


LISTENED_CSV_COLUMNS = ["Grouped by", "Care coordinator or month", "Answers", "Average",
                        *(f"Score {score}" for score in SCORES)]


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


# --- 6. Episodes past their planned end ------------------------------------------------------

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
        .annotate(name=_name("service_user__"))
        .order_by("planned_end_on", "pk")
        .values_list("pk", "name", "planned_end_on", "discharged_on")
    )
    ids = [pk for pk, *_ in episodes]
    allocations: dict[int, list[tuple[str, dt.date, dt.date | None]]] = defaultdict(list)
    for episode_id, name, started_on, ended_on in (
        Allocation.objects.filter(episode_id__in=ids)
        .annotate(name=_user_name("coordinator__"))
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


def _episode_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
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


# --- 7. Signposting ----------------------------------------------------------------------

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
    totals = [sum(r[i] for r in result) for i in range(1, 5)]
    return [*result, ("All kinds", *totals)]


def _signposting_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    rows = signposting(opened)
    table = Table(
        caption=f"Opportunities offered to {opened.team.name}'s service users",
        columns=[Column(SIGNPOSTING_COLUMNS[0])]
        + [Column(label, numeric=True) for label in SIGNPOSTING_COLUMNS[1:]],
        rows=[list(r) for r in rows] if rows[-1][1] else [],
        empty_text="Nobody was offered an opportunity from the directory in this period.",
    )
    return ReportTables(tables=[table], notes=[
        "Counted by the date the opportunity was offered; 'taken up' is as recorded now.",
    ])


def _signposting_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    return SIGNPOSTING_COLUMNS, iter(signposting(opened))


_TABLES = {
    "access-events": _access_tables,
    "review-compliance": _compliance_tables,
    "signature-status": _signature_tables,
    "consent-changes": _consent_tables,
    "listened": _listened_tables,
    "episodes-past-end": _episode_tables,
    "signposting": _signposting_tables,
}
_CSV = {
    "access-events": _access_csv,
    "review-compliance": _compliance_csv,
    "signature-status": _signature_csv,
    "consent-changes": _consent_csv,
    "listened": _listened_csv,
    "episodes-past-end": _episode_csv,
    "signposting": _signposting_csv,
}


# --- Streaming CSV -------------------------------------------------------------------------


class _Echo:
    """A file-like object that hands back what it is given: csv.writer writes one row
    into it and the generator yields that row at once. Nothing accumulates."""

    def write(self, value: str) -> str:
        return value


_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def _safe(value) -> object:
    """Keep spreadsheets from running a cell as a formula (a name can be typed as
    '=HYPERLINK(...)')."""
    if isinstance(value, str) and value.startswith(_FORMULA_START):
        return "'" + value
    return value


def csv_stream(header: list[str], rows: Iterable[tuple]) -> Iterator[str]:
    """CSV text one row at a time: memory stays constant however many rows there are."""
    writer = csv.writer(_Echo())
    yield "\ufeff" + writer.writerow(header)  # the BOM makes Excel read UTF-8
    for row in rows:
        yield writer.writerow([_safe(value) for value in row])
