"""The access audit trail is partitioned by month on PostgreSQL (ADR 0027): the migration
converts an existing table with its rows, indexes, keys and append-only guards, and back;
events land in their month's partition; the coming months' partitions are made ahead."""

from __future__ import annotations

import datetime as dt
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import DatabaseError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps
from django.utils import timezone

from carecoord.audit import partitions, services
from carecoord.audit.models import AccessEvent
from carecoord.audit.services import access_event_record, audit_chain_extend
from carecoord.management.commands import verify_audit_chain
from tests import clock

pytestmark = pytest.mark.postgresql_only  # native partitioning is PostgreSQL's

BEFORE, AFTER = "0013_access_events_chained_later", "0014_access_events_partitioned_by_month"


def _migrate_carecoord(target: str) -> StateApps:
    executor = MigrationExecutor(connection)
    nodes = (executor.loader.graph.leaf_nodes() if target == "latest"
             else [("carecoord", target)])
    executor.migrate(nodes)
    executor.loader.build_graph()
    return executor.loader.project_state(nodes).apps


def _one(sql: str, params: list | None = None):
    with connection.cursor() as cursor:
        cursor.execute(sql, params or [])
        return cursor.fetchone()[0]


def _execute(sql: str) -> None:
    with connection.cursor() as cursor:
        cursor.execute(sql)


def _partition_of(event_id: int) -> str:
    return _one("SELECT tableoid::regclass::text FROM carecoord_accessevent WHERE id = %s",
                [event_id])


def _verify() -> str:
    out = StringIO()
    call_command("verify_audit_chain", stdout=out)
    return out.getvalue()


def _record(world, target: str) -> AccessEvent:
    return access_event_record(actor=world.coordinator, service_user=world.service_user,
                               action="service_user_record.view", target=target,
                               basis="allocated care coordinator")


def test_the_trail_is_partitioned_by_month_with_the_coming_months_made(db):
    assert partitions.is_partitioned()
    this_month = timezone.now().astimezone(dt.UTC).date().replace(day=1)
    month = this_month
    for _ in range(partitions.MONTHS_AHEAD + 1):
        assert _one("SELECT to_regclass(%s) IS NOT NULL", [partitions.partition_name(month)])
        month = partitions.next_month(month)
    assert _one("SELECT to_regclass(%s) IS NOT NULL", [partitions.DEFAULT_PARTITION])


def test_an_event_lands_in_its_months_partition(world):
    event = _record(world, "service_user:1")
    month = event.occurred_at.astimezone(dt.UTC).date().replace(day=1)
    assert _partition_of(event.pk) == partitions.partition_name(month)


def test_ensure_makes_the_missing_months_once_and_leaves_a_month_in_default_alone(world):
    far = clock.today() + dt.timedelta(days=400)
    first = partitions.audit_partitions_ensure(today=far, months_ahead=1)
    assert first == [partitions.partition_name(far.replace(day=1)),
                     partitions.partition_name(partitions.next_month(far.replace(day=1)))]
    assert partitions.audit_partitions_ensure(today=far, months_ahead=1) == []

    # An event from a month with no partition goes to the default partition; that month is
    # then left unpartitioned rather than failing (its rows cannot be moved: no deletes).
    later = far.replace(day=1) + dt.timedelta(days=200)
    with clock.travel_to(later):
        event = _record(world, "service_user:2")
    assert _partition_of(event.pk) == partitions.DEFAULT_PARTITION
    made = partitions.audit_partitions_ensure(today=later, months_ahead=0)
    assert made == []
    assert audit_chain_extend() == 1
    assert "chain intact" in _verify()


@pytest.mark.parametrize("where", ["parent", "partition"])
def test_each_partition_refuses_changes_as_the_parent_does(world, where):
    event = _record(world, "service_user:3")
    audit_chain_extend()
    table = ("carecoord_accessevent" if where == "parent"
             else _partition_of(event.pk))
    for sql in (f"UPDATE {table} SET basis = 'forged' WHERE id = {event.pk}",
                f"DELETE FROM {table} WHERE id = {event.pk}",
                f"TRUNCATE {table}"):
        with transaction.atomic(), connection.cursor() as cursor:
            cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
            _execute(sql)
    assert AccessEvent.objects.get(pk=event.pk).basis == "allocated care coordinator"


@pytest.mark.django_db(transaction=True)
def test_the_migration_converts_an_existing_table_and_back(world, monkeypatch):
    # Until migration 0017 there is no table of archived months: none to read.
    monkeypatch.setattr(services, "_archived_runs", lambda: [])
    monkeypatch.setattr(verify_audit_chain, "audit_archive_latest", lambda: None)
    try:
        _migrate_carecoord(BEFORE)
        assert not partitions.is_partitioned()
        # Written on the old, plain table: chained, one of them a month ago.
        old = [_record(world, f"service_user:{n}") for n in range(3)]
        with clock.travel_to(clock.today() - dt.timedelta(days=40)):
            old.append(_record(world, "service_user:99"))
        assert audit_chain_extend() == 4
        assert "OK: 4 access events, chain intact." in _verify()

        _migrate_carecoord(AFTER)
        assert partitions.is_partitioned()
        assert list(AccessEvent.objects.order_by("seq").values_list("id", "seq", "hash")) == [
            (e.pk, e.seq, e.hash) for e in sorted(
                (AccessEvent.objects.get(pk=e.pk) for e in old), key=lambda e: e.seq)]
        month = old[-1].occurred_at.astimezone(dt.UTC).date().replace(day=1)
        assert _partition_of(old[-1].pk) == partitions.partition_name(month)
        # New events carry on the ids and the chain.
        new = _record(world, "service_user:4")
        assert new.pk > max(e.pk for e in old)
        assert audit_chain_extend() == 1
        assert "OK: 5 access events, chain intact." in _verify()
        # The indexes the queries rely on came across.
        indexed = set(_indexes())
        assert {"accessevent_occurred_at", "accessevent_unchained"} <= indexed

        _migrate_carecoord(BEFORE)  # and back: a plain table with every row
        assert not partitions.is_partitioned()
        assert AccessEvent.objects.count() == 5
        assert "OK: 5 access events, chain intact." in _verify()
    finally:
        _migrate_carecoord("latest")
        monkeypatch.undo()
    assert partitions.is_partitioned()
    assert AccessEvent.objects.count() == 5
    assert "OK: 5 access events, chain intact." in _verify()


def _indexes() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT indexname FROM pg_indexes WHERE tablename = %s",
                       ["carecoord_accessevent"])
        return [row[0] for row in cursor.fetchall()]
