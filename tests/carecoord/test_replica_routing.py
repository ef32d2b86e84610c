"""With a replica configured (DATABASE_REPLICA_URL), the managers' reports and their CSV
read from it, and nothing else does: pages read the primary, every write goes there, and
the replica is never migrated. Tested against a real second database: a snapshot of the
test database taken mid-test, which then differs from the primary as a lagging replica
would."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import psycopg2
import pytest
from django.db import connections
from django.db.utils import load_backend

from carecoord.audit.services import access_event_record
from carecoord.web.db_routing import REPLICA, ReplicaRouter, reads_from_replica
from tests.conftest import client_for

pytestmark = [
    pytest.mark.postgresql_only, pytest.mark.django_db(transaction=True),
    # The replica is added to DATABASES for the router only; its connection is made here.
    pytest.mark.filterwarnings("ignore:Overriding setting DATABASES"),
]


def _admin_connection():
    settings = connections["default"].settings_dict
    connection = psycopg2.connect(
        dbname="postgres", user=settings["USER"], password=settings["PASSWORD"],
        host=settings["HOST"], port=settings["PORT"])
    connection.autocommit = True
    return connection


@contextlib.contextmanager
def replica_snapshot(settings) -> Iterator[str]:
    """A second database, copied from the test database as it is now, configured as the
    replica for the duration."""
    primary = connections["default"].settings_dict["NAME"]
    name = f"{primary}_replica"
    connections.close_all()  # a database is copied only while nobody is connected to it
    admin = _admin_connection()
    try:
        with admin.cursor() as cursor:
            # Connections other tests' threads left open would stop the copy.
            cursor.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity "
                           "WHERE datname = %s AND pid <> pg_backend_pid()", [primary])
            cursor.execute(f'CREATE DATABASE "{name}" TEMPLATE "{primary}"')
        replica_settings = {**connections["default"].settings_dict, "NAME": name}
        settings.DATABASES = {**settings.DATABASES, REPLICA: replica_settings}
        # Handed to Django's connection handler directly, as a connection made at run time,
        # which the test case's guard on undeclared databases allows.
        replica = load_backend(replica_settings["ENGINE"]).DatabaseWrapper(
            replica_settings, REPLICA)
        connections[REPLICA] = replica
        try:
            yield name
        finally:
            replica.close()
            del connections[REPLICA]
            with admin.cursor() as cursor:
                cursor.execute(f'DROP DATABASE IF EXISTS "{name}"')
    finally:
        admin.close()


def _report_csv(world) -> str:
    response = client_for(world.manager).get(
        f"/teams/{world.team.pk}/reports/access-events/csv/")
    assert response.status_code == 200
    return b"".join(response.streaming_content).decode("utf-8-sig")


def _report_page(world) -> str:
    response = client_for(world.manager).get(f"/teams/{world.team.pk}/reports/access-events/")
    assert response.status_code == 200
    return response.content.decode()


def _record(actor, service_user) -> None:
    access_event_record(actor=actor, service_user=service_user,
                        action="service_user_record.view",
                        target=f"service_user:{service_user.pk}", basis="test")


def test_reports_read_the_replica_and_pages_and_writes_use_the_primary(world, settings):
    before = world.coordinator.display_name
    after = world.other_coordinator.display_name
    assert before != after
    _record(world.coordinator, world.service_user)
    with replica_snapshot(settings):
        # Written after the snapshot: on the primary only, as if the replica lagged.
        _record(world.other_coordinator, world.service_user)

        assert before in _report_csv(world)
        assert after not in _report_csv(world)
        page = _report_page(world)
        assert before in page
        assert after not in page

        # The same event read by a page outside the reports comes from the primary.
        from carecoord.audit.models import AccessEvent
        assert AccessEvent.objects.filter(actor=world.other_coordinator).exists()
        with reads_from_replica():
            assert not AccessEvent.objects.filter(actor=world.other_coordinator).exists()
            # Writes made while reading for a report still go to the primary.
            _record(world.coordinator, world.service_user)
        assert AccessEvent.objects.filter(actor=world.coordinator).count() == 2


def test_without_a_replica_reports_read_the_primary(world, settings):
    _record(world.other_coordinator, world.service_user)
    assert REPLICA not in settings.DATABASES
    assert world.other_coordinator.display_name in _report_csv(world)


def test_the_replica_is_never_migrated_or_written():
    router = ReplicaRouter()
    assert router.allow_migrate(REPLICA, "carecoord") is False
    assert router.allow_migrate("default", "carecoord") is True
    assert router.db_for_write(None) == "default"
    with reads_from_replica():
        assert router.db_for_write(None) == "default"
