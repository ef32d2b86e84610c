"""Who exactly can read an item (consent.policy.readers): the read rules seen from the
item's side. Checked against `items_visible_to` for every account in the database, so
the consent page's "Who can see this" can neither leave someone out nor add someone;
and said in plain words with the names people use."""

from __future__ import annotations

import datetime as dt

import pytest

from carecoord.careteam.services import break_glass_open
from carecoord.records.models import CareTeamRole, Role, User
from consent import policy
from consent.services import consent_decide_item, consent_decide_section
from consent.views import readers_words
from plans.models import PlanItem
from plans.sections import PlanKind
from tests import clock
from tests.carecoord.careteam_helpers import add_to_care_team, professional
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import add_item, make_plan, prompt_item, write


@pytest.fixture
def dad(world):
    user = UserFactory(roles=[Role.CARER], full_name="David Carer")
    return CarerRelationshipFactory(
        carer=CarerFactory(user=user, email=user.email, full_name="David Carer",
                           preferred_name="Dad"),
        service_user=world.service_user, relationship="Dad")


@pytest.fixture
def mum(world):
    carer = world.carer_relationship.carer
    carer.preferred_name = "Mum"
    carer.save()
    return world.carer_relationship


@pytest.fixture
def items(world, mum, dad) -> dict[str, PlanItem]:
    """Items in every area, shared in every way (and not), with a care team and an
    emergency access in place."""
    care_plan = make_plan(world)
    found = {
        "early_signs": write(prompt_item(care_plan, "early_signs"),
                             world.service_user_account, "Early signs."),
        "advance_statement": write(prompt_item(care_plan, "advance_statement"),
                                   world.service_user_account, "No haloperidol."),
        "needs": add_item(care_plan, "needs_support", world.service_user_account, "Lifts"),
        "risk": add_item(care_plan, "risk", world.coordinator, "Risk words"),
        "expired": add_item(care_plan, "risk", world.coordinator, "Shared last week"),
    }
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    found["wrap"] = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking")
    consent_decide_item(item=found["early_signs"], carer=mum.carer, shared=True,
                        decided_by=world.service_user_account)
    consent_decide_section(plan=care_plan, section="needs_support", carer=dad.carer,
                           shared=True, decided_by=world.service_user_account)
    consent_decide_item(item=found["expired"], carer=mum.carer, shared=True,
                        decided_by=world.service_user_account,
                        expires_on=clock.today())
    add_to_care_team(world, professional("Dr Nadia Okafor"), CareTeamRole.PSYCHOLOGIST)
    add_to_care_team(world, professional("Jo Duty"), CareTeamRole.DUTY_WORKER)
    add_to_care_team(world, professional("Future Member"), CareTeamRole.PSYCHIATRIST,
                     started_on=clock.today() + dt.timedelta(days=7))  # not yet in force
    break_glass_open(professional=professional("Emma Emergency"),
                     service_user=world.service_user,
                     reason="Brought to A&E at night; the crisis plan is needed now.",
                     basis="emergency")
    return found


def _readers_by_visibility(item: PlanItem) -> set[int]:
    return {user.pk for user in User.objects.all()
            if policy.items_visible_to(user, PlanItem.objects.filter(pk=item.pk)).exists()}


def test_the_readers_named_are_exactly_those_the_read_rules_let_read(world, items):
    readers = policy.item_readers(world.service_user, PlanItem.objects.filter(
        pk__in=[item.pk for item in items.values()]))
    for name, item in items.items():
        assert readers[item.pk].users == _readers_by_visibility(item), name


def test_the_readers_named_follow_time(world, items):
    # Tomorrow the share that ended today is over: the names change with the rules.
    item = items["expired"]
    with clock.travel_to(clock.today() + dt.timedelta(1)):
        readers = policy.item_readers(world.service_user, [item])
        assert readers[item.pk].users == _readers_by_visibility(item)
        assert not readers[item.pk].carers


def test_who_can_see_is_said_plainly_with_names(world, items):
    readers = policy.item_readers(world.service_user, list(items.values()))
    own = world.service_user_account

    def words(name: str, viewer: User = own) -> str:
        return readers_words(readers[items[name].pk], viewer=viewer,
                             service_user=world.service_user)

    assert words("wrap") == "you and your care coordinator, Sam Coordinator"
    assert words("needs") == ("you, your care coordinator Sam Coordinator, "
                              "Dr Nadia Okafor (psychologist, care team) and Dad")
    assert words("early_signs") == (
        "you, your care coordinator Sam Coordinator, Jo Duty (duty worker, care team), "
        "Emma Emergency (emergency access) and Mum")
    assert "Mum" in words("expired")  # until the end of today
    assert words("advance_statement", world.coordinator) == (
        f"{world.service_user.name}, you (their care coordinator) and "
        "Emma Emergency (emergency access)")
    assert "Future Member" not in " ".join(words(name) for name in items)


def test_nobody_but_the_person_and_their_coordinator_is_told_who_reads(world, items):
    from consent import selectors

    item = items["needs"]
    for user in (world.carer_account, world.other_coordinator, world.manager, world.admin):
        assert selectors.readers_of_items(viewer=user, service_user=world.service_user,
                                          items=[item]) == {}
        assert selectors.readers_of_record(viewer=user, service_user=world.service_user) \
            is None
