"""Who holds a responsibility is a `Responsibility` with a real relationship, never a
number inside an item's details; details hold only what the item's type allows; and
only consent decisions give a carer sight of anything."""

from __future__ import annotations

import pytest
from django.apps import apps
from django.db import IntegrityError, transaction

from consent import policy
from plans import services
from plans.models import PlanItem, RequiredSigner, Responsibility
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.factories import CarerRelationshipFactory
from tests.plans.factories import (
    add_responsibility,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
    write,
)

ADVANCE_STATEMENT = "SECRET: no depot injections, ever."


def test_a_carer_holder_is_a_row_with_the_relationship_and_the_snapshot_keeps_its_shape(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    item = add_responsibility(plan, world.coordinator, holder="carer",
                              relationship_pk=world.carer_relationship.pk)
    item.refresh_from_db()
    responsibility = Responsibility.objects.get(item=item)
    assert responsibility.holder_relationship == world.carer_relationship
    assert "holder" not in item.details
    version = propose(plan, world.coordinator)
    [entry] = version.snapshot
    assert entry["details"]["holder"] == "carer"
    assert entry["details"]["holder_relationship"] == world.carer_relationship.pk
    assert version.required_signers.filter(
        role=RequiredSigner.Role.CARER, carer=world.carer_relationship.carer).exists()


def test_another_familys_carer_cannot_be_named_as_holder(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    stranger = CarerRelationshipFactory(service_user=world.other_service_user)
    with pytest.raises(services.InvalidDetailsError):
        add_responsibility(plan, world.coordinator, holder="carer",
                           relationship_pk=stranger.pk)
    assert not plan.items.filter(section="responsibilities").exists()


def test_changing_the_holder_is_one_revision_and_naming_nobody_new_is_none(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    item = add_responsibility(plan, world.coordinator)
    details = {"holder": "service", "holder_service": "The crisis team",
               "positive_risk": "Using the hob again",
               "safety_net": "Smoke alarm checked weekly"}
    item = services.item_update(item=item, changed_by=world.coordinator, expected_revision=1,
                                body=item.body, details=details)
    assert item.revision == 2
    assert Responsibility.objects.get(item=item).holder_service == "The crisis team"
    same = services.item_update(item=item, changed_by=world.coordinator, expected_revision=2,
                                body=item.body, details=details)
    assert same.revision == 2  # nothing changed: no new revision


def test_holder_details_on_an_advance_statement_are_refused_by_every_surface(world):
    """The attack: `holder` on a never-shared crisis answer must not show it to a carer."""
    plan = make_plan(world)
    statement = write(prompt_item(plan, "advance_statement"), world.service_user_account,
                      ADVANCE_STATEMENT)
    with pytest.raises(services.InvalidDetailsError):
        services.item_update(item=statement, changed_by=world.coordinator,
                             expected_revision=statement.revision, body=statement.body,
                             details={"holder": "carer",
                                      "holder_relationship": world.carer_relationship.pk})
    response = client_for(world.coordinator).patch(
        f"/api/v1/items/{statement.pk}/",
        {"details": {"holder": "carer", "holder_relationship": world.carer_relationship.pk}},
        content_type="application/json", HTTP_IF_MATCH=f'"{statement.pk}-{statement.revision}"')
    assert response.status_code == 400
    assert "details" in response.json()["fields"]
    statement.refresh_from_db()
    assert statement.details == {}


def test_a_holder_left_in_an_old_snapshot_gives_a_carer_no_sight_of_a_text_item(world):
    """Versions frozen before the allow-list may hold such keys: the policy reads a
    holder only on a responsibility."""
    plan = plan_with_content(world)
    statement = write(prompt_item(plan, "advance_statement"), world.service_user_account,
                      ADVANCE_STATEMENT)
    PlanItem.objects.filter(pk=statement.pk).update(
        details={"holder": "carer", "holder_relationship": world.carer_relationship.pk})
    version = propose(plan, world.coordinator)
    assert any(entry["id"] == statement.pk for entry in version.snapshot)
    seen = policy.version_entries_visible_to(world.carer_account, version)
    assert all(entry["id"] != statement.pk for entry in seen)


def test_the_migration_moves_holders_out_of_details_and_back(world):
    migration = __import__("plans.migrations.0004_responsibility_from_details",
                           fromlist=["forwards", "backwards"])
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    held = add_responsibility(plan, world.coordinator, holder="service_user")
    by_carer = add_responsibility(plan, world.coordinator, holder="carer",
                                  relationship_pk=world.carer_relationship.pk,
                                  title="Sunday phone call")
    stranger = CarerRelationshipFactory(service_user=world.other_service_user)
    forged = add_responsibility(plan, world.coordinator, title="Forged")
    care_plan = make_plan(world)
    statement = prompt_item(care_plan, "advance_statement")
    # As the data stood before this change: holders inside details, one of them forged.
    Responsibility.objects.all().delete()
    PlanItem.objects.filter(pk=held.pk).update(details={"holder": "service_user"})
    PlanItem.objects.filter(pk=by_carer.pk).update(
        details={"holder": "carer", "holder_relationship": world.carer_relationship.pk})
    PlanItem.objects.filter(pk=forged.pk).update(
        details={"holder": "carer", "holder_relationship": stranger.pk})
    PlanItem.objects.filter(pk=statement.pk).update(details={"holder": "carer"})

    migration.forwards(apps, None)

    rows = {r.item_id: r for r in Responsibility.objects.all()}
    assert rows[held.pk].holder == "service_user"
    assert rows[by_carer.pk].holder_relationship_id == world.carer_relationship.pk
    assert (rows[forged.pk].holder, rows[forged.pk].holder_service) == (
        "service", "A carer who is no longer linked")
    assert statement.pk not in rows
    assert all("holder" not in d for d in PlanItem.objects.values_list("details", flat=True))

    migration.backwards(apps, None)
    assert not Responsibility.objects.exists()
    assert PlanItem.objects.get(pk=by_carer.pk).details == {
        "holder": "carer", "holder_relationship": world.carer_relationship.pk}


def test_a_version_cannot_require_the_same_role_twice(world):
    version = propose(plan_with_content(world), world.coordinator)
    with pytest.raises(IntegrityError), transaction.atomic():
        RequiredSigner.objects.create(version=version, role=RequiredSigner.Role.SERVICE_USER)
    with pytest.raises(IntegrityError), transaction.atomic():
        Responsibility.objects.create(item=prompt_item(version.plan, "recovery_meaning"),
                                      holder="carer")
