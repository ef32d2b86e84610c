"""The consent tables say what they mean (ADR 0008): a decision's item is in its plan and
section and its plan is its service user's; the current decision for a carer and an item
or section is that carer's decision about it. PostgreSQL refuses rows that disagree even
when written behind the services' back; the services (and `clean()`) refuse them on any
database with a message people can read. Every grant names the decision it carries out,
and the migrations that bring this in handle the rows already there."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.exceptions import ValidationError
from django.db import IntegrityError, connection, transaction
from django.db.migrations.executor import MigrationExecutor
from django.db.migrations.state import StateApps
from django.db.models import ProtectedError

from carers.models import Carer
from consent.models import (
    ConsentDecision,
    DecidedAs,
    ItemConsent,
    PlanItemUserObjectPermission,
    SectionRule,
)
from consent.services import (
    ConsentError,
    consent_decide_item,
    consent_decide_section,
    consent_permissions_check,
)
from plans import services as plan_services
from plans.models import Plan, PlanItem
from plans.sections import PlanKind
from tests.plans.factories import make_plan, prompt_item


@pytest.fixture
def carer(world) -> Carer:
    return world.carer_relationship.carer


@pytest.fixture
def care_plan(world) -> Plan:
    return make_plan(world)


@pytest.fixture
def wrap(world) -> Plan:
    return make_plan(world, PlanKind.WRAP, by=world.service_user_account)


@pytest.fixture
def others_plan(world) -> Plan:
    """The other service user's care plan."""
    return plan_services.plan_create(service_user=world.other_service_user,
                                     kind=PlanKind.CARE_PLAN,
                                     created_by=world.other_coordinator)


def crisis(plan: Plan, code: str = "early_signs") -> PlanItem:
    return prompt_item(plan, code)


def decision_fields(world, carer: Carer, plan: Plan, **scope) -> dict:
    """A decision about an item of `plan`, as the services would write it; `scope`
    overrides any of its columns."""
    item = crisis(plan)
    return {"service_user": plan.service_user, "carer": carer, "plan": plan,
            "section": item.section, "item": item, "shared": True,
            "decided_by": world.service_user_account, "decided_as": DecidedAs.SERVICE_USER,
            **scope}


# The names the triggers give their refusals (migration 0002).
PLAN_IS_SERVICE_USERS = "consent_decision_plan_is_service_users"
ITEM_IN_PLAN = "consent_decision_item_in_plan"
ITEM_IN_SECTION = "consent_decision_item_in_section"
CURRENT_DECISION_MATCHES = "consent_current_decision_matches"


def refused_by_database(constraint: str, write: Callable[[], object]) -> IntegrityError:
    """Run one write in a savepoint; the database must refuse it, naming `constraint`."""
    with pytest.raises(IntegrityError) as refused, transaction.atomic():
        write()
    assert refused.value.__cause__.diag.constraint_name == constraint
    return refused.value


# The three ways a decision can disagree with itself, as column overrides, and what the
# services and clean() say about each.
DISAGREEMENTS = {
    "item in another plan": (
        lambda world, others_plan: {"item": crisis(others_plan)},
        ITEM_IN_PLAN, "This item is in another plan."),
    "item in another section": (
        lambda world, others_plan: {"section": "risk"},
        ITEM_IN_SECTION, "This item is in another section of the plan."),
    "plan of another service user": (
        lambda world, others_plan: {"service_user": world.other_service_user},
        PLAN_IS_SERVICE_USERS, "This plan belongs to another service user."),
}


@pytest.fixture(params=list(DISAGREEMENTS))
def disagreement(request, world, others_plan) -> tuple[dict, str, str]:
    """(column overrides, the database's constraint, the services' message)"""
    scope, constraint, message = DISAGREEMENTS[request.param]
    return scope(world, others_plan), constraint, message


# --- The database refuses (PostgreSQL) ----------------------------------------------------


@pytest.mark.postgresql_only  # the constraint triggers are PostgreSQL's (migration 0002)
def test_the_database_refuses_a_decision_that_disagrees_with_itself(
    world, carer, care_plan, disagreement
):
    scope, constraint, _ = disagreement
    refused_by_database(constraint, lambda: ConsentDecision.objects.create(
        **decision_fields(world, carer, care_plan, **scope)))
    assert not ConsentDecision.objects.exists()

    # The same disagreement made by changing a good decision behind the services' back.
    good = consent_decide_item(item=crisis(care_plan), carer=carer, shared=True,
                               decided_by=world.service_user_account)
    refused_by_database(constraint,
                        lambda: ConsentDecision.objects.filter(pk=good.pk).update(**scope))
    good.refresh_from_db()
    assert (good.service_user_id, good.plan_id, good.section, good.item_id) == (
        world.service_user.pk, care_plan.pk, "crisis", crisis(care_plan).pk)


@pytest.mark.postgresql_only
def test_the_database_refuses_a_section_rule_decision_for_another_service_users_plan(
    world, carer, care_plan
):
    refused_by_database(PLAN_IS_SERVICE_USERS, lambda: ConsentDecision.objects.create(
        **decision_fields(world, carer, care_plan, item=None,
                          service_user=world.other_service_user)))
    ConsentDecision.objects.create(**decision_fields(world, carer, care_plan, item=None))


@pytest.mark.postgresql_only
def test_the_database_refuses_current_decisions_that_are_not_about_their_item_or_section(
    world, carer, care_plan
):
    early_signs, practical = crisis(care_plan), crisis(care_plan, "practical")
    about_early_signs = consent_decide_item(item=early_signs, carer=carer, shared=True,
                                            decided_by=world.service_user_account)
    about_practical = consent_decide_item(item=practical, carer=carer, shared=True,
                                          decided_by=world.service_user_account)
    crisis_rule = consent_decide_section(plan=care_plan, section="crisis", carer=carer,
                                         shared=True, decided_by=world.service_user_account)
    other_carer = Carer.objects.get(user=world.other_carer_account)

    current = ItemConsent.objects.filter(carer=carer, item=early_signs)
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: current.update(decision=about_practical))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: current.update(decision=crisis_rule))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: current.update(carer=other_carer))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: ItemConsent.objects.create(
        carer=other_carer, item=practical, decision=about_practical))

    rule = SectionRule.objects.filter(carer=carer, plan=care_plan, section="crisis")
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: rule.update(decision=about_early_signs))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: rule.update(section="risk"))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: SectionRule.objects.create(
        carer=carer, plan=care_plan, section="risk", decision=crisis_rule))

    # A current decision cannot be changed into a decision about something else either.
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: ConsentDecision.objects.filter(
        pk=crisis_rule.pk).update(item=early_signs))
    refused_by_database(CURRENT_DECISION_MATCHES, lambda: ConsentDecision.objects.filter(
        pk=about_practical.pk).update(carer=other_carer))
    assert current.get().decision_id == about_early_signs.pk
    assert rule.get().decision_id == crisis_rule.pk


@pytest.mark.postgresql_only
def test_an_item_or_plan_that_decisions_are_about_cannot_move(world, carer, care_plan, wrap):
    item = crisis(care_plan)
    consent_decide_item(item=item, carer=carer, shared=True,
                        decided_by=world.service_user_account)
    items = PlanItem.objects.filter(pk=item.pk)
    refused_by_database(ITEM_IN_SECTION, lambda: items.update(section="risk"))
    refused_by_database(ITEM_IN_PLAN, lambda: items.update(plan=wrap))
    refused_by_database(PLAN_IS_SERVICE_USERS, lambda: Plan.objects.filter(
        pk=care_plan.pk).update(service_user=world.other_service_user,
                                kind="responsibility_agreement"))

    # Saving them as they are (every column written, none changed) is what plans does.
    item.refresh_from_db()
    item.save()
    care_plan.refresh_from_db()
    care_plan.save()


@pytest.mark.postgresql_only
def test_changes_that_keep_a_decisions_scope_are_allowed(world, carer, care_plan):
    """The demo data back-dates a decision and its end date (carecoord/demo/consent.py)."""
    decision = consent_decide_item(item=crisis(care_plan), carer=carer, shared=True,
                                   decided_by=world.service_user_account)
    ConsentDecision.objects.filter(pk=decision.pk).update(expires_on="2001-01-01",
                                                           decided_at="2001-01-01T00:00Z")
    decision.refresh_from_db()
    decision.note = "Written again, unchanged in scope."
    decision.save()


# --- The services and clean() refuse, on any database --------------------------------------


def test_the_services_refuse_a_stale_item_in_another_plan_or_section(world, carer, care_plan,
                                                                      wrap):
    item = crisis(care_plan)
    item.plan = wrap  # an object in hand that no longer says what the database does
    with pytest.raises(ConsentError) as refused:
        consent_decide_item(item=item, carer=carer, shared=True,
                            decided_by=world.service_user_account)
    assert str(refused.value) == "This item is in another plan."

    item = crisis(care_plan)
    item.section = "risk"
    with pytest.raises(ConsentError) as refused:
        consent_decide_item(item=item, carer=carer, shared=True,
                            decided_by=world.service_user_account)
    assert str(refused.value) == "This item is in another section of the plan."
    assert not ConsentDecision.objects.exists()
    assert not ItemConsent.objects.exists()


def test_the_services_refuse_a_plan_that_belongs_to_another_service_user(world, care_plan):
    plan = Plan.objects.get(pk=care_plan.pk)
    plan.service_user = world.other_service_user  # stale: the database says it is Alex's
    others_carer = Carer.objects.get(user=world.other_carer_account)
    with pytest.raises(ConsentError) as refused:
        consent_decide_section(plan=plan, section="crisis", carer=others_carer, shared=True,
                               decided_by=world.other_service_user_account)
    assert str(refused.value) == "This plan belongs to another service user."
    assert not ConsentDecision.objects.exists()
    assert not SectionRule.objects.exists()


def test_clean_gives_the_same_answer_as_the_database(world, carer, care_plan, disagreement):
    scope, _, message = disagreement
    with pytest.raises(ValidationError) as refused:
        ConsentDecision(**decision_fields(world, carer, care_plan, **scope)).clean()
    assert refused.value.messages == [message]
    ConsentDecision(**decision_fields(world, carer, care_plan)).clean()
    ConsentDecision(**decision_fields(world, carer, care_plan, item=None)).clean()


def test_clean_refuses_current_decisions_about_something_else(world, carer, care_plan):
    early_signs, practical = crisis(care_plan), crisis(care_plan, "practical")
    about_practical = consent_decide_item(item=practical, carer=carer, shared=True,
                                          decided_by=world.service_user_account)
    crisis_rule = consent_decide_section(plan=care_plan, section="crisis", carer=carer,
                                         shared=True, decided_by=world.service_user_account)
    with pytest.raises(ValidationError):
        ItemConsent(carer=carer, item=early_signs, decision=about_practical).clean()
    with pytest.raises(ValidationError):
        ItemConsent(carer=carer, item=early_signs, decision=crisis_rule).clean()
    with pytest.raises(ValidationError):
        SectionRule(carer=carer, plan=care_plan, section="risk", decision=crisis_rule).clean()
    with pytest.raises(ValidationError):
        SectionRule(carer=carer, plan=care_plan, section="crisis",
                    decision=about_practical).clean()
    ItemConsent(carer=carer, item=practical, decision=about_practical).clean()
    SectionRule(carer=carer, plan=care_plan, section="crisis", decision=crisis_rule).clean()


# --- Every grant names its decision ---------------------------------------------------------


def test_a_grant_cannot_be_written_without_a_decision(world, carer, care_plan):
    item = crisis(care_plan)
    consent_decide_item(item=item, carer=carer, shared=True,
                        decided_by=world.service_user_account)
    grant = PlanItemUserObjectPermission.objects.get(user=world.carer_account)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanItemUserObjectPermission.objects.create(
            user=world.other_carer_account, permission=grant.permission, content_object=item)
    with pytest.raises(IntegrityError), transaction.atomic():
        PlanItemUserObjectPermission.objects.filter(pk=grant.pk).update(decision=None)


def test_a_decision_that_still_grants_cannot_be_deleted(world, carer, care_plan):
    """Decisions are history. Before, deleting one left its grant standing with nothing to
    say why (SET_NULL); now the grant protects it, as the current-decision rows do."""
    decision = consent_decide_item(item=crisis(care_plan), carer=carer, shared=True,
                                   decided_by=world.service_user_account)
    grant = PlanItemUserObjectPermission.objects.get(user=world.carer_account)
    with pytest.raises(ProtectedError) as refused, transaction.atomic():
        decision.delete()
    assert grant in refused.value.protected_objects
    assert PlanItemUserObjectPermission.objects.get().decision_id == decision.pk


# --- The migrations, back and forth ----------------------------------------------------------


def migrate_consent(target: str) -> StateApps:
    """Migrate the consent app to `target` (or its latest with "latest"); returns the
    models as they were there."""
    executor = MigrationExecutor(connection)
    if target == "latest":
        nodes = executor.loader.graph.leaf_nodes("consent")
    else:
        nodes = [("consent", target)]
    executor.migrate(nodes)
    executor.loader.build_graph()  # the executor's graph knows what has just been applied
    return executor.loader.project_state(nodes).apps


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_deletes_the_grants_that_name_no_decision(world, carer, care_plan):
    shared, unshared = crisis(care_plan), crisis(care_plan, "practical")
    decision = consent_decide_item(item=shared, carer=carer, shared=True,
                                   decided_by=world.service_user_account)
    try:
        before = migrate_consent("0002_decision_scope_constraints")
        old_grants = before.get_model("consent", "PlanItemUserObjectPermission").objects
        kept = old_grants.get(user_id=world.carer_account.pk)
        # Granted behind the services' back, as guardian's assign_perm would: no decision.
        for user, item in ((world.carer_account, unshared), (world.other_carer_account, shared)):
            old_grants.create(user_id=user.pk, permission_id=kept.permission_id,
                              content_object_id=item.pk, decision=None)
        assert old_grants.count() == 3
    finally:
        migrate_consent("latest")

    grant = PlanItemUserObjectPermission.objects.get()
    assert (grant.pk, grant.user_id, grant.content_object_id, grant.decision_id) == (
        kept.pk, world.carer_account.pk, shared.pk, decision.pk)
    assert consent_permissions_check() == []


@pytest.mark.django_db(transaction=True)
def test_the_constraints_migration_stops_at_rows_that_already_disagree(world, carer,
                                                                       care_plan):
    item = crisis(care_plan)
    try:
        before = migrate_consent("0001_initial")  # no constraints (and no triggers) yet
        old_decisions = before.get_model("consent", "ConsentDecision").objects
        wrong = old_decisions.create(
            service_user_id=world.other_service_user.pk, carer_id=carer.pk,
            plan_id=care_plan.pk, section="crisis", item_id=item.pk, shared=True,
            decided_by_id=world.service_user_account.pk, decided_as="service_user")
        with pytest.raises(RuntimeError) as refused:
            migrate_consent("latest")
        assert f"consent decisions {wrong.pk}." in str(refused.value)
        assert "Nothing was changed" in str(refused.value)
        assert old_decisions.filter(pk=wrong.pk).exists()
        wrong.delete()  # looked at by hand
    finally:
        migrate_consent("latest")
    consent_decide_item(item=item, carer=carer, shared=True,
                        decided_by=world.service_user_account)
    if connection.vendor == "postgresql":  # and the triggers are back
        refused_by_database(PLAN_IS_SERVICE_USERS, lambda: ConsentDecision.objects.update(
            service_user=world.other_service_user))
