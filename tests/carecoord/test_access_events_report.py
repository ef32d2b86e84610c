"""The access-events report at the size of a trust (issue 15, ADR 0027): pages reached by
"Older" and "Newer" links that carry the last event seen (keyset pagination, no OFFSET,
no COUNT), so a page far back costs what the first does and shows exactly the events it
should, ties in time included; the CSV through one server-side cursor planned to be read
to the end; events that listed several things say how many, and the CSV lists them."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from zoneinfo import ZoneInfo

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import access_event_record, access_events_record
from carecoord.audit.wording import action_done
from carecoord.reporting.csv_stream import csv_stream
from carecoord.reporting.reports import access_events, registry
from carecoord.reporting.reports.base import Period, Position
from tests import clock
from tests.conftest import client_for
from tests.factories import ServiceUserFactory

PAGE = 4  # events a page in these tests (100 in the service)
DAYS = 3
AT_ONCE = 7  # events of the team at the very same moment, each day: ties broken by id


def _bulk(events: list[AccessEvent]) -> None:
    """Written behind the audit service's back (which stamps each event with now) to make
    events at chosen moments, several at the same one."""
    models.QuerySet.bulk_create(models.QuerySet(model=AccessEvent), events)


@pytest.fixture
def crowded(world):
    """Events of the team's two service users, AT_ONCE at the same moment on each of
    DAYS days, interleaved with another team's events at the same moments."""
    stranger = ServiceUserFactory(full_name="Stranger Elsewhere")
    start = timezone.now().replace(microsecond=123456) - dt.timedelta(days=DAYS)
    events = []
    for day in range(DAYS):
        when = start + dt.timedelta(days=day)
        for n in range(AT_ONCE):
            for service_user in (world.service_user if n % 2 else world.other_service_user,
                                 stranger):
                events.append(AccessEvent(
                    occurred_at=when, actor=world.coordinator, service_user=service_user,
                    action="plan.view", target=f"plan:{day}-{n}",
                    basis="allocated care coordinator"))
    _bulk(events)
    return world


def _opened(world, days: int = 7):
    return registry.report_open(viewer=world.manager, team_id=world.team.pk,
                                slug="access-events",
                                period=Period(start=clock.days(-days), end=clock.today()))


def _expected_ids(world) -> list[int]:
    """The team's events newest first, found the plain way (through the record's team)."""
    return list(AccessEvent.objects.filter(service_user__team=world.team)
                .order_by("-occurred_at", "-id").values_list("id", flat=True))


def _params() -> dict:
    return {"start": clock.days(-7).isoformat(), "end": clock.today().isoformat()}


# --- Pages -----------------------------------------------------------------------------


def test_older_pages_then_newer_pages_walk_every_event_once(crowded, monkeypatch):
    world = crowded
    monkeypatch.setattr(access_events, "PAGE_SIZE", PAGE)
    opened = _opened(world)
    expected = _expected_ids(world)
    assert len(expected) == DAYS * AT_ONCE

    pages, position = [], None
    while True:
        rows, page = access_events.events_page(opened, position)
        pages.append([row[1] for row in rows])
        assert (page.newer is None) == (position is None)
        if page.older is None:
            break
        position = Position.from_token(page.older)
    assert [pk for ids in pages for pk in ids] == expected
    assert all(len(ids) == PAGE for ids in pages[:-1])

    # And back up from the last page: the same pages, the newest one full.
    back = [pages[-1]]
    while page.newer is not None:
        rows, page = access_events.events_page(
            opened, Position.from_token(page.newer, newer=True))
        back.append([row[1] for row in rows])
    assert back[::-1][:-1] == pages[:-1]
    assert back[-1] == expected[:PAGE]


def test_the_links_on_the_page_walk_the_whole_period(crowded, monkeypatch):
    world = crowded
    monkeypatch.setattr(access_events, "PAGE_SIZE", PAGE)
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/reports/access-events/"
    html = client.get(url, _params()).content.decode()
    assert "newer=" not in html
    assert "Back to the newest events" not in html
    seen = 0
    while True:
        seen += html.count('<th class="nhsuk-table__header" scope="row">')
        assert "Stranger" not in html
        older = re.search(r'href="\?([^"]*older=[^"]*)"', html)
        if older is None:
            break
        html = client.get(f"{url}?{older[1].replace('&amp;', '&')}").content.decode()
        assert "Newer" in html
        assert "Back to the newest events" in html
    assert seen == DAYS * AT_ONCE

    newer = re.search(r'href="\?([^"]*newer=[^"]*)"', html)
    response = client.get(f"{url}?{newer[1].replace('&amp;', '&')}")
    assert response.status_code == 200
    assert "older=" in response.content.decode()


def _events_queries(client, url: str, params: dict) -> list[str]:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url, params).status_code == 200
    return [q["sql"] for q in captured.captured_queries]


def test_a_page_far_back_costs_what_the_first_does(crowded):
    world = crowded
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/reports/access-events/"
    oldest = AccessEvent.objects.filter(service_user__team=world.team).order_by(
        "occurred_at", "id").values_list("occurred_at", "id").first()
    far_back = {**_params(), "older": Position(occurred_at=oldest[0], row_id=oldest[1]).token}
    client.get(url, _params())
    first = _events_queries(client, url, _params())
    deep = _events_queries(client, url, far_back)
    assert len(deep) == len(first)
    for sql in first + deep:
        assert "OFFSET" not in sql.upper()
        if '"carecoord_accessevent"' in sql and sql.lstrip().upper().startswith("SELECT"):
            assert "COUNT(" not in sql.upper()


def test_an_old_page_number_link_opens_the_newest_events_and_says_so(crowded):
    world = crowded
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/reports/access-events/"
    queries = _events_queries(client, url, {**_params(), "page": "500"})
    assert not any("OFFSET" in sql.upper() for sql in queries)
    html = client.get(url, {**_params(), "page": "500"}).content.decode()
    assert "Pages are no longer numbered: these are the newest events." in html
    assert "Pages are no longer numbered" not in client.get(url, _params()).content.decode()


@pytest.mark.parametrize("link", [
    {"older": "abc"}, {"older": "12_"}, {"newer": "²_1"}, {"older": "-5_3"},
    {"older": "9" * 30 + "_1"}, {"newer": "1_" + "9" * 30},
])
def test_a_link_that_is_not_a_position_opens_the_newest_events(crowded, link):
    world = crowded
    response = client_for(world.manager).get(
        f"/teams/{world.team.pk}/reports/access-events/", {**_params(), **link})
    assert response.status_code == 200
    assert "Sam Coordinator" in response.content.decode()


def test_a_position_is_exact_to_the_microsecond_whatever_the_time_zone():
    moment = dt.datetime(2025, 7, 1, 23, 59, 59, 999999, tzinfo=ZoneInfo("Europe/London"))
    position = Position.from_token(Position(occurred_at=moment, row_id=42).token)
    assert position.occurred_at == moment
    assert position.row_id == 42
    assert position.newer is False


def test_another_manager_gets_404_whatever_the_position(crowded):
    world = crowded
    token = Position(occurred_at=timezone.now(), row_id=1).token
    for params in ({"older": token}, {"newer": token}, {"page": "2"}):
        response = client_for(world.other_manager).get(
            f"/teams/{world.team.pk}/reports/access-events/", {**_params(), **params})
        assert response.status_code == 404


def test_the_pdf_says_there_are_more_not_how_many(crowded):
    world = crowded
    with CaptureQueriesContext(connection) as captured:
        result = registry.report_tables(_opened(world), row_limit=5)
    assert len(result.tables[0].rows) == 5
    assert result.notes == ["The newest 5 events of the period; there are more. Download "
                            "the CSV file for all of them."]
    assert not any("COUNT(" in q["sql"].upper() for q in captured.captured_queries)
    assert registry.report_tables(_opened(world), row_limit=100).notes == []


# --- What was seen -------------------------------------------------------------------------


def test_an_event_that_listed_several_things_says_how_many_and_the_csv_lists_them(world):
    access_events_record(actor=world.carer_account, service_user=world.service_user,
                         action="carer_item.view", targets=[
                             (f"plan_item:{n}", f"shared with them by the service user "
                                                f"(consent decision {n + 10})")
                             for n in (1, 2, 3)])
    access_events_record(actor=world.coordinator, service_user=world.service_user,
                         action="plan_detail.view",
                         targets=[("plan:1", "allocated care coordinator"),
                                  ("plan:2", "allocated care coordinator")])
    html = client_for(world.manager).get(
        f"/teams/{world.team.pk}/reports/access-events/", _params()).content.decode()
    assert "Looked at 3 shared items" in html
    assert "Read a plan (2 things at once)" in html

    header, rows = registry.report_csv(_opened(world))
    table = list(csv.reader(io.StringIO("".join(csv_stream(header, rows)).lstrip("\ufeff"))))
    by_code = {row[6]: dict(zip(table[0], row, strict=True)) for row in table[1:]}
    shared = by_code["carer_item.view"]
    assert shared["What they did"] == "Looked at 3 shared items"
    assert shared["Why they could"] == "Shared with them by Alex Service"
    assert shared["Target"] == "plan_item: 3 items"
    assert json.loads(shared["Items"]) == [
        [f"plan_item:{n}", f"shared with them by the service user (consent decision {n + 10})"]
        for n in (1, 2, 3)]
    assert by_code["plan_detail.view"]["What they did"] == "Read a plan (2 things at once)"


def test_an_event_about_one_thing_names_its_target_and_lists_no_items(world):
    access_event_record(actor=world.coordinator, service_user=world.service_user,
                        action="plan_detail.view", target="plan:7",
                        basis="allocated care coordinator")
    _header, rows = registry.report_csv(_opened(world))
    (row,) = list(rows)
    assert row[4] == "Read a plan"
    assert row[6:] == ("plan_detail.view", "plan:7", "")


def test_staff_words_for_several_things_at_once():
    assert action_done("carer_item.view") == "Looked at a shared item"
    assert action_done("carer_item.view", 25) == "Looked at 25 shared items"
    assert action_done("plan_detail.view", 1) == "Read a plan"
    assert action_done("plan_detail.view", 3) == "Read a plan (3 things at once)"


# --- The CSV -------------------------------------------------------------------------------


def test_csv_names_of_who_did_it_cannot_run_as_formulas_either(world):
    world.coordinator.preferred_name = "@SUM(A1)"
    world.coordinator.save()
    access_event_record(actor=world.coordinator, service_user=world.service_user,
                        action="plan_detail.view", target="plan:1", basis="-1 reason")
    header, rows = registry.report_csv(_opened(world))
    table = list(csv.reader(io.StringIO("".join(csv_stream(header, rows)).lstrip("\ufeff"))))
    assert table[1][1].startswith("'@SUM(A1)")
    assert table[1][5].startswith("'-1 reason")


def test_the_csv_shows_times_in_london_across_the_clock_change(world):
    london = ZoneInfo("Europe/London")
    _bulk([AccessEvent(occurred_at=dt.datetime(2025, 3, 30, 0, 59, 59, tzinfo=dt.UTC),
                       actor=world.coordinator, service_user=world.service_user,
                       action="a.view", target="t", basis="b"),
           AccessEvent(occurred_at=dt.datetime(2025, 3, 30, 1, 0, 0, tzinfo=dt.UTC),
                       actor=world.coordinator, service_user=world.service_user,
                       action="b.view", target="t", basis="b")])
    opened = registry.report_open(viewer=world.manager, team_id=world.team.pk,
                                  slug="access-events",
                                  period=Period(dt.date(2025, 3, 29), dt.date(2025, 3, 30)))
    _header, rows = registry.report_csv(opened)
    times = [row[0] for row in rows]
    # The clocks went forward at 01:00 UTC: the second after 00:59:59 GMT is 02:00 BST.
    assert times == ["2025-03-30T02:00:00+01:00", "2025-03-30T00:59:59+00:00"]
    assert times == [dt.datetime(2025, 3, 30, 1, 0, 0, tzinfo=dt.UTC).astimezone(london)
                     .isoformat(timespec="seconds"),
                     dt.datetime(2025, 3, 30, 0, 59, 59, tzinfo=dt.UTC).astimezone(london)
                     .isoformat(timespec="seconds")]


@pytest.mark.django_db(transaction=True)
def test_the_csv_cursor_is_planned_to_be_read_to_the_end_for_its_transaction_only(world):
    access_event_record(actor=world.coordinator, service_user=world.service_user,
                        action="plan_detail.view", target="plan:1",
                        basis="allocated care coordinator")

    def setting(name: str) -> str:
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s)", [name])
            return cursor.fetchone()[0]

    before = setting("cursor_tuple_fraction"), setting("TimeZone")
    _header, rows = registry.report_csv(_opened(world))
    next(rows)
    assert connection.in_atomic_block  # a plain cursor, not one held past its transaction
    assert float(setting("cursor_tuple_fraction")) == 1
    assert setting("TimeZone") == timezone.get_current_timezone_name()
    assert list(rows) == []
    assert (setting("cursor_tuple_fraction"), setting("TimeZone")) == before
    assert not connection.in_atomic_block


@pytest.mark.postgresql_only
def test_the_index_the_report_reads_is_on_every_partition(db):
    from carecoord.audit.partitions import audit_partitions_ensure

    audit_partitions_ensure(today=clock.today(), months_ahead=4)  # one more month than made

    def names(sql: str) -> set[str]:
        with connection.cursor() as cursor:
            cursor.execute(sql)
            return {row[0] for row in cursor.fetchall()}

    indexed = names("SELECT tablename FROM pg_indexes "
                    "WHERE indexdef LIKE '%USING btree (occurred_at, id)'")
    partitions = names("SELECT c.relname FROM pg_inherits i "
                       "JOIN pg_class c ON c.oid = i.inhrelid "
                       "JOIN pg_class p ON p.oid = i.inhparent "
                       "WHERE p.relname = 'carecoord_accessevent'")
    assert len(partitions) >= 2
    assert partitions | {"carecoord_accessevent"} <= indexed
