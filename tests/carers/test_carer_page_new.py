"""The carer's page for a person marks what is new since the carer last looked, by the
same rule as the things to do ("Alex has shared 3 new things with you",
carecoord.audit.selectors): the same items, the link to the first of them, nothing new
on a reload, everything new on a first look; the service user's preview marks nothing
and records nothing; and the page's queries do not grow with what is new."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.dateformat import format as date_format

from carecoord.audit.models import AccessEvent
from carecoord.todo.selectors import things_to_do
from consent.services import consent_decide_item, consent_decide_section
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    prompt_item,
)

pytestmark = pytest.mark.django_db

NEW_TAG = '<strong class="nhsuk-tag nhsuk-tag--blue">New'


def page_url(world) -> str:
    return reverse("carer_person", args=[world.carer_relationship.pk])


def look(world, client=None) -> str:
    response = (client or client_for(world.carer_account)).get(page_url(world))
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def cards(page: str) -> dict[int, str]:
    """Each shared item's card on the page, by item id, in the page's order."""
    found = {}
    for chunk in page.split('<div class="nhsuk-card" id="shared-item-')[1:]:
        pk, _, rest = chunk.partition('"')
        found[int(pk)] = rest.split("</h4>")[0]
    return found


def marked_new(page: str) -> list[int]:
    return [pk for pk, heading in cards(page).items() if NEW_TAG in heading]


def summary_link(page: str) -> str | None:
    match = re.search(r'<a href="#(shared-item-\d+)">Alex Service has shared', page)
    return match.group(1) if match else None


def share(world, *items) -> None:
    for item in items:
        consent_decide_item(item=item, carer=world.carer_relationship.carer, shared=True,
                            decided_by=world.service_user_account)


def newly_shared(world):
    return [e for e in things_to_do(viewer=world.carer_account) if e.kind == "newly_shared"]


def test_things_shared_since_the_last_look_are_marked_new_with_the_day_of_that_look(world):
    with clock.travel_to(clock.days(-5)):
        plan = make_plan(world)
        before = [add_item(plan, "needs_support", world.coordinator, "Help with letters"),
                  add_item(plan, "needs_support", world.coordinator, "Shopping on Fridays")]
        share(world, *before)
    with clock.travel_to(clock.days(-3)):
        look(world)
    later = [add_item(plan, "needs_support", world.coordinator, "Lifts to the clinic"),
             add_goal(plan, world.service_user_account, title="Back to the allotment")]
    share(world, *later)

    page = look(world)

    assert sorted(marked_new(page)) == sorted(item.pk for item in later)
    assert set(cards(page)) == {item.pk for item in before + later}
    when = date_format(clock.days(-3), "j F Y")
    assert (f"Alex Service has shared 2 new things with you</a> since you last looked on "
            f"{when}.") in page
    # Goals come before needs on the page: the line links to the first one marked.
    assert summary_link(page) == f"shared-item-{later[1].pk}"
    assert '<span class="nhsuk-u-visually-hidden"> since you last looked</span>' in page


def test_a_reload_shows_nothing_new(world):
    plan = make_plan(world)
    share(world, add_item(plan, "needs_support", world.coordinator, "Help with letters"))
    client = client_for(world.carer_account)
    assert len(marked_new(look(world, client))) == 1

    again = look(world, client)

    assert marked_new(again) == []
    assert NEW_TAG not in again
    assert summary_link(again) is None
    assert "new thing" not in again
    assert "Help with letters" in again


def test_looking_again_the_same_day_says_earlier_today(world):
    plan = make_plan(world)
    share(world, add_item(plan, "needs_support", world.coordinator, "Help with letters"))
    look(world)
    shopping = add_item(plan, "needs_support", world.coordinator, "Shopping")
    share(world, shopping)

    page = look(world)

    assert marked_new(page) == [shopping.pk]
    assert ("Alex Service has shared 1 new thing with you</a> since you last looked "
            "earlier today.") in page


def test_an_item_added_later_to_a_section_shared_by_a_rule_is_new(world):
    plan = make_plan(world)
    consent_decide_section(plan=plan, section="needs_support",
                           carer=world.carer_relationship.carer, shared=True,
                           decided_by=world.service_user_account)
    letters = add_item(plan, "needs_support", world.coordinator, "Help with letters")
    look(world)
    later = add_item(plan, "needs_support", world.coordinator, "Lifts to the clinic")

    page = look(world)

    assert set(cards(page)) == {letters.pk, later.pk}
    assert marked_new(page) == [later.pk]
    assert summary_link(page) == f"shared-item-{later.pk}"


def test_on_a_first_look_everything_shared_is_new(world):
    plan = make_plan(world)
    items = [add_item(plan, "needs_support", world.coordinator, "Help with letters"),
             prompt_item(plan, "recovery_meaning")]
    share(world, *items)
    assert not AccessEvent.objects.filter(actor=world.carer_account).exists()

    page = look(world)

    assert sorted(marked_new(page)) == sorted(item.pk for item in items)
    assert "Alex Service has shared 2 new things with you</a>. They are marked" in page
    assert "since you last looked" not in page  # they never had
    assert '<span class="nhsuk-u-visually-hidden"> to you</span>' in page
    assert summary_link(page) == f"shared-item-{items[1].pk}"  # recovery comes first


def test_the_page_and_the_things_to_do_count_the_same_items_and_link_to_the_first(world):
    care_plan = make_plan(world)
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    old = add_item(care_plan, "needs_support", world.coordinator, "Help with letters")
    share(world, old)
    look(world)
    # Crisis comes after goals on the page, and a WRAP before a responsibility agreement,
    # though not in the alphabet of their codes.
    crisis = prompt_item(care_plan, "early_signs")
    goal = add_goal(care_plan, world.service_user_account, title="Back to the allotment")
    toolbox = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking")
    share(world, crisis, goal, toolbox)
    agreement = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    consent_decide_section(plan=agreement, section="responsibilities",
                           carer=world.carer_relationship.carer, shared=True,
                           decided_by=world.service_user_account)
    responsibility = add_responsibility(agreement, world.coordinator)
    (entry,) = newly_shared(world)

    page = look(world)

    new = marked_new(page)
    assert sorted(new) == sorted([crisis.pk, goal.pk, toolbox.pk, responsibility.pk])
    assert entry.count == len(new) == 4
    assert f"Alex Service has shared {entry.count} new things with you</a>" in page
    assert new[0] == goal.pk
    assert entry.url == f"{page_url(world)}#{summary_link(page)}"
    assert summary_link(page) == f"shared-item-{goal.pk}"
    assert newly_shared(world) == []  # looked: gone from both
    assert marked_new(look(world)) == []


def test_a_carer_without_consent_gets_404_and_nothing_unshared_is_counted(world):
    plan = make_plan(world)
    shared = add_item(plan, "needs_support", world.coordinator, "Help with letters")
    secret = add_item(plan, "needs_support", world.coordinator, "Not for Linda")
    withdrawn = add_item(plan, "needs_support", world.coordinator, "Shared then withdrawn")
    share(world, shared, withdrawn)
    consent_decide_item(item=withdrawn, carer=world.carer_relationship.carer, shared=False,
                        decided_by=world.service_user_account)

    for outsider in (world.other_carer_account, world.coordinator, world.other_coordinator,
                     world.service_user_account):
        assert client_for(outsider).get(page_url(world)).status_code == 404
    assert not AccessEvent.objects.filter(action="carer_item.view").exists()

    page = look(world)
    assert marked_new(page) == [shared.pk]
    assert "Alex Service has shared 1 new thing with you</a>" in page
    for hidden in (secret, withdrawn):
        assert hidden.title not in page
        assert f"shared-item-{hidden.pk}" not in page


def test_a_carer_with_nothing_shared_sees_no_new_line(world):
    plan = make_plan(world)
    add_item(plan, "needs_support", world.coordinator, "Not for Linda")

    page = look(world)

    assert "has not shared anything from their plans with you" in page
    assert "new thing" not in page
    assert NEW_TAG not in page


def test_the_preview_marks_nothing_new_and_does_not_count_as_a_look(world):
    plan = make_plan(world)
    item = add_item(plan, "needs_support", world.coordinator, "Help with letters")
    share(world, item)
    preview = (f"/consent/service-users/{world.service_user.pk}/carers/"
               f"{world.carer_relationship.pk}/preview/")

    for viewer in (world.service_user_account, world.coordinator):
        response = client_for(viewer).get(preview)
        assert response.status_code == 200
        text = html.unescape(response.content.decode())
        assert "Help with letters" in text
        assert NEW_TAG not in text
        assert "new thing" not in text
        assert "last looked" not in text
    assert not AccessEvent.objects.filter(actor=world.carer_account).exists()
    assert marked_new(look(world)) == [item.pk]  # still new to the carer


def _queries(client, url: str) -> int:
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def test_the_pages_queries_do_not_grow_with_what_is_new(world):
    plan = make_plan(world)
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    share(world, add_item(plan, "needs_support", world.coordinator, "Help with letters"))
    client = client_for(world.carer_account)
    look(world, client)  # the first view's one-off work (sessions, caches) is not the page's

    share(world, add_item(plan, "needs_support", world.coordinator, "Shopping"))
    one_new = _queries(client, page_url(world))
    share(world, *[add_item(plan, "needs_support", world.coordinator, f"Need {n}")
                   for n in range(4)],
          *[add_item(wrap, "wellness_toolbox", world.service_user_account, f"Tool {n}")
            for n in range(4)])
    eight_new = _queries(client, page_url(world))

    assert eight_new == one_new
    assert one_new <= 12  # the benchmark's budget for this page (benchmarks/run.py)
