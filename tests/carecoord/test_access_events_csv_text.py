"""The access-events CSV written as text from cells quoted once (issue 15: a year of a
team at 100,000 rows a second): the same bytes as its rows through csv.writer and the
formula check, for names, words, targets and items that need quoting or neutralising,
across chunks of the cursor and pieces of the response; and a number of queries that
does not grow with the rows."""

from __future__ import annotations

import csv
import datetime as dt
import io
from unittest import mock

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from hypothesis import given
from hypothesis import strategies as st

from carecoord.audit.models import AccessEvent
from carecoord.reporting import csv_stream as csv_stream_module
from carecoord.reporting.csv_stream import WrittenRows, csv_cell, csv_stream
from carecoord.reporting.reports import access_events, registry
from carecoord.reporting.reports.base import Period
from tests import clock
from tests.factories import ServiceUserFactory, UserFactory

NASTY = ["=HYPERLINK(\"http://evil.test\")", "+1", "-1 reason", "@SUM(A1)", "\tTab",
         "\rReturn", "Comma, Name", 'Quote "Q" Name', "Line\nBreak", "Zoë Ñúñez", "'quoted",
         " space", ""]


def _written(header: list[str], rows) -> str:
    return "".join(csv_stream(header, rows))


@given(st.text(alphabet=st.sampled_from(list("=+-@\t\r\n\",' ;aZ0é\x00")) | st.characters(),
               max_size=12))
def test_a_cell_is_written_as_csv_writer_writes_it_after_the_formula_check(value):
    buffer = io.StringIO()
    csv.writer(buffer).writerow(csv_stream_module._safe_row([value, "x"]))
    assert csv_cell(value) + ",x\r\n" == buffer.getvalue()


@pytest.fixture
def nasty_events(world):
    """Events whose every cell in words needs quoting or neutralising somewhere: actors
    and people named like formulas or with commas, quotes and line breaks, free-text
    bases, odd targets, lists of items, the system, across two people."""
    actors = [UserFactory(full_name=name or "Blank", preferred_name=name) for name in NASTY]
    people = [world.service_user, world.other_service_user,
              ServiceUserFactory(team=world.team, full_name="=Person, \"Odd\"",
                                 preferred_name="-Pat")]
    now = timezone.now().replace(microsecond=0)
    events = []
    for n in range(60):
        items = ([[f"plan_item:{n}", "shared with them by the service user"],
                  ["=x", 'a "b", c']] if n % 5 == 0 else [])
        events.append(AccessEvent(
            occurred_at=now - dt.timedelta(minutes=n // 2),  # pairs at the same second
            actor=None if n % 7 == 0 else actors[n % len(actors)],
            service_user=people[n % len(people)],
            action=["carer_item.view", "plan_detail.view", "=odd.code"][n % 3],
            target=NASTY[n % len(NASTY)] or f"plan:{n}",
            basis=["shared with them by the service user", "allocated care coordinator",
                   f"-{n}, a reason with \"quotes\"", "own record; via My token, \"x\""][n % 4],
            items=items))
    models.QuerySet.bulk_create(models.QuerySet(model=AccessEvent), events)
    return world


def _opened(world):
    return registry.report_open(viewer=world.manager, team_id=world.team.pk,
                                slug="access-events",
                                period=Period(start=clock.days(-2), end=clock.today()))


def test_the_written_csv_is_its_rows_through_the_csv_writer(nasty_events):
    # Small chunks of the cursor and small pieces of the response: the lines cross both.
    with mock.patch.object(access_events, "CSV_CHUNK_SIZE", 7):
        header, rows = registry.report_csv(_opened(nasty_events))
        assert isinstance(rows, WrittenRows)
        pieces = list(csv_stream(header, rows, rows_per_chunk=3))
        header, rows = registry.report_csv(_opened(nasty_events))
        tuples = list(rows)  # the rows themselves, through csv.writer (a list: not written)
    assert len(tuples) == 60
    assert "".join(pieces) == _written(header, tuples)
    # Each piece after the header is whole rows, at most three of them.
    sizes = [len(list(csv.reader(io.StringIO(piece)))) for piece in pieces[1:]]
    assert all(0 < size <= 3 for size in sizes)
    assert sum(sizes) == 60
    table = list(csv.reader(io.StringIO("".join(pieces).lstrip("\ufeff"))))
    assert all(not cell[:1] or cell[:1] not in "=+-@\t\r"
               for row in table[1:] for cell in row)
    assert {row[1] for row in table[1:]} >= {"The system", "'=HYPERLINK(\"http://evil.test\")",
                                             "Comma, Name", "Line\nBreak"}


def test_an_event_by_someone_not_found_is_written_as_its_row_is(world):
    """An actor id that names nobody (the tuple's empty "Who") is written the same way."""
    event = AccessEvent(occurred_at=timezone.now(), actor=world.coordinator,
                        service_user=world.service_user, action="plan_detail.view",
                        target="plan:1", basis="allocated care coordinator")
    models.QuerySet.bulk_create(models.QuerySet(model=AccessEvent), [event])
    with mock.patch.object(access_events._Cells, "actors_add", return_value=None):
        header, rows = registry.report_csv(_opened(world))
        written = _written(header, rows)
        header, rows = registry.report_csv(_opened(world))
        tuples = list(rows)
    assert tuples[0][1] == ""
    assert written == _written(header, tuples)


def _add_events(world, events: int, *, offset: int = 0) -> None:
    now = timezone.now()
    models.QuerySet.bulk_create(models.QuerySet(model=AccessEvent), [
        AccessEvent(occurred_at=now - dt.timedelta(seconds=n),
                    actor=(world.coordinator, world.other_coordinator, None)[n % 3],
                    service_user=(world.service_user, world.other_service_user)[n % 2],
                    action="plan_detail.view", target=f"plan:{n}",
                    basis="allocated care coordinator")
        for n in range(offset, offset + events)])


def _csv_queries(world) -> tuple[int, int]:
    """The CSV's rows and the queries it made, in chunks of 10 events."""
    opened = _opened(world)
    with mock.patch.object(access_events, "CSV_CHUNK_SIZE", 10), \
            CaptureQueriesContext(connection) as captured:
        header, rows = registry.report_csv(opened)
        lines = _written(header, rows).count("\n") - 1
    return lines, len(captured)


def test_the_csv_queries_do_not_grow_with_its_rows(world):
    """The team, the session's settings, the cursor and the actors once: the same number
    of queries for 20 events (2 chunks) as for 300 (30 chunks)."""
    _add_events(world, 20)
    rows, few = _csv_queries(world)
    assert rows == 20
    _add_events(world, 280, offset=20)
    assert _csv_queries(world) == (300, few)
    assert few <= 8
