"""`policy.versions_signable_by` is the queryset form of `policy.can_sign`: for every
person and every version, in every state, the two give the same answer and the same role
(the things-to-do list asks the one; the signing page, the API and the services the other)."""

from __future__ import annotations

import pytest

from carecoord.records.models import Allocation, User
from consent import policy
from plans import services
from plans.models import PlanVersion
from plans.sections import PlanKind
from tests import clock
from tests.factories import AllocationFactory, CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import (
    add_responsibility,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
    sign,
    write,
)

pytestmark = pytest.mark.django_db


def _answers(user: User) -> dict[int, str | None]:
    signable = dict(policy.versions_signable_by(user).values_list("pk", "signing_as"))
    return {v.pk: signable.get(v.pk) for v in PlanVersion.objects.all()}


def _expected(user: User) -> dict[int, str | None]:
    return {v.pk: policy.can_sign(user, v) for v in PlanVersion.objects.all()}


def test_versions_signable_by_agrees_with_can_sign_for_everyone(world):
    # Open for everyone; a replaced one; a declined one; an agreed one.
    care_plan = plan_with_content(world)
    replaced = propose(care_plan, world.coordinator)
    write(prompt_item(care_plan, "hopes"), world.service_user_account, "To travel.")
    propose(care_plan, world.coordinator)
    wrap = plan_with_content(world, PlanKind.WRAP)
    declined = propose(wrap, world.service_user_account)
    services.version_decline(version=declined, signer=world.service_user_account,
                             role="service_user", reason="Not yet.")
    # A responsibility agreement naming the carer, signed by the coordinator already.
    agreement = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(agreement, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    named = propose(agreement, world.coordinator)
    sign(named, world.coordinator)
    # Someone who is both a carer (of Alex) and a coordinator (of nobody here), and a
    # second coordinator whose allocation ended.
    both = UserFactory(roles=["carer", "coordinator"])
    CarerRelationshipFactory(carer=CarerFactory(user=both, email=both.email),
                             service_user=world.service_user)
    former = UserFactory(roles=["coordinator"])
    world.team.coordinators.add(former)
    episode = Allocation.objects.filter(episode__service_user=world.service_user).first().episode
    AllocationFactory(episode=episode, coordinator=former, ended_on=clock.today())
    assert replaced.pk
    assert PlanVersion.objects.count() == 4

    people = [world.service_user_account, world.coordinator, world.carer_account, both,
              former, world.other_coordinator, world.other_service_user_account,
              world.other_carer_account, world.manager, world.admin, world.no_role]
    for person in people:
        assert _answers(person) == _expected(person), person
    # And the interesting ones are really there.
    assert _answers(world.carer_account)[named.pk] == "carer"
    assert _answers(world.coordinator)[named.pk] is None  # already signed
    assert _answers(world.service_user_account)[named.pk] == "service_user"
    assert _answers(world.service_user_account)[replaced.pk] is None
    assert _answers(world.service_user_account)[declined.pk] is None

    # A carer who stops caring is no longer a signer.
    world.carer_relationship.ended_on = clock.today()
    world.carer_relationship.save()
    assert _answers(world.carer_account) == _expected(world.carer_account)
    assert _answers(world.carer_account)[named.pk] is None
