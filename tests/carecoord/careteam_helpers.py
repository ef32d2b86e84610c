"""A record with something in every area the care-team table hands out, and the
professionals who may be named on its care team (tests of points 12 and 13)."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import reverse

from carecoord.careteam import services as care_team_services
from carecoord.records.models import CareTeamMember, Role, User
from consent import policy
from plans.models import Plan, PlanItem, PlanVersion
from plans.sections import PlanKind
from tests import clock
from tests.factories import UserFactory
from tests.plans.factories import (
    add_item,
    make_plan,
    prompt_item,
    propose,
    reload,
    sign,
    write,
)

NHS_NUMBER = "9434765919"

# Words written in each part of the record, to look for on every surface.
WORDS = {
    "care_plan": "Cooking jollof for my friends again",
    "goal": "Back to the allotment on Tuesdays",
    "crisis_plan": "I stop answering the phone and sleep all day",
    "advance_statement": "I refuse olanzapine because of the weight gain",
    "wrap": "Walking the dog along the river every morning",
    "contacts": "07700 900123",
    "discharge_plan": "Weekly check-ins with the recovery college after discharge",
}


@dataclass
class Record:
    care_plan: Plan
    wrap: Plan
    version: PlanVersion
    items: dict[str, PlanItem]  # by the key of WORDS


@pytest.fixture
def record(world) -> Record:
    service_user = world.service_user
    service_user.nhs_number = NHS_NUMBER
    service_user.phone = WORDS["contacts"]
    service_user.save()
    service_user.episodes.update(discharge_plan=WORDS["discharge_plan"])
    care_plan = make_plan(world)
    items = {
        "care_plan": write(prompt_item(care_plan, "recovery_meaning"),
                           world.service_user_account, WORDS["care_plan"]),
        "goal": add_item(care_plan, "goals", world.coordinator, WORDS["goal"],
                         details={"domain": "connectedness",
                                  "target_on": clock.days(300).isoformat()}),
        "crisis_plan": write(prompt_item(care_plan, "early_signs"), world.coordinator,
                             WORDS["crisis_plan"]),
        "advance_statement": write(prompt_item(care_plan, "advance_statement"),
                                   world.service_user_account, WORDS["advance_statement"]),
    }
    version = propose(care_plan, world.coordinator)
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    items["wrap"] = add_item(wrap, "wellness_toolbox", world.service_user_account,
                             "Walking", body=WORDS["wrap"])
    return Record(care_plan=care_plan, wrap=wrap, version=reload(version), items=items)


def professional(name: str = "Dr Nadia Okafor") -> User:
    return UserFactory(roles=[Role.PROFESSIONAL], full_name=name)


def add_to_care_team(world, member: User, role: str, *, started_on=None, ended_on=None,
                     by: User | None = None) -> CareTeamMember:
    """Added as the allocated coordinator's page would (the policy asked first)."""
    by = by or world.coordinator
    assert policy.may_join_care_team(by, world.service_user, member)
    return care_team_services.care_team_member_add(
        service_user=world.service_user, member=member, care_team_role=role,
        started_on=started_on or clock.today(), ended_on=ended_on, added_by=by,
        basis="allocated care coordinator",
    )


def record_url(world) -> str:
    return reverse("service_user_detail", args=[world.service_user.pk])


def plan_url(plan: Plan) -> str:
    return reverse("plan_detail", args=[plan.pk])


def item_url(item: PlanItem) -> str:
    return reverse("item_history", args=[item.pk])
