"""Who may see and change which plan, written out as a table: every role against every
plan kind. Anything not visible is a 404; WRAP content is the service user's alone; a
carer named on a responsibility agreement sees that agreement's version and nothing
else; an ended allocation ends a coordinator's access."""

from __future__ import annotations

import pytest
from django.http import Http404

from carecoord.records.services import allocation_end
from consent import policy
from plans.models import Plan
from plans.sections import PlanKind, sections_for
from tests.factories import CarerRelationshipFactory
from tests.plans.factories import (
    add_responsibility,
    make_plan,
    plan_with_content,
    propose,
    sign,
)

CARE_PLAN, WRAP, AGREEMENT = (PlanKind.CARE_PLAN, PlanKind.WRAP,
                              PlanKind.RESPONSIBILITY_AGREEMENT)

ROLES = {
    # role in the table: the World attribute of that person
    "coordinator": "coordinator",  # allocated to world.service_user
    "other_coordinator": "other_coordinator",  # same team, not allocated
    "service_user": "service_user_account",  # the plans' owner
    "other_service_user": "other_service_user_account",
    "carer": "carer_account",  # a carer of world.service_user
    "other_carer": "other_carer_account",
    "manager": "manager",  # manages the team
    "admin": "admin",  # superuser: no special access to records
}

ALL_CARE_PLAN_SECTIONS = {"recovery_meaning", "hopes", "goals", "needs_support", "crisis",
                          "risk", "carer_involvement", "planned_end"}
ALL_WRAP_SECTIONS = {"wellness_toolbox", "daily_maintenance", "triggers",
                     "early_warning_signs", "breaking_down", "wrap_crisis", "post_crisis"}
ALL_AGREEMENT_SECTIONS = {"responsibilities"}
NOTHING: set[str] = set()

# (role, kind): (may view, sections they may edit)
EXPECTED = {
    ("coordinator", CARE_PLAN): (True, ALL_CARE_PLAN_SECTIONS),
    ("coordinator", WRAP): (True, NOTHING),
    ("coordinator", AGREEMENT): (True, ALL_AGREEMENT_SECTIONS),
    ("other_coordinator", CARE_PLAN): (False, NOTHING),
    ("other_coordinator", WRAP): (False, NOTHING),
    ("other_coordinator", AGREEMENT): (False, NOTHING),
    ("service_user", CARE_PLAN): (True, {"recovery_meaning", "hopes", "goals"}),
    ("service_user", WRAP): (True, ALL_WRAP_SECTIONS),
    ("service_user", AGREEMENT): (True, ALL_AGREEMENT_SECTIONS),
    ("other_service_user", CARE_PLAN): (False, NOTHING),
    ("other_service_user", WRAP): (False, NOTHING),
    ("other_service_user", AGREEMENT): (False, NOTHING),
    ("carer", CARE_PLAN): (False, NOTHING),
    ("carer", WRAP): (False, NOTHING),
    ("carer", AGREEMENT): (False, NOTHING),
    ("other_carer", CARE_PLAN): (False, NOTHING),
    ("other_carer", WRAP): (False, NOTHING),
    ("other_carer", AGREEMENT): (False, NOTHING),
    ("manager", CARE_PLAN): (False, NOTHING),
    ("manager", WRAP): (False, NOTHING),
    ("manager", AGREEMENT): (False, NOTHING),
    ("admin", CARE_PLAN): (False, NOTHING),
    ("admin", WRAP): (False, NOTHING),
    ("admin", AGREEMENT): (False, NOTHING),
}

CASES = [pytest.param(role, kind, id=f"{role}-{kind}") for role, kind in EXPECTED]


def test_the_table_covers_every_role_and_kind_and_every_section():
    assert set(EXPECTED) == {(role, kind) for role in ROLES for kind in PlanKind}
    assert {s.code for s in sections_for(CARE_PLAN)} == ALL_CARE_PLAN_SECTIONS
    assert {s.code for s in sections_for(WRAP)} == ALL_WRAP_SECTIONS
    assert {s.code for s in sections_for(AGREEMENT)} == ALL_AGREEMENT_SECTIONS


@pytest.fixture
def plans(world) -> dict[str, Plan]:
    """One plan of each kind for world.service_user, each with a proposed version."""
    result = {}
    for kind in PlanKind:
        plan = plan_with_content(world, kind)
        propose(plan, world.coordinator)
        result[kind] = plan
    return result


@pytest.mark.parametrize(("role", "kind"), CASES)
def test_who_may_view_each_plan(world, plans, role, kind):
    viewer = getattr(world, ROLES[role])
    plan = plans[kind]
    may_view, _ = EXPECTED[role, kind]

    assert (plan in policy.plans_visible_to(viewer)) is may_view
    assert (plan in policy.plans_visible_to(viewer, Plan.objects.filter(kind=kind))) is may_view
    assert policy.items_visible_to(viewer, plan.items.all()).exists() is may_view
    assert policy.versions_visible_to(viewer, plan.versions.all()).exists() is may_view
    if may_view:
        opened, _basis = policy.plan_for_viewer(viewer, plan.pk)
        assert opened == plan
    else:
        with pytest.raises(Http404):
            policy.plan_for_viewer(viewer, plan.pk)
        with pytest.raises(Http404):
            policy.version_for_viewer(viewer, plan.versions.get().pk)
        with pytest.raises(Http404):
            policy.item_for_viewer(viewer, plan.items.first().pk)


@pytest.mark.parametrize(("role", "kind"), CASES)
def test_who_may_edit_which_sections(world, plans, role, kind):
    viewer = getattr(world, ROLES[role])
    plan = plans[kind]
    _, editable = EXPECTED[role, kind]

    allowed = {s.code for s in sections_for(kind) if policy.can_edit_section(viewer, plan, s.code)}
    assert allowed == editable
    for item in plan.items.all():
        assert policy.can_edit_item(viewer, item) is (item.section in editable)


# --- A carer named on a responsibility agreement ---------------------------------------


@pytest.fixture
def named_carer(world):
    """The care plan and a responsibility agreement naming world's carer, both proposed."""
    care_plan = plan_with_content(world)
    care_version = propose(care_plan, world.coordinator)
    agreement = make_plan(world, AGREEMENT)
    add_responsibility(agreement, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk,
                       title="Driving Alex to the Thursday group")
    agreement_version = propose(agreement, world.coordinator)
    return care_plan, care_version, agreement, agreement_version


def test_a_named_carer_sees_that_agreements_version_and_nothing_else(world, named_carer):
    care_plan, care_version, agreement, agreement_version = named_carer
    carer = world.carer_account

    assert list(policy.versions_visible_to(carer)) == [agreement_version]
    assert policy.version_for_viewer(carer, agreement_version.pk) == agreement_version
    assert policy.signer_role(carer, agreement_version) == "carer"
    # Not the plans themselves, not their items, not the care plan's version.
    assert not policy.plans_visible_to(carer).exists()
    assert not policy.items_visible_to(carer).exists()
    for plan in (care_plan, agreement):
        with pytest.raises(Http404):
            policy.plan_for_viewer(carer, plan.pk)
        assert not any(policy.can_edit_section(carer, plan, s.code) for s in plan.sections)
    with pytest.raises(Http404):
        policy.version_for_viewer(carer, care_version.pk)
    assert policy.signer_role(carer, care_version) is None
    # Another carer sees none of it.
    assert not policy.versions_visible_to(world.other_carer_account).exists()


def test_a_named_carer_still_sees_the_version_after_it_is_agreed(world, named_carer):
    *_, agreement_version = named_carer
    for person in (world.service_user_account, world.coordinator, world.carer_account):
        sign(agreement_version, person)
    assert list(policy.versions_visible_to(world.carer_account)) == [agreement_version]


def test_a_carer_whose_relationship_ended_no_longer_sees_the_agreement(world, named_carer):
    *_, agreement_version = named_carer
    carer = world.carer_relationship.carer
    # They still care for someone else, so they have an active relationship elsewhere.
    CarerRelationshipFactory(carer=carer, service_user=world.other_service_user)
    world.carer_relationship.ended_on = world.carer_relationship.started_on
    world.carer_relationship.save()

    assert not policy.versions_visible_to(world.carer_account).filter(
        plan__service_user=world.service_user).exists()
    with pytest.raises(Http404):
        policy.version_for_viewer(world.carer_account, agreement_version.pk)
    assert policy.signer_role(world.carer_account, agreement_version) is None


# --- An ended allocation ends the coordinator's access --------------------------------


def test_an_ended_allocation_removes_the_coordinators_access_to_plans(world, plans):
    coordinator = world.coordinator
    assert policy.plans_visible_to(coordinator).count() == 3
    allocation = world.service_user.episodes.get().allocations.get(coordinator=coordinator)

    allocation_end(allocation=allocation, ended_by=world.manager, basis="team manager")

    assert not policy.plans_visible_to(coordinator).exists()
    assert not policy.items_visible_to(coordinator).exists()
    assert not policy.versions_visible_to(coordinator).exists()
    for plan in plans.values():
        with pytest.raises(Http404):
            policy.plan_for_viewer(coordinator, plan.pk)
        with pytest.raises(Http404):
            policy.version_for_viewer(coordinator, plan.versions.get().pk)
        with pytest.raises(Http404):
            policy.item_for_viewer(coordinator, plan.items.first().pk)
        assert not any(policy.can_edit_section(coordinator, plan, s.code)
                       for s in plan.sections)
        assert not policy.can_propose_version(coordinator, plan)
        assert policy.signer_role(coordinator, plan.versions.get()) is None
    # The service user keeps everything.
    assert policy.plans_visible_to(world.service_user_account).count() == 3


def test_only_the_allocated_coordinator_suggests_on_a_wrap(world, plans):
    wrap = plans[WRAP]
    who_may = {role for role, attr in ROLES.items()
               if policy.can_suggest(getattr(world, attr), wrap)}
    assert who_may == {"coordinator"}
    assert not policy.can_suggest(world.coordinator, plans[CARE_PLAN])
