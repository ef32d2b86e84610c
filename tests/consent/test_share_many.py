"""consent_decide_many: the consent page's one submission. Whole sections and chosen items
shared (or no longer shared) with one carer at once, with one end date, one basis and one
note; "only what is there now" shares a section's current items one by one; each
decision is the one the one-at-a-time services make (history, grants, audit,
notifications), all in one transaction; and a carer nobody shared with still finds
nothing anywhere."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_chain_extend, audit_chain_verify
from carecoord.notifications.models import Notification
from carecoord.records.models import Role
from consent import policy
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
    consent_decide_many,
    consent_decide_section,
)
from plans import services as plan_services
from plans.models import Plan, PlanItem
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import add_item, make_plan, prompt_item, write

CRISIS_CODES = [prompt.code for prompt in CRISIS_PROMPTS]


@pytest.fixture
def carer(world):
    return world.carer_relationship.carer


@pytest.fixture
def dad(world):
    """A second carer of the same person, with whom nothing is shared."""
    user = UserFactory(roles=[Role.CARER], full_name="David Carer")
    return CarerRelationshipFactory(
        carer=CarerFactory(user=user, email=user.email, full_name="David Carer"),
        service_user=world.service_user, relationship="Dad")


@pytest.fixture
def care_plan(world) -> Plan:
    plan = make_plan(world)
    for code in CRISIS_CODES:
        write(prompt_item(plan, code), world.service_user_account, f"Crisis answer {code}.")
    return plan


def visible(user) -> set[int]:
    return set(policy.items_shared_with(user).values_list("pk", flat=True))


def crisis_ids(plan: Plan) -> set[int]:
    return set(plan.items.filter(section="crisis").values_list("pk", flat=True))


def many(world, carer, *, by=None, **kwargs):
    kwargs.setdefault("shared", True)
    return consent_decide_many(service_user=world.service_user, carer=carer,
                               decided_by=by or world.service_user_account, **kwargs)


# --- Sharing ----------------------------------------------------------------------------


def test_a_whole_section_and_two_chosen_items_are_shared_in_one_go(world, carer, care_plan):
    support = [add_item(care_plan, "needs_support", world.service_user_account, title)
               for title in ("Lifts to appointments", "Shopping on Fridays", "Money")]
    until = clock.today() + dt.timedelta(days=30)
    done = many(world, carer, sections=[(care_plan, "crisis")], items=support[:2],
                expires_on=until, note="Talked it through")

    assert len(done.sections) == 1
    assert len(done.items) == 2
    assert visible(world.carer_account) == crisis_ids(care_plan) | {s.pk for s in support[:2]}
    assert support[2].pk not in visible(world.carer_account)
    # The same history as one decision at a time: a section rule, and items' own decisions.
    rule = SectionRule.objects.get(carer=carer, plan=care_plan, section="crisis")
    assert rule.decision.shared
    assert {c.item_id for c in ItemConsent.objects.filter(carer=carer)} == {
        s.pk for s in support[:2]}
    for decision in ConsentDecision.objects.all():
        assert decision.expires_on == until
        assert decision.note == "Talked it through"
        assert decision.decided_as == DecidedAs.SERVICE_USER
    assert set(PlanItemUserObjectPermission.objects.filter(
        user=world.carer_account).values_list("expires_on", flat=True)) == {until}
    # The same audit: one event per decision, with the actions the single services write.
    events = AccessEvent.objects.filter(action__startswith="consent.")
    assert sorted(e.action for e in events) == [
        "consent.section_share", "consent.share", "consent.share"]
    assert {e.target for e in events} == {f"consent_decision:{d.pk}" for d in done.decisions}
    assert audit_chain_extend() > 0
    assert audit_chain_verify() is None
    # The carer is told once how many new things there are, and nothing clinical.
    (told,) = Notification.objects.filter(user=world.carer_account)
    assert told.count == len(crisis_ids(care_plan)) + 2
    assert "Crisis answer" not in told.text


def test_a_section_shared_as_a_whole_includes_items_added_later(world, carer, care_plan):
    many(world, carer, sections=[(care_plan, "needs_support")])
    later = add_item(care_plan, "needs_support", world.service_user_account, "Added later")
    assert later.pk in visible(world.carer_account)


def test_only_what_is_there_now_shares_the_current_items_one_by_one(world, carer, care_plan):
    now = [add_item(care_plan, "needs_support", world.service_user_account, title)
           for title in ("Lifts", "Shopping")]
    done = many(world, carer, sections=[(care_plan, "needs_support")], later_items=False)
    assert done.sections == ()
    assert {d.item_id for d in done.items} == {i.pk for i in now}
    assert not SectionRule.objects.exists()
    assert visible(world.carer_account) == {i.pk for i in now}
    later = add_item(care_plan, "needs_support", world.service_user_account, "Added later")
    assert later.pk not in visible(world.carer_account)
    assert set(AccessEvent.objects.filter(action__startswith="consent.")
               .values_list("action", flat=True)) == {"consent.share"}


def test_only_what_is_there_now_ends_a_whole_section_rule_for_things_added_later(
    world, carer, care_plan
):
    now = add_item(care_plan, "needs_support", world.service_user_account, "Lifts")
    consent_decide_section(plan=care_plan, section="needs_support", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    many(world, carer, sections=[(care_plan, "needs_support")], later_items=False)
    assert visible(world.carer_account) == {now.pk}
    assert not SectionRule.objects.get(plan=care_plan, section="needs_support").decision.shared
    later = add_item(care_plan, "needs_support", world.service_user_account, "Added later")
    assert later.pk not in visible(world.carer_account)


def test_only_what_is_there_now_of_an_empty_section_is_an_error(world, carer, care_plan):
    with pytest.raises(ConsentError, match="nothing to share now"):
        many(world, carer, sections=[(care_plan, "needs_support")], later_items=False)
    assert not ConsentDecision.objects.exists()


def test_an_items_own_decision_still_comes_before_a_whole_section(world, carer, care_plan):
    private = prompt_item(care_plan, "advance_statement")
    consent_decide_item(item=private, carer=carer, shared=False,
                        decided_by=world.service_user_account)
    many(world, carer, sections=[(care_plan, "crisis")])
    assert visible(world.carer_account) == crisis_ids(care_plan) - {private.pk}


# --- Stopping ---------------------------------------------------------------------------


def test_stopping_a_whole_section_stops_everything_in_it_and_only_that(
    world, carer, care_plan
):
    needs = add_item(care_plan, "needs_support", world.service_user_account, "Lifts")
    one = prompt_item(care_plan, "early_signs")
    many(world, carer, sections=[(care_plan, "crisis")], items=[needs])
    consent_decide_item(item=one, carer=carer, shared=True,
                        decided_by=world.service_user_account)  # its own share too
    done = many(world, carer, shared=False, sections=[(care_plan, "crisis")])
    assert visible(world.carer_account) == {needs.pk}
    assert [d.item_id for d in done.items] == [one.pk]
    assert not done.sections[0].shared
    assert sorted(AccessEvent.objects.filter(action__endswith="withdraw")
                  .values_list("action", flat=True)) == [
        "consent.section_withdraw", "consent.withdraw"]


def test_stopping_chosen_items_hides_them_even_when_their_section_stays_shared(
    world, carer, care_plan
):
    many(world, carer, sections=[(care_plan, "crisis")])
    hide = [prompt_item(care_plan, "advance_statement"), prompt_item(care_plan, "practical")]
    many(world, carer, shared=False, items=hide)
    assert visible(world.carer_account) == crisis_ids(care_plan) - {i.pk for i in hide}
    assert SectionRule.objects.get(plan=care_plan, section="crisis").decision.shared


def test_stopping_what_is_not_shared_is_an_error_and_records_nothing(world, carer, care_plan):
    with pytest.raises(ConsentError, match="nothing to stop"):
        many(world, carer, shared=False, sections=[(care_plan, "crisis")],
             items=[prompt_item(care_plan, "early_signs")])
    assert not ConsentDecision.objects.exists()
    assert not AccessEvent.objects.filter(action__startswith="consent.").exists()


# --- What cannot be decided, and for whom -------------------------------------------------


def test_nothing_chosen_is_an_error(world, carer, care_plan):
    with pytest.raises(ConsentError, match="Choose at least one"):
        many(world, carer)


def test_a_coordinator_gives_one_basis_for_all_of_it_and_the_person_is_told_once(
    world, carer, care_plan
):
    with pytest.raises(ConsentError, match="basis"):
        many(world, carer, by=world.coordinator, sections=[(care_plan, "crisis")])
    assert not ConsentDecision.objects.exists()

    items = [prompt_item(care_plan, "early_signs"), prompt_item(care_plan, "practical")]
    done = many(world, carer, by=world.coordinator, sections=[(care_plan, "needs_support")],
                items=items, basis="Asked for this in our meeting")
    assert {d.basis for d in done.decisions} == {"Asked for this in our meeting"}
    assert {d.decided_as for d in done.decisions} == {DecidedAs.PROFESSIONAL}
    (told,) = Notification.objects.filter(user=world.service_user_account)
    assert told.count == 3
    assert "Asked for this in our meeting" in told.text


def test_a_past_end_date_refuses_the_whole_submission(world, carer, care_plan):
    with pytest.raises(ConsentError, match="today or later"):
        many(world, carer, sections=[(care_plan, "crisis")],
             expires_on=clock.today() - dt.timedelta(days=1))
    assert not ConsentDecision.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()


def test_someone_elses_plan_or_item_refuses_the_whole_submission(world, carer, care_plan):
    other = plan_services.plan_create(service_user=world.other_service_user,
                                      kind=PlanKind.WRAP,
                                      created_by=world.other_service_user_account)
    theirs = add_item(other, "wellness_toolbox", world.other_service_user_account, "Theirs")
    with pytest.raises(ConsentError):
        many(world, carer, items=[prompt_item(care_plan, "early_signs"), theirs])
    with pytest.raises(ConsentError):
        many(world, carer, sections=[(other, "wellness_toolbox")])
    with pytest.raises(ConsentError):
        many(world, carer, sections=[(care_plan, "wellness_toolbox")])  # not a care plan's
    assert not ConsentDecision.objects.exists()


def test_a_carer_without_consent_still_finds_nothing_on_any_surface(
    world, carer, dad, care_plan
):
    needs = add_item(care_plan, "needs_support", world.service_user_account, "Lifts",
                     body="Mum drives on Tuesdays.")
    many(world, carer, sections=[(care_plan, "crisis")], items=[needs])
    everything = set(PlanItem.objects.filter(plan=care_plan).values_list("pk", flat=True))
    for user in (dad.carer.user, world.other_carer_account):
        assert not visible(user)
        client = client_for(user)
        for pk in everything:
            assert client.get(f"/api/v1/items/{pk}/").status_code == 404
            assert client.get(f"/api/v1/items/{pk}/progress/").status_code == 404
    dad_page = client_for(dad.carer.user).get(f"/carers/people/{dad.pk}/")
    assert dad_page.status_code == 200
    assert "Crisis answer" not in dad_page.content.decode()
    assert "Mum drives on Tuesdays." not in dad_page.content.decode()
    assert client_for(dad.carer.user).get(
        f"/api/v1/carer/people/{dad.pk}/shared-items/").json()["results"] == []
    assert client_for(world.other_carer_account).get(
        f"/carers/people/{world.carer_relationship.pk}/").status_code == 404


def test_sharing_a_section_takes_the_same_queries_for_2_items_and_for_12(
    world, carer, care_plan
):
    def queries(section: str, count: int) -> int:
        for n in range(count):
            add_item(care_plan, section, world.service_user_account, f"{section} {n}")
        with CaptureQueriesContext(connection) as captured:
            many(world, carer, sections=[(care_plan, section)])
        return len(captured)

    assert queries("needs_support", 2) == queries("risk", 12)
