"""What every report is made of: its period, its entry in the registry, the opened
report it is computed for, and the tables a page or a PDF shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import Case, CharField, F, Q, Value, When
from django.db.models.functions import Coalesce, Concat, NullIf
from django.utils import timezone

from carecoord.records.models import Team, User

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


# --- Tables (what a page or a PDF shows) ------------------------------------------------


@dataclass(frozen=True)
class Column:
    label: str
    numeric: bool = False


def count_columns(labels: list[str]) -> list[Column]:
    """A table of counts: the first column names the row, the others are numbers."""
    return [Column(labels[0]), *(Column(label, numeric=True) for label in labels[1:])]


def totals_row(label: str, rows: Sequence[Sequence], width: int) -> tuple:
    """A last row adding up the counts in each column but the first, of `width`."""
    return (label, *(sum(row[i] for row in rows) for i in range(1, width)))


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


# --- A report, and a report opened for one reading ---------------------------------------


@dataclass(frozen=True)
class OpenedReport:
    team: Team
    spec: ReportSpec
    period: Period
    viewer: User


# The report as tables of display strings, a page of access events at a time
# (page_number), or for a PDF the first row_limit rows.
TablesFunction = Callable[[OpenedReport, int | str | None, int | None], ReportTables]
# The header and the rows (lazily), with machine-friendly values.
CsvFunction = Callable[[OpenedReport], tuple[list[str], Iterator[tuple]]]


@dataclass(frozen=True)
class ReportSpec:
    """One report: what it is called, and how its tables and its CSV are made. Each
    report module defines one; carecoord/reporting/reports/registry.py lists them."""

    slug: str
    title: str
    summary: str
    tables: TablesFunction
    csv: CsvFunction


# --- Names and cells -----------------------------------------------------------------------


def service_user_name(prefix: str = "") -> Coalesce:
    """A service user's name as the app shows it: the one they chose, else their full name."""
    return Coalesce(NullIf(f"{prefix}preferred_name", Value("")), f"{prefix}full_name",
                    output_field=CharField())


def service_user_identity(prefix: str = "") -> Case:
    """For staff who must know who it is: the name they chose, and their full name after it
    when it differs ("Alex (Alexandra Morgan)")."""
    return _identity(prefix)


def user_identity(prefix: str) -> Coalesce:
    """A user in an audit report: "Sam (Samantha Okafor)", else as `user_name`."""
    return Coalesce(NullIf(_identity(prefix), Value("")), f"{prefix}email",
                    output_field=CharField())


def _identity(prefix: str) -> Case:
    return Case(
        # No one (an event the system wrote): empty, so that the caller's fallback shows.
        When(Q(**{f"{prefix}pk__isnull": True}), then=Value("")),
        When(Q(**{f"{prefix}preferred_name": ""})
             | Q(**{f"{prefix}preferred_name": F(f"{prefix}full_name")}),
             then=F(f"{prefix}full_name")),
        default=Concat(f"{prefix}preferred_name", Value(" ("), f"{prefix}full_name",
                       Value(")"), output_field=CharField()),
        output_field=CharField(),
    )


def user_name(prefix: str) -> Coalesce:
    """A user's name as the app shows it: the one they would like us to use, else their
    full name, else their email address."""
    return Coalesce(NullIf(f"{prefix}preferred_name", Value("")),
                    NullIf(f"{prefix}full_name", Value("")), f"{prefix}email",
                    output_field=CharField())


def display(value: object) -> str:
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
