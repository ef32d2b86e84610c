"""The things to do as pages show them, kept between pages (carecoord/todo/cache.py,
carecoord/freshness, ADR 0029): read from the cache while nothing they were worked out
from is written, and never shown once something is — after each change below, the kept
list is the list the records give afresh, for everyone it concerns, at once. Above all,
nobody keeps seeing anything about a person they no longer may."""

from __future__ import annotations

import datetime as dt
import html

import pytest
import time_machine
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carecoord import freshness
from carecoord.administration import services as administration_services
from carecoord.records import services as records_services
from carecoord.records.models import Allocation, BreakGlassAccess, Role
from carecoord.todo.cache import KEEP_SECONDS, things_to_do_for_page
from carecoord.todo.selectors import things_to_do
from consent import services as consent_services
from peersupport.models import Offer
from plans import services
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    plan_with_content,
    propose,
    sign,
)

pytestmark = pytest.mark.django_db


def kept(user) -> list:
    """The page's list, checked against the records read afresh."""
    found = things_to_do_for_page(viewer=user)
    assert found == things_to_do(viewer=user)
    return found


def kinds(user) -> set[str]:
    return {entry.kind for entry in kept(user)}


def queries_of(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        things_to_do_for_page(viewer=user)
    return len(captured)


def everyone(world) -> list:
    return [world.service_user_account, world.coordinator, world.carer_account,
            world.manager, world.other_coordinator, world.other_service_user_account,
            world.other_carer_account, world.other_manager]


def test_the_second_page_reads_nothing_and_shows_the_same_list(world):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    first = things_to_do_for_page(viewer=world.coordinator)
    assert first
    assert queries_of(world.coordinator) == 0
    assert things_to_do_for_page(viewer=world.coordinator) == first
    # Through the pages too: the header's count, then the home page's list.
    client = client_for(world.coordinator)
    page = html.unescape(client.get(f"/plans/{plan.pk}/").content.decode())
    assert f"Things to do ({len(first)})" in page


def test_a_version_proposed_and_signed_reaches_every_list_at_once(world):
    plan = plan_with_content(world)
    for user in everyone(world):
        kept(user)  # everyone's list is kept before the change
    version = propose(plan, world.coordinator)
    assert "sign_version" in kinds(world.service_user_account)
    assert "team_unsigned" in kinds(world.manager)
    sign(version, world.service_user_account)
    assert "sign_version" not in kinds(world.service_user_account)
    for user in everyone(world):
        kept(user)
    services.version_decline(version=version, signer=world.coordinator,
                             role="coordinator", reason="Not yet.")
    for user in everyone(world):
        kept(user)


def test_a_goal_added_reaches_the_service_users_list_at_once(world):
    plan = plan_with_content(world)
    assert "goal_agree" not in kinds(world.service_user_account)
    add_goal(plan, world.coordinator)
    assert "goal_agree" in kinds(world.service_user_account)


def test_a_coordinator_whose_allocation_ends_loses_the_person_at_once(world):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    assert kept(world.coordinator)
    allocation = Allocation.objects.get(coordinator=world.coordinator,
                                        episode__service_user=world.service_user)
    records_services.allocation_end(allocation=allocation, ended_by=world.manager,
                                    basis="team manager")
    assert kept(world.coordinator) == []
    page = html.unescape(client_for(world.coordinator).get("/").content.decode())
    assert world.service_user.name not in page.split('id="things-to-do"')[-1][:2000]


def test_a_coordinator_given_a_person_sees_their_things_at_once(world):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    assert kept(world.other_coordinator) == []
    records_services.allocation_create(
        episode=world.service_user.episodes.get(), coordinator=world.other_coordinator,
        allocated_by=world.manager, basis="team manager")
    assert kept(world.other_coordinator)


def test_a_carer_who_stops_caring_is_no_longer_asked_at_once(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    propose(plan, world.coordinator)
    assert "sign_version" in kinds(world.carer_account)
    world.carer_relationship.ended_on = clock.today()
    world.carer_relationship.save()
    assert kept(world.carer_account) == []


def test_newly_shared_is_never_kept_and_goes_once_read(world):
    plan = plan_with_content(world)
    item = add_item(plan, "needs_support", world.coordinator, "Help with letters")
    consent_services.consent_decide_item(
        item=item, carer=world.carer_relationship.carer, shared=True,
        decided_by=world.service_user_account)
    assert "newly_shared" in kinds(world.carer_account)
    # Looking is not a write: the list is not kept while it says "new".
    assert queries_of(world.carer_account) > 0
    client_for(world.carer_account).get(f"/carers/people/{world.carer_relationship.pk}/")
    assert "newly_shared" not in kinds(world.carer_account)
    assert queries_of(world.carer_account) == 0
    # Withdrawn: nothing new, at once.
    consent_services.consent_decide_item(
        item=add_item(plan, "needs_support", world.coordinator, "Another"),
        carer=world.carer_relationship.carer, shared=True,
        decided_by=world.service_user_account)
    assert "newly_shared" in kinds(world.carer_account)


def test_a_role_taken_away_empties_the_list_at_once(world):
    propose(plan_with_content(world), world.coordinator)
    assert kept(world.coordinator)
    records_services.user_role_revoke(user=world.coordinator, role=Role.COORDINATOR,
                                      revoked_by=world.admin)
    world.coordinator.refresh_from_db()
    assert kept(world.coordinator) == []


def test_a_team_setting_reaches_the_managers_list_at_once(world):
    kept(world.manager)
    team = world.team
    records_services.team_settings_update(team=team, changed_by=world.manager,
                                          **_team_settings(team))
    assert queries_of(world.manager) > 0


def _team_settings(team) -> dict:
    from carecoord.records.models import Team

    fields = [f.name for f in Team._meta.concrete_fields if f.name.startswith("stuck_")]
    return {name: getattr(team, name) for name in fields}


def test_a_model_it_does_not_know_changes_everyones_generation(world):
    kept(world.service_user_account)
    before = freshness.generations([freshness.EVERYTHING])
    from carecoord.freshness.receivers import _row_written

    # A row of a model that names nobody it knows: everyone's lists are worked out again.
    _row_written(Offer, Offer(), created=True)
    assert freshness.generations([freshness.EVERYTHING]) != before
    assert queries_of(world.service_user_account) > 0


def test_an_account_disabled_or_enabled_is_a_change(world):
    # Both are a QuerySet.update, which the model signals do not see: the service marks it.
    kept(world.coordinator)
    key = freshness.user_key(world.coordinator.pk)
    before = freshness.generations([key])
    administration_services.staff_account_disable(user=world.coordinator,
                                                  disabled_by=world.admin)
    disabled = freshness.generations([key])
    assert disabled != before
    administration_services.staff_account_enable(user=world.coordinator,
                                                 enabled_by=world.admin)
    assert freshness.generations([key]) not in (before, disabled)
    world.coordinator.refresh_from_db()
    assert queries_of(world.coordinator) > 0


def test_each_list_is_kept_for_part_of_the_last_fifth_never_longer():
    # Spread so that lists worked out together are not all worked out again together.
    draws = {freshness.kept_for(KEEP_SECONDS) for _ in range(500)}
    assert min(draws) >= KEEP_SECONDS - KEEP_SECONDS // freshness.SPREAD
    assert max(draws) <= KEEP_SECONDS
    assert len(draws) > 10
    assert freshness.kept_for(0) == 0
    assert all(1 <= freshness.kept_for(20) <= 20 for _ in range(100))


def test_kept_five_minutes_at_most_and_never_into_another_day(world):
    propose(plan_with_content(world), world.coordinator)
    kept(world.service_user_account)
    assert queries_of(world.service_user_account) == 0
    with time_machine.travel(timezone.now() + dt.timedelta(seconds=KEEP_SECONDS + 1)):
        assert queries_of(world.service_user_account) > 0
    cache.clear()
    kept(world.service_user_account)
    tomorrow = timezone.localtime().replace(hour=0, minute=0, second=1) + dt.timedelta(days=1)
    with time_machine.travel(tomorrow, tick=False):
        assert queries_of(world.service_user_account) > 0


def test_no_longer_than_an_emergency_access_lasts(world):
    now = timezone.now()
    BreakGlassAccess.objects.create(
        service_user=world.other_service_user, professional=world.coordinator,
        reason="Crisis at night", started_at=now, expires_at=now + dt.timedelta(seconds=20))
    kept(world.coordinator)
    assert queries_of(world.coordinator) == 0
    with time_machine.travel(now + dt.timedelta(seconds=21), tick=False):
        assert queries_of(world.coordinator) > 0



def _count_stuck_prompts(monkeypatch) -> list[int]:
    """A list that grows by one each time "getting stuck" is worked out."""
    from carecoord.reporting import stuck

    calls: list[int] = []
    prompts_for = stuck.prompts_for
    monkeypatch.setattr(stuck, "prompts_for",
                        lambda *args, **kwargs: calls.append(1) or prompts_for(*args, **kwargs))
    return calls


def _past_its_planned_end(world):
    """The service user's episode ten days past its planned end: a "getting stuck" prompt."""
    from carecoord.records.models import Episode

    episode = Episode.objects.get(service_user=world.service_user)
    episode.planned_end_on = clock.days(-10)
    episode.save()
    return episode


def test_the_home_pages_getting_stuck_list_is_kept_and_thrown_away_with_them(world, monkeypatch):
    calls = _count_stuck_prompts(monkeypatch)
    episode = _past_its_planned_end(world)
    client = client_for(world.coordinator)

    def home() -> str:
        return html.unescape(client.get("/").content.decode())

    assert "Who may be getting stuck" in home()
    assert len(calls) == 1
    assert "Who may be getting stuck" in home()
    assert len(calls) == 1  # kept: the header's list and the caseload's
    episode.planned_end_on = clock.days(30)
    episode.save()
    assert "may be getting stuck" not in home()
    assert len(calls) == 2
    # Another coordinator's list is theirs: nothing of this one's is shown to them.
    assert "Who may be getting stuck" not in html.unescape(
        client_for(world.other_coordinator).get("/").content.decode())


def test_signing_in_changes_no_generation(world, django_capture_on_commit_callbacks):
    before = freshness.generations([freshness.user_key(world.coordinator.pk)])
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        client_for(world.coordinator)
    assert callbacks == []
    assert freshness.generations([freshness.user_key(world.coordinator.pk)]) == before


def test_the_team_pages_getting_stuck_counts_are_kept_until_the_team_changes(world, monkeypatch):
    from django.http import Http404

    from carecoord.reporting import selectors as reporting_selectors

    calls = _count_stuck_prompts(monkeypatch)
    episode = _past_its_planned_end(world)

    def people_with_prompts() -> int:
        return reporting_selectors.team_stuck_summary_for_page(
            viewer=world.manager, team=world.team).people_with_prompts

    assert people_with_prompts() == 1
    assert people_with_prompts() == 1
    assert len(calls) == 1  # kept
    assert client_for(world.manager).get(f"/teams/{world.team.pk}/").status_code == 200
    episode.planned_end_on = clock.days(30)
    episode.save()  # a person in the team: the team's generation
    assert people_with_prompts() == 0
    assert len(calls) == 3  # the page's header and body, then afresh after the write
    # Kept for one manager is never shown to another, nor to a coordinator.
    for other in (world.other_manager, world.coordinator):
        with pytest.raises(Http404):
            reporting_selectors.team_stuck_summary_for_page(viewer=other, team=world.team)
        assert client_for(other).get(f"/teams/{world.team.pk}/").status_code == 404
