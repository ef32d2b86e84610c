"""The record page's carer panels and plan list ask the policy in its "on basis" forms
(issue 15: the record page was the heaviest page under load). These tests hold each form
to the rule it stands in for, for every viewer, and try to stretch them: a relationship
ended, only offered, or of another record gets the rule itself."""

from __future__ import annotations

import pytest
from django.urls import reverse

from carecoord.records.models import CareTeamRole, Role
from carers import selectors, services
from carers.models import (
    AssessmentRequest,
    CarerInsight,
    CarerNeeds,
    CarerRelationship,
    WellbeingCheckIn,
)
from consent import policy
from consent.policy import Basis
from plans import selectors as plan_selectors
from tests.carecoord.careteam_helpers import add_to_care_team, professional
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import make_plan

pytestmark = pytest.mark.django_db

RULES = {
    CarerNeeds: policy.carer_needs_visible_to,
    WellbeingCheckIn: policy.check_ins_visible_to,
    AssessmentRequest: policy.assessment_requests_visible_to,
    CarerInsight: policy.insights_visible_to,
}


@pytest.fixture
def carers(world):
    """Linda cares for Alex and for the other service user, and shares everything
    through both; a second carer of Alex shares, then the relationship ends; a third is
    only offered a relationship with Alex."""
    linda = world.carer_relationship.carer
    through_other = CarerRelationshipFactory(carer=linda, service_user=world.other_service_user)
    both = [world.carer_relationship, through_other]
    services.carer_needs_save(carer=linda, own_needs="Sleep through the night",
                              support_wanted="A break", shared_with=both)
    services.wellbeing_check_in_record(carer=linda, coping=3, shared_with=both)
    services.wellbeing_check_in_record(carer=linda, coping=8, shared_with=[through_other])
    services.assessment_request_create(carer=linda, shared_with=both)
    services.carer_insight_add(relationship=world.carer_relationship, text="Walks help")
    services.carer_insight_add(relationship=through_other, text="Music helps")

    ended = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=[Role.CARER])),
        service_user=world.service_user)
    services.carer_needs_save(carer=ended.carer, own_needs="Respite on Sundays",
                              support_wanted="Respite", shared_with=[ended])
    services.wellbeing_check_in_record(carer=ended.carer, coping=2, shared_with=[ended])
    services.carer_insight_add(relationship=ended, text="Quiet helps")
    services.carer_relationship_end(relationship=ended, ended_by=world.coordinator)
    offered = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=[Role.CARER])),
        service_user=world.service_user, status=CarerRelationship.Status.OFFERED)
    return {"ended": CarerRelationship.objects.get(pk=ended.pk), "offered": offered,
            "through_other": through_other}


def _rule(viewer, model, relationships) -> set[int]:
    """What the rule itself gives of what was shared through these relationships."""
    ids = [r.pk for r in relationships]
    if model is CarerInsight:
        queryset = CarerInsight.objects.filter(relationship_id__in=ids)
    else:
        queryset = model.objects.filter(shared_with__in=ids).distinct()
    return set(RULES[model](viewer, queryset).values_list("pk", flat=True))


def _on_record(viewer, basis, service_user, model, relationships) -> set[int]:
    return set(policy.carer_space_shared_on_record(
        viewer, basis, service_user.pk, relationships, model).values_list("pk", flat=True))


@pytest.mark.parametrize("model", list(RULES))
def test_the_allocated_coordinator_gets_what_the_rule_gives(world, carers, model):
    relationships = list(CarerRelationship.objects.active().filter(
        service_user=world.service_user))
    basis = policy.record_basis(world.coordinator, world.service_user)
    assert basis is Basis.ALLOCATED_COORDINATOR
    given = _on_record(world.coordinator, basis, world.service_user, model, relationships)
    assert given == _rule(world.coordinator, model, relationships)
    assert given  # Linda shared something of each kind through Alex


@pytest.mark.parametrize("model", list(RULES))
@pytest.mark.parametrize("which", ["ended", "offered", "through_other"])
def test_a_relationship_not_active_on_this_record_gets_the_rule(world, carers, model, which):
    """The coordinator's basis on Alex's record does not stretch to an ended or offered
    relationship of Alex's, nor to one with someone else: the rule decides, and gives
    nothing through them (Sam does not coordinate the other service user)."""
    relationships = [world.carer_relationship, carers[which]]
    given = _on_record(world.coordinator, Basis.ALLOCATED_COORDINATOR, world.service_user,
                       model, relationships)
    assert given == _rule(world.coordinator, model, relationships)
    assert given == _rule(world.coordinator, model, [world.carer_relationship])


@pytest.mark.parametrize("model", list(RULES))
def test_anyone_else_gets_the_rule(world, carers, model):
    relationships = list(CarerRelationship.objects.active().filter(
        service_user=world.service_user))
    nurse = professional()
    add_to_care_team(world, nurse, CareTeamRole.PSYCHIATRIST)
    for viewer in (world.service_user_account, world.other_coordinator, world.manager,
                   world.carer_account, world.admin, nurse):
        basis = policy.record_basis(viewer, world.service_user)
        assert basis is not Basis.ALLOCATED_COORDINATOR
        assert (_on_record(viewer, basis, world.service_user, model, relationships)
                == _rule(viewer, model, relationships))


def test_the_record_page_shows_the_carer_panels_as_before(world, carers):
    """Linda's needs, check-in, request and insight shared through Alex; nothing of the
    ended carer's; nothing shared only through the other service user."""
    panels = selectors.carer_panels_for_record(viewer=world.coordinator,
                                               service_user=world.service_user)
    assert [p.relationship for p in panels] == [world.carer_relationship]
    panel = panels[0]
    assert panel.needs.own_needs == "Sleep through the night"
    assert [c.coping for c in panel.check_ins] == [3]
    assert len(panel.assessment_requests) == 1
    assert [i.text for i in panel.insights] == ["Walks help"]
    page = client_for(world.coordinator).get(
        reverse("service_user_detail", args=[world.service_user.pk])).content.decode()
    for shown in ("Walks help", "Sleep through the night"):
        assert shown in page
    for not_shown in ("Quiet helps", "Respite on Sundays", "Music helps"):
        assert not_shown not in page


def test_no_one_but_the_allocated_coordinator_gets_panels(world, carers):
    for viewer in (world.service_user_account, world.other_coordinator, world.manager,
                   world.carer_account, world.admin):
        assert selectors.carer_panels_for_record(viewer=viewer,
                                                 service_user=world.service_user) == []


def test_a_records_carers_on_basis_are_the_rules(world, carers):
    nurse = professional()
    add_to_care_team(world, nurse, CareTeamRole.PSYCHIATRIST)
    queryset = CarerRelationship.objects.filter(service_user=world.service_user)
    for viewer in (world.coordinator, world.service_user_account, world.other_coordinator,
                   world.manager, world.carer_account, nurse):
        basis = policy.record_basis(viewer, world.service_user)
        assert (set(policy.carer_relationships_visible_on_basis(viewer, basis, queryset))
                == set(policy.carer_relationships_visible_to(viewer, queryset))), viewer


def test_a_records_plans_on_basis_are_the_rules(world):
    make_plan(world)
    nurse = professional()
    add_to_care_team(world, nurse, CareTeamRole.PSYCHIATRIST)
    for viewer in (world.coordinator, world.service_user_account, world.other_coordinator,
                   world.manager, world.carer_account, nurse):
        basis = policy.record_basis(viewer, world.service_user)
        on_basis = plan_selectors.plans_for_service_user(
            viewer=viewer, service_user=world.service_user, basis=basis)
        asked = plan_selectors.plans_for_service_user(viewer=viewer,
                                                      service_user=world.service_user)
        assert on_basis == asked, viewer
    assert plan_selectors.plans_for_service_user(
        viewer=world.coordinator, service_user=world.service_user,
        basis=Basis.ALLOCATED_COORDINATOR)


def test_who_sees_the_care_team_on_basis_is_the_rule(world):
    nurse, outsider = professional(), professional("Dr Someone Else")
    add_to_care_team(world, nurse, CareTeamRole.PSYCHIATRIST)
    for viewer in (world.coordinator, world.service_user_account, world.other_coordinator,
                   world.manager, world.other_manager, world.carer_account, nurse, outsider,
                   world.admin):
        basis = policy.record_basis(viewer, world.service_user)
        assert (policy.can_see_care_team(viewer, world.service_user, basis)
                == policy.can_see_care_team(viewer, world.service_user)), viewer
    assert policy.can_see_care_team(world.coordinator, world.service_user,
                                    Basis.ALLOCATED_COORDINATOR)
    assert not policy.can_see_care_team(outsider, world.service_user, None)
