"""The carer's "shared with me" page at the size of a trust (issue 15): its queries do not
grow with the number of plans or goals shared, and it still shows exactly what the policy
lets the carer read (each plan's latest version they may open, a goal's progress notes
only where the sharing decision shares them)."""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from consent.services import consent_decide_item, consent_decide_section
from plans import services as plan_services
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    propose,
    sign,
    write,
)

pytestmark = pytest.mark.django_db


def _page_queries(client, url: str) -> int:
    client.get(url)  # the first view's one-off work (sessions, caches) is not the page's
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _goal_with_notes(world, plan, carer, *, title: str, shares_notes: bool):
    goal = add_goal(plan, world.service_user_account, title=title)
    plan_services.progress_record(item=goal, recorded_by=world.service_user_account,
                                  recorded_on=clock.days(-3), rating=6,
                                  note=f"Notes about {title}")
    consent_decide_item(item=goal, carer=carer, shared=True,
                        decided_by=world.service_user_account,
                        include_progress_notes=shares_notes)
    return goal


def _care_plan_signed_then_changed(world, carer):
    """A care plan with two goals shared (one with its notes), signed as version 1 and
    changed and proposed again as version 2: (the plan, its latest version)."""
    care_plan = make_plan(world)
    _goal_with_notes(world, care_plan, carer, title="Swimming", shares_notes=True)
    _goal_with_notes(world, care_plan, carer, title="Cooking", shares_notes=False)
    first = propose(care_plan, world.coordinator)
    sign(first, world.service_user_account)
    sign(first, world.coordinator)
    write(care_plan.items.get(title="Swimming"), world.service_user_account,
          "Three times a week now.")
    return care_plan, propose(care_plan, world.coordinator)


def test_the_page_asks_the_same_queries_for_one_plan_or_three(world):
    carer = world.carer_relationship.carer
    url = f"/carers/people/{world.carer_relationship.pk}/"
    client = client_for(world.carer_account)

    care_plan = make_plan(world)
    consent_decide_section(plan=care_plan, section="crisis", carer=carer, shared=True,
                           decided_by=world.service_user_account)
    _goal_with_notes(world, care_plan, carer, title="Swimming", shares_notes=True)
    propose(care_plan, world.coordinator)
    one_plan = _page_queries(client, url)

    # Two more plans with something shared and a version each, and more goals: before,
    # each plan cost a query for its latest version.
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    shared = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking the dog")
    consent_decide_item(item=shared, carer=carer, shared=True,
                        decided_by=world.service_user_account)
    propose(wrap, world.service_user_account)
    agreement = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    consent_decide_section(plan=agreement, section="responsibilities", carer=carer,
                           shared=True, decided_by=world.service_user_account)
    add_responsibility(agreement, world.coordinator)
    for n in range(5):
        _goal_with_notes(world, care_plan, carer, title=f"Goal {n}", shares_notes=n % 2 == 0)

    assert _page_queries(client, url) == one_plan


def test_the_page_links_each_plans_latest_version_and_shows_only_shared_notes(world):
    carer = world.carer_relationship.carer
    _, latest = _care_plan_signed_then_changed(world, carer)
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    shared = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking the dog")
    consent_decide_item(item=shared, carer=carer, shared=True,
                        decided_by=world.service_user_account)
    # The WRAP has no version: no link for it.

    page = client_for(world.carer_account).get(
        f"/carers/people/{world.carer_relationship.pk}/").content.decode()

    assert f'href="/plans/versions/{latest.pk}/"' in page
    assert page.count('href="/plans/versions/') == 1
    assert "Notes about Swimming" in page
    assert "Notes about Cooking" not in page
    assert "Walking the dog" in page


def test_the_pages_carer_parts_of_the_rules_answer_as_the_whole_rules_for_a_carer(world):
    """The page asks only the carer's part of the progress-notes and versions rules (the
    rest, whole-record and care-team readers, is never a carer's basis); for a carer
    the two answer the same, and the carer's part never reaches an older version."""
    from consent import policy
    from plans.models import PlanItem, PlanVersion

    carer = world.carer_relationship.carer
    care_plan, latest = _care_plan_signed_then_changed(world, carer)
    viewer = world.carer_account

    def ids(queryset) -> set[int]:
        return set(queryset.values_list("pk", flat=True))

    progress = ids(policy.items_with_progress_shared_with(viewer, PlanItem.objects.all()))
    assert progress == ids(policy.items_with_progress_visible_to(viewer,
                                                                 PlanItem.objects.all()))
    assert progress == {care_plan.items.get(title="Swimming").pk}
    versions = ids(policy.versions_shared_with(viewer, PlanVersion.objects.all()))
    assert versions == {latest.pk}
    assert versions <= ids(policy.versions_visible_to(viewer, PlanVersion.objects.all()))
    # Someone else's carer, and nobody signed in, get nothing from either part.
    other = world.other_carer_account
    assert not policy.items_with_progress_shared_with(other, PlanItem.objects.all()).exists()
    assert not policy.versions_shared_with(other, PlanVersion.objects.all()).exists()
