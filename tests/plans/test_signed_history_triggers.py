"""Signed history cannot be rewritten even with raw SQL on PostgreSQL (issue 13, point 15):
the database's triggers (plans 0005) refuse changes to a version's content, to an agreed
version's agreement, any change or removal of a signature, and removing signed versions —
while what the services do (propose, sign, agree, decline) still works."""

from __future__ import annotations

import json

import pytest
from django.db import DatabaseError, connection, transaction

from plans import services
from plans.models import PlanVersion, Signature
from plans.sections import PlanKind
from tests.plans.factories import plan_with_content, propose, sign

pytestmark = pytest.mark.postgresql_only  # the triggers are PostgreSQL's


@pytest.fixture
def agreed(world) -> PlanVersion:
    version = propose(plan_with_content(world), world.coordinator)
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    version.refresh_from_db()
    assert version.agreed_at is not None
    return version


def _refused(sql: str, params: list) -> None:
    with pytest.raises(DatabaseError, match="signed history is permanent"), \
            transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(sql, params)


def test_a_versions_content_cannot_be_changed_by_raw_sql(agreed):
    forged = [dict(entry, body="I agree to anything.") for entry in agreed.snapshot]
    _refused("UPDATE plans_planversion SET snapshot = CAST(%s AS jsonb) WHERE id = %s",
             [json.dumps(forged), agreed.pk])
    _refused("UPDATE plans_planversion SET content_hash = %s WHERE id = %s",
             ["0" * 64, agreed.pk])
    _refused("UPDATE plans_planversion SET number = 7 WHERE id = %s", [agreed.pk])
    _refused("UPDATE plans_planversion SET agreed_at = NULL WHERE id = %s", [agreed.pk])
    agreed.refresh_from_db()
    assert agreed.recompute_hash() == agreed.content_hash
    assert agreed.agreed_at is not None


def test_signatures_cannot_be_changed_or_removed_by_raw_sql(agreed, world):
    signature = agreed.signatures.get(signer=world.service_user_account)
    _refused("UPDATE plans_signature SET content_hash = %s WHERE id = %s",
             ["f" * 64, signature.pk])
    _refused("UPDATE plans_signature SET decision = 'declined', reason = 'forged' "
             "WHERE id = %s", [signature.pk])
    _refused("DELETE FROM plans_signature WHERE id = %s", [signature.pk])
    assert Signature.objects.filter(version=agreed).count() == 2


def test_a_signed_version_cannot_be_deleted(agreed):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused("DELETE FROM plans_planversion WHERE id = %s", [agreed.pk])
    assert PlanVersion.objects.filter(pk=agreed.pk).exists()


@pytest.mark.parametrize("table", ["plans_planversion", "plans_signature"])
def test_neither_table_can_be_truncated(agreed, table):
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
    _refused(f"TRUNCATE {table} CASCADE", [])
    assert Signature.objects.filter(version=agreed).count() == 2


def test_what_the_services_do_still_works(world):
    # Propose, decline one version, propose again, sign and agree the next.
    plan = plan_with_content(world, PlanKind.CARE_PLAN)
    first = propose(plan, world.coordinator)
    services.version_decline(version=first, signer=world.service_user_account,
                             role="service_user", reason="Not yet")
    services.item_update(item=plan.items.get(prompt="recovery_meaning"),
                         changed_by=world.service_user_account,
                         expected_revision=plan.items.get(prompt="recovery_meaning").revision,
                         body="Changed after the talk.")
    second = propose(plan, world.coordinator)
    sign(second, world.service_user_account)
    sign(second, world.coordinator)
    second.refresh_from_db()
    assert second.agreed_at is not None
    # Metadata outside the signed content may still move (the demo back-dates proposals).
    with connection.cursor() as cursor:
        cursor.execute("UPDATE plans_planversion SET proposed_at = proposed_at - "
                       "interval '40 days' WHERE id = %s", [second.pk])


def test_an_unsigned_version_may_go_with_its_plan(world):
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM plans_requiredsigner WHERE version_id = %s", [version.pk])
        cursor.execute("DELETE FROM plans_planversion WHERE id = %s", [version.pk])
    assert not PlanVersion.objects.filter(pk=version.pk).exists()
