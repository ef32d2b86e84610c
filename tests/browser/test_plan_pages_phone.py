"""Plan pages on a phone (issue 12, points 2 and 6): at 375 px wide no plan page scrolls
sideways — the care plan with its versions table, the WRAP, a version, what changed
between versions, an item's history, the print view — for the coordinator and for the
service user; and a link in the contents list takes you to its section."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from plans import services
from plans.sections import PlanKind
from tests import clock
from tests.browser.conftest import screenshots_on_failure, sign_in
from tests.factories import PASSWORD
from tests.plans.factories import (
    add_goal,
    add_item,
    fill_crisis,
    make_plan,
    prompt_item,
    propose,
    sign,
    write,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
LONG_WORDS = ("I want to get back to the allotment on Tuesdays and Thursdays with my "
              "brother, and to cook for my friends on Sundays like I used to.")


def _plans(world):
    """A care plan with two versions (so the versions table has a "what changed" column),
    a goal with progress, and a WRAP waiting for the service user's signature."""
    care_plan = make_plan(world)
    write(prompt_item(care_plan, "recovery_meaning"), world.service_user_account, LONG_WORDS)
    fill_crisis(care_plan, world.coordinator, skip=("advance_statement",))
    goal = add_goal(care_plan, world.service_user_account, title="Swim at the leisure centre")
    services.progress_record(item=goal, recorded_by=world.service_user_account,
                             recorded_on=clock.today(), rating=6,
                             note="Went twice this week, once with my brother.")
    first = propose(care_plan, world.coordinator)
    sign(first, world.coordinator)
    hopes = prompt_item(care_plan, "hopes")
    write(hopes, world.service_user_account, LONG_WORDS)
    write(hopes, world.service_user_account, LONG_WORDS + " And a holiday.")
    propose(care_plan, world.coordinator)

    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking the dog",
             body="Every morning, whatever the weather.")
    add_item(wrap, "triggers", world.service_user_account, "Loud, crowded places",
             body="I leave, put my headphones on and walk home the long way.")
    wrap_version = propose(wrap, world.service_user_account)
    return care_plan, wrap, wrap_version, hopes


def _fits(page: Page, url: str) -> None:
    page.goto(url)
    expect(page.locator("h1")).to_be_visible()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{url} is {width} px wide at 375 px"


@pytest.fixture
def phones(request, tmp_path, browser, live_server, live_world):
    """A phone-sized browser context each for the coordinator and the service user."""
    contexts = [browser.new_context(viewport=PHONE), browser.new_context(viewport=PHONE)]
    coordinator, service_user = (context.new_page() for context in contexts)
    try:
        for page in (coordinator, service_user):
            page.set_default_timeout(10_000)
        sign_in(coordinator, live_server, live_world.coordinator.email, PASSWORD)
        sign_in(service_user, live_server, live_world.service_user_account.email, PASSWORD)
        yield coordinator, service_user
        screenshots_on_failure(request, tmp_path, {"coordinator": coordinator,
                                                   "service-user": service_user})
    finally:
        for context in contexts:
            context.close()


def test_no_plan_page_scrolls_sideways_on_a_phone(phones, live_server, live_world):
    care_plan, wrap, wrap_version, hopes = _plans(live_world)
    latest = care_plan.versions.order_by("-number").first()
    urls = [
        reverse("plan_detail", args=[care_plan.pk]),
        reverse("plan_detail", args=[wrap.pk]),
        reverse("version_detail", args=[latest.pk]),
        reverse("version_detail", args=[wrap_version.pk]),
        reverse("version_diff", args=[care_plan.pk, 1, 2]),
        reverse("item_history", args=[hopes.pk]),
        reverse("plan_print", args=[care_plan.pk]),
    ]
    coordinator, service_user = phones
    for page in phones:
        for url in urls:
            _fits(page, f"{live_server.url}{url}")
    # The coordinator's plan forms: recording a review, the first meeting's steps.
    service_user_id = live_world.service_user.pk
    for url in (reverse("review_add", args=[care_plan.pk]),
                reverse("first_meeting_step", args=[service_user_id, "recovery"]),
                reverse("first_meeting_check", args=[service_user_id])):
        _fits(coordinator, f"{live_server.url}{url}")
    # The versions table is there, in its own box, and the page still fits.
    service_user.goto(f"{live_server.url}{urls[0]}")
    table_box = service_user.get_by_role("region", name="Versions of this care plan")
    expect(table_box).to_be_visible()
    expect(table_box.locator("table")).to_contain_text("What changed since version 1")


def test_a_contents_link_takes_you_to_its_section(phones, live_server, live_world):
    care_plan, wrap, _, _ = _plans(live_world)
    coordinator, service_user = phones
    service_user.goto(f"{live_server.url}{reverse('plan_detail', args=[care_plan.pk])}")
    contents = service_user.get_by_role("navigation", name="On this page")
    expect(contents).to_be_visible()
    heading = service_user.get_by_role("heading", name="Crisis and contingency plan",
                                       exact=True)
    expect(heading).not_to_be_in_viewport()
    contents.get_by_role("link", name="Crisis and contingency plan").click()
    expect(heading).to_be_in_viewport()
    assert service_user.url.endswith("#section-crisis")
    # The section's state is said in words beside its link.
    expect(contents.locator("li", has_text="Crisis and contingency plan")).to_contain_text(
        "Incomplete")

    # At the top, the way to sign: it lands on the signing form of the waiting version.
    service_user.goto(f"{live_server.url}{reverse('plan_detail', args=[care_plan.pk])}")
    service_user.get_by_role("link", name="Sign your care plan").first.click()
    expect(service_user.get_by_role("heading", name="Sign this version")).to_be_in_viewport()

    coordinator.goto(f"{live_server.url}{reverse('plan_detail', args=[wrap.pk])}")
    wrap_contents = coordinator.get_by_role("navigation", name="On this page")
    triggers = coordinator.get_by_role("heading", name="Triggers and action plan", exact=True)
    wrap_contents.get_by_role("link", name="Triggers and action plan").click()
    expect(triggers).to_be_in_viewport()
    assert coordinator.url.endswith("#section-triggers")
