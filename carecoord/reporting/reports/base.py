"""What every report is made of: its period, its entry in the registry, the opened
report it is computed for, and the tables a page or a PDF shows."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator, Mapping, Sequence
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

    @property
    def body(self) -> list[tuple[object, list[tuple[object, bool]]]]:
        """Each row as its first cell (the row's header) and the others, each with
        whether its column is numeric: what the templates lay out, worked out here once
        rather than by a template filter per cell (100 rows of 6 cells a page)."""
        numeric = [column.numeric for column in self.columns[1:]]
        return [(row[0], list(zip(row[1:], numeric, strict=False))) for row in self.rows]


# --- Where a long report's page starts (keyset pagination) ------------------------------

_EPOCH = dt.datetime(1970, 1, 1, tzinfo=dt.UTC)
_MICROSECOND = dt.timedelta(microseconds=1)


@dataclass(frozen=True)
class Position:
    """Where a page of a long report starts: just past one row (its time and id), going
    older (the next page) or newer (the previous one). A page costs the same however far
    back it is, because the database starts from that row instead of counting its way
    there (no OFFSET). In links as `older=<token>` or `newer=<token>`."""

    occurred_at: dt.datetime
    row_id: int
    newer: bool = False

    @property
    def token(self) -> str:
        """The row's time in microseconds since 1970 (UTC) and its id: exact, and safe in
        a link as it is."""
        return f"{(self.occurred_at - _EPOCH) // _MICROSECOND}_{self.row_id}"

    @classmethod
    def from_token(cls, token: str, *, newer: bool = False) -> Position | None:
        """The position in a link, or None for anything that is not one (the report
        then starts from its newest row)."""
        micros, _, row_id = (token or "").partition("_")
        if not (micros.isdigit() and row_id.isdigit()):
            return None
        try:
            occurred_at = _EPOCH + int(micros) * _MICROSECOND
        except (OverflowError, ValueError):  # beyond the year 9999; digits of other scripts
            return None
        return cls(occurred_at=occurred_at, row_id=int(row_id), newer=newer)

    @classmethod
    def from_params(cls, params: Mapping[str, str]) -> Position | None:
        if params.get("newer"):
            return cls.from_token(params["newer"], newer=True)
        if params.get("older"):
            return cls.from_token(params["older"])
        return None


@dataclass(frozen=True)
class RowsPage:
    """One page of a long report: links to the newer and older pages where there are
    any (tokens of `Position`), and whether it is the newest page."""

    newer: str | None
    older: str | None

    @property
    def is_newest(self) -> bool:
        return self.newer is None

    @property
    def has_other_pages(self) -> bool:
        return self.newer is not None or self.older is not None


@dataclass
class ReportTables:
    tables: list[Table]
    page: RowsPage | None = None  # the access events come a page at a time
    notes: list[str] = field(default_factory=list)


# --- A report, and a report opened for one reading ---------------------------------------


@dataclass(frozen=True)
class OpenedReport:
    team: Team
    spec: ReportSpec
    period: Period
    viewer: User


# The report as tables of display strings, a page of access events at a time (from a
# position: None for the newest), or for a PDF the first row_limit rows.
TablesFunction = Callable[[OpenedReport, Position | None, int | None], ReportTables]
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


def identity_of(preferred_name: str | None, full_name: str | None) -> str:
    """`service_user_identity` (and the first part of `user_identity`) worked out in
    Python, for a page of rows already read: the same words, without three CASE
    expressions in the query (building them was a tenth of the access-events page's time,
    issue 15). A test holds the two to the same answers. "" for no one."""
    if not preferred_name or preferred_name == full_name:
        return full_name or ""
    return f"{preferred_name} ({full_name})"


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
