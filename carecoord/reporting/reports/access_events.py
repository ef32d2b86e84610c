"""Report 1: who opened or changed the records of the team's service users, when, and on
which basis, newest first, in plain words (carecoord/audit/wording.py). The only report
that can be long (a year of a team is about 100,000 events), so nothing here counts it or
skips through it (ADR 0027):

- a page shows 100 events and links to the newer and older ones by the last event seen
  (`Position`: keyset pagination on the (occurred_at, id) index), so the hundredth page
  costs what the first does;
- the PDF shows the first rows and says when there are more;
- the CSV streams all of it through one server-side cursor, in chunks, with the action's
  code, the target and the items an event listed last, for tools.

An event of one page view that showed several things lists them in `items` (ADR 0026):
the page says how many ("Looked at 25 shared items"), the CSV lists each with its basis.
"""

from __future__ import annotations

from collections.abc import Iterator
from itertools import islice

from django.db import connections, router, transaction
from django.db.models import CharField, F, Func, IntegerField, Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_online_from
from carecoord.audit.wording import action_done, basis_words
from carecoord.records.models import ServiceUser, User
from carecoord.records.nhs_number import nhs_number_display
from carecoord.reporting.csv_stream import WrittenRows, csv_cell
from carecoord.reporting.reports.base import (
    Column,
    OpenedReport,
    Position,
    ReportSpec,
    ReportTables,
    RowsPage,
    Table,
    display,
    identity_of,
    service_user_identity,
    service_user_name,
    user_identity,
)

CSV_CHUNK_SIZE = 2000  # rows fetched from the server-side cursor at a time
PAGE_SIZE = 100  # access events per page

ACCESS_COLUMNS = ["When", "Who", "Whose record", "NHS number", "What they did",
                  "Why they could"]
CSV_COLUMNS = [*ACCESS_COLUMNS, "Action code", "Target", "Items"]

NEWEST_FIRST = ("-occurred_at", "-id")
OLDEST_FIRST = ("occurred_at", "id")


class LocalIsoTime(Func):
    """A time as ISO 8601 to the second with its UTC offset ("2025-03-31T23:59:59+01:00",
    as `datetime.isoformat(timespec="seconds")`), in the session's time zone: PostgreSQL
    only, after `_session_for_the_csv` set it to the service's."""

    template = """to_char(%(expressions)s, 'YYYY-MM-DD"T"HH24:MI:SSTZH:TZM')"""
    output_field = CharField()


class ItemCount(Func):
    """How many things an event listed in `items` (0 for an event about one thing)."""

    function = "json_array_length"
    output_field = IntegerField()

    def as_postgresql(self, compiler, connection, **extra_context):
        return super().as_sql(compiler, connection, function="jsonb_array_length",
                              **extra_context)

    def get_db_converters(self, connection) -> list:
        # Both databases answer an int already: no `int()` on each of a year's 100,000
        # rows of the CSV (a tenth of its time, issue 15).
        return []


def access_events(opened: OpenedReport) -> QuerySet:
    """The access events on the records of the team's service users in the period, as
    (when, id, who: preferred name, full name, email; whose record: preferred name, full
    name, NHS number; action, basis, item count) tuples, unordered (callers order by
    `NEWEST_FIRST` or, going back up, `OLDEST_FIRST`). `_table` puts the names into words
    (`identity_of`), for the one page of rows it shows.

    The team's people are fetched first and the events filtered by their ids: the newest
    events then come straight off the (occurred_at, id) index, each checked against the
    list (a hash lookup), instead of each being joined to its record to find its team."""
    team = ServiceUser.objects.filter(team=opened.team).order_by()
    events = AccessEvent.objects.filter(
        service_user_id__in=list(team.values_list("pk", flat=True)),
        occurred_at__gte=opened.period.starts_at,
        occurred_at__lt=opened.period.ends_before,
    )
    return (
        events.annotate(item_count=ItemCount("items"))
        .values_list("occurred_at", "id",
                     "actor__preferred_name", "actor__full_name", "actor__email",
                     "service_user__preferred_name", "service_user__full_name",
                     "service_user__nhs_number", "action", "basis", "item_count")
    )


def _past(events: QuerySet, position: Position) -> QuerySet:
    """The events beyond `position` in its direction, nearest first. The bound on
    occurred_at alone is what the index range scan starts from; the id breaks ties."""
    at, row_id = position.occurred_at, position.row_id
    if position.newer:
        return events.filter(Q(occurred_at__gt=at) | Q(occurred_at=at, id__gt=row_id),
                             occurred_at__gte=at).order_by(*OLDEST_FIRST)
    return events.filter(Q(occurred_at__lt=at) | Q(occurred_at=at, id__lt=row_id),
                         occurred_at__lte=at).order_by(*NEWEST_FIRST)


def _token(row: tuple) -> str:
    return Position(occurred_at=row[0], row_id=row[1]).token


def events_page(opened: OpenedReport, position: Position | None) -> tuple[list[tuple],
                                                                          RowsPage]:
    """One page of events, newest first, from `position` (None: the newest), and the
    links to the pages either side. One more row than a page is read to know whether
    there is a page beyond; nothing is counted."""
    events = access_events(opened)
    if position is not None and position.newer:
        rows = list(_past(events, position)[:PAGE_SIZE + 1])
        if len(rows) > PAGE_SIZE:
            rows = rows[:PAGE_SIZE][::-1]
            return rows, RowsPage(newer=_token(rows[0]), older=_token(rows[-1]))
        # Back up at the top: the newest page, full, rather than a short one.
        position = None
    if position is None:
        rows = list(events.order_by(*NEWEST_FIRST)[:PAGE_SIZE + 1])
        newer = None
    else:
        rows = list(_past(events, position)[:PAGE_SIZE + 1])
        # Coming from a newer page: it is still there (the trail only grows). An empty
        # page (a link past the last event) offers only the way back.
        newer = _token(rows[0]) if rows else position.token
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    return rows, RowsPage(newer=newer, older=_token(rows[-1]) if more else None)


def _plain(actor_preferred, actor_full, actor_email, preferred, full, nhs_number, action,
           basis, item_count) -> list[str]:
    return [identity_of(actor_preferred, actor_full) or actor_email or "The system",
            identity_of(preferred, full), nhs_number_display(nhs_number) or "–",
            action_done(action, item_count or 1),
            basis_words(basis, service_user_name=preferred or full or "")]


def _table(opened: OpenedReport, rows: list[tuple]) -> Table:
    return Table(
        caption=f"Access events, {display(opened.period.start)} to "
                f"{display(opened.period.end)}",
        columns=[Column(label) for label in ACCESS_COLUMNS],
        rows=[[display(when), *_plain(*rest)] for when, _id, *rest in rows],
        empty_text="Nobody opened or changed these records in this period.",
    )


def _archived_note(opened: OpenedReport) -> list[str]:
    """Says so when the period reaches back into months archived to files (ADR 0027):
    their events are no longer in the database, so neither here nor in the CSV."""
    online_from = audit_online_from()
    if online_from is None or opened.period.start >= online_from:
        return []
    return [f"Events before {online_from:%B %Y} are archived: they are not shown here "
            "or in the CSV file."]


def _access_tables(opened: OpenedReport, position: Position | None,
                   row_limit: int | None) -> ReportTables:
    if row_limit is None:
        rows, page = events_page(opened, position)
        return ReportTables(tables=[_table(opened, rows)], page=page,
                            notes=_archived_note(opened))
    # The PDF: the newest `row_limit`, and whether there are more (not how many).
    rows = list(access_events(opened).order_by(*NEWEST_FIRST)[:row_limit + 1])
    notes = _archived_note(opened)
    if len(rows) > row_limit:
        rows = rows[:row_limit]
        notes.append(f"The newest {row_limit:,} events of the period; there are more. "
                     "Download the CSV file for all of them.")
    return ReportTables(tables=[_table(opened, rows)], notes=notes)


# --- The CSV ------------------------------------------------------------------------------


def _access_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    # The database is chosen now, inside the registry's replica mark, and kept for the
    # whole stream: the rows are read later, as the response is sent.
    using = router.db_for_read(AccessEvent)
    return CSV_COLUMNS, WrittenRows(
        rows=lambda: _csv_rows(opened, using=using),
        text=lambda rows_per_chunk: _csv_text(opened, using=using,
                                              rows_per_chunk=rows_per_chunk))


class _Cells:
    """The cells in words, worked out once each: a year of a team is about 100,000 events
    but only hundreds of people and a few dozen kinds of action and basis. The team's
    people come in one query, the actors in one query for each chunk that brings new
    ones."""

    def __init__(self, opened: OpenedReport, *, using: str) -> None:
        self.using = using
        team = ServiceUser.objects.using(using).filter(team=opened.team).annotate(
            whose=service_user_identity(), chosen=service_user_name())
        self.people: dict[int, tuple[str, str]] = {}
        self.chosen_names: dict[int, str] = {}
        for pk, whose, nhs_number, chosen in team.values_list("pk", "whose", "nhs_number",
                                                              "chosen"):
            self.people[pk] = (whose, nhs_number_display(nhs_number) or "–")
            self.chosen_names[pk] = chosen or ""
        self.actors: dict[int | None, str] = {None: "The system"}
        self.words: dict[tuple, tuple[str, str]] = {}

    def actors_add(self, actor_ids: set[int | None]) -> None:
        """Names the actors not met yet, in one query."""
        new = actor_ids - self.actors.keys()
        if new:
            self.actors.update(User.objects.using(self.using).filter(pk__in=new)
                               .order_by().annotate(name=user_identity(""))
                               .values_list("pk", "name"))

    def said(self, action: str, basis: str, pk: int, item_count: int | None
             ) -> tuple[str, str]:
        """What they did and why they could, in words."""
        key = (action, basis, pk, item_count)
        said = self.words.get(key)
        if said is None:
            if len(self.words) > 50_000:  # flat memory, however long the period
                self.words.clear()
            said = self.words[key] = (
                action_done(action, item_count or 1),
                basis_words(basis, service_user_name=self.chosen_names[pk]))
        return said


def _csv_chunks(opened: OpenedReport, cells: _Cells) -> Iterator[list[tuple]]:
    """Every event of the period, newest first, through one server-side cursor, a chunk
    at a time: (actor, service user, action, target, basis, when, item count, items),
    the actors of each chunk named in `cells` before it comes.

    The cursor reads the events' own columns only (no join, no names worked out per
    row)."""
    using = cells.using
    in_sql = connections[using].vendor == "postgresql"
    events = (
        AccessEvent.objects.using(using)
        .filter(service_user_id__in=list(cells.people),
                occurred_at__gte=opened.period.starts_at,
                occurred_at__lt=opened.period.ends_before)
        .annotate(when=LocalIsoTime("occurred_at") if in_sql else F("occurred_at"),
                  item_count=ItemCount("items"), items_text=Cast("items", TextField()))
        # In the order of the SELECT (fields, then annotations): no reordering per row.
        .values_list("actor_id", "service_user_id", "action", "target", "basis", "when",
                     "item_count", "items_text")
        .order_by(*NEWEST_FIRST)
    )
    local = timezone.get_current_timezone()
    # In a transaction the cursor is a plain one: outside, Django declares it WITH HOLD,
    # and PostgreSQL then runs the whole query before the first row.
    with transaction.atomic(using=using):
        if in_sql:
            _session_for_the_csv(using, timezone.get_current_timezone_name())
        rows = events.iterator(chunk_size=CSV_CHUNK_SIZE)
        while chunk := list(islice(rows, CSV_CHUNK_SIZE)):
            cells.actors_add({row[0] for row in chunk})
            if not in_sql:  # the time zone here: SQLite (the demo) has none
                chunk = [(*row[:5], row[5].astimezone(local).isoformat(timespec="seconds"),
                          *row[6:]) for row in chunk]
            yield chunk


def _csv_rows(opened: OpenedReport, *, using: str) -> Iterator[tuple]:
    """The events as tuples of the CSV's columns."""
    cells = _Cells(opened, using=using)
    people, actors, said = cells.people, cells.actors, cells.said
    for chunk in _csv_chunks(opened, cells):
        for actor_id, pk, action, target, basis, when, item_count, items in chunk:
            yield (when, actors.get(actor_id, ""), *people[pk],
                   *said(action, basis, pk, item_count), action, target,
                   items if item_count else "")


def _csv_text(opened: OpenedReport, *, using: str, rows_per_chunk: int) -> Iterator[str]:
    """The same rows as `_csv_rows`, as CSV lines, at most `rows_per_chunk` a piece.

    Everything between the time and the target (whose record, NHS number, what they did,
    why, the action's code) follows from the action, the basis, the person and the item
    count, so it is written as CSV once for each of those and joined into every line
    like it; so is each actor's name. Per row only the target and the items are made
    safe. The time needs nothing: digits, "-", ":", "T" and "+" (`LocalIsoTime`,
    `isoformat`), never first a formula's character."""
    cells = _Cells(opened, using=using)
    people, said = cells.people, cells.said
    who: dict[int | None, str] = {}
    middles: dict[tuple, str] = {}
    targets: dict[str, str] = {}  # a person's record is the target of many of their events
    for chunk in _csv_chunks(opened, cells):
        for actor_id in {row[0] for row in chunk} - who.keys():
            who[actor_id] = csv_cell(cells.actors.get(actor_id, ""))
        if len(middles) > 50_000:  # flat memory, however long the period
            middles.clear()
        if len(targets) > 50_000:
            targets.clear()
        lines = []
        for actor_id, pk, action, target, basis, when, item_count, items in chunk:
            key = (action, basis, pk, item_count)
            middle = middles.get(key)
            if middle is None:
                middle = middles[key] = ",".join(map(csv_cell, (
                    *people[pk], *said(action, basis, pk, item_count), action)))
            target_cell = targets.get(target)
            if target_cell is None:
                target_cell = targets[target] = csv_cell(target)
            lines.append(f"{when},{who[actor_id]},{middle},{target_cell},"
                         f"{csv_cell(items) if item_count else ''}\r\n")
        for start in range(0, len(lines), rows_per_chunk):
            yield "".join(lines[start:start + rows_per_chunk])


def _session_for_the_csv(using: str, time_zone: str) -> None:
    """Settings of the PostgreSQL session, for this transaction only (no data is
    read, hence the plain cursor: TID251 guards reads):

    - the cursor will be read to the end. By default PostgreSQL plans a cursor for its
      first tenth of rows: here that means walking the period's (occurred_at, id) index
      through every team's events (1.5 s for a year of the trust's) instead of fetching
      this team's by the service_user index and sorting them (0.5 s), a sort that fits
      in 32 MB of memory for a year of a team (16 MB) instead of spilling to disk, and
      no JIT compilation (100-200 ms for a query that spends its time reading pages);
    - times are shown in the service's time zone, so that `LocalIsoTime` writes each
      one in SQL instead of a conversion in Python per row."""
    with connections[using].cursor() as cursor:
        cursor.execute("SELECT set_config('cursor_tuple_fraction', '1', true), "
                       "set_config('work_mem', '32MB', true), set_config('jit', 'off', true), "
                       "set_config('TimeZone', %s, true)", [time_zone])


REPORT = ReportSpec(
    slug="access-events",
    title="Access events",
    summary="Who opened or changed the records of the team's service users, when, "
            "and on which basis.",
    tables=_access_tables,
    csv=_access_csv,
)
