"""A coordinator and a service user build a care plan together in Chromium, each in their
own browser context (their own cookies, as on two devices): the coordinator starts it and
writes a crisis answer in a meeting, the service user writes what recovery means to them
and proposes a goal, both agree to the goal, one asks for signatures, both sign with their
passwords, and both see the plan as agreed."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.dateformat import format as date_format
from playwright.sync_api import Page, expect

from tests import clock
from tests.browser.conftest import fill_date, screenshots_on_failure, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECOVERY = "Cooking for my friends again, and feeling like myself at work."
CRISIS_SIGNS = "I stop answering my phone and sleep in the day. Mum notices first."
GOAL = "Swim at the leisure centre again"
# "I agree to this goal" and, visually hidden, ": <the goal>" (Chromium may put a space
# before the hidden part).
AGREE_TO_GOAL = re.compile(rf"^I agree to this goal\s*:\s*{re.escape(GOAL)}$")


def _signed_row(page: Page):
    """The "Signed" row of the plan page's summary."""
    return page.locator(".nhsuk-summary-list__row").filter(
        has=page.locator("dt", has_text=re.compile(r"^\s*Signed\s*$"))
    )


def _goal_card(page: Page):
    return page.locator(".app-plan-item").filter(
        has=page.get_by_role("heading", name=GOAL, exact=True)
    )


def _sign_version(page: Page) -> None:
    page.get_by_label("Enter your password to confirm it is you").fill(PASSWORD)
    page.get_by_role("button", name="Sign this version").click()
    expect(page.get_by_text("You have signed version 1.")).to_be_visible()



@pytest.fixture
def two_people(request, tmp_path, browser, live_server, live_world):
    """One browser context each for the coordinator and the service user, signed in."""
    contexts = [browser.new_context(), browser.new_context()]
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


def test_a_coordinator_and_a_service_user_build_agree_and_sign_a_care_plan_together(
    two_people, live_server, live_world
):
    coordinator, service_user = two_people
    name = live_world.service_user.name
    coordinator_name = live_world.coordinator.display_name

    # The coordinator starts the care plan from the service user's record.
    coordinator.goto(
        f"{live_server.url}{reverse('service_user_detail', args=[live_world.service_user.pk])}"
    )
    coordinator.get_by_role("button", name=f"Start a care plan for {name}").click()
    expect(coordinator.get_by_role("heading", name=f"{name}'s care plan", level=1)).to_be_visible()
    expect(coordinator.get_by_text("This crisis plan is not complete")).to_be_visible()
    plan_url = coordinator.url.split("#")[0]

    # ... and writes down a crisis answer in a meeting, in the service user's words.
    coordinator.get_by_role(
        "link", name="Change “Early signs that I am becoming unwell”"
    ).click()
    coordinator.get_by_label(re.compile(r"^Answer\b")).fill(CRISIS_SIGNS)
    coordinator.get_by_label("I am writing this down in a meeting, in their words").check()
    coordinator.get_by_role("button", name="Save changes").click()
    early_signs = coordinator.locator(".app-plan-item").filter(has_text=CRISIS_SIGNS)
    expect(early_signs).to_contain_text("Recorded by the care coordinator in a meeting")

    # The service user finds their care plan from their home page ...
    service_user.goto(f"{live_server.url}{reverse('home')}")
    service_user.get_by_role("link", name="Your care plan").click()
    expect(service_user.get_by_role("heading", name="Your care plan", level=1)).to_be_visible()
    expect(service_user.get_by_text(CRISIS_SIGNS)).to_be_visible()

    # ... writes what recovery means to them, in their own words ...
    service_user.get_by_role("link", name="Change “What recovery means to me”").click()
    service_user.get_by_label("Your answer").fill(RECOVERY)
    service_user.get_by_role("button", name="Save changes").click()
    recovery = service_user.locator("#section-recovery_meaning")
    expect(recovery).to_contain_text(RECOVERY)
    expect(recovery).to_contain_text("Written by the service user")

    # ... and proposes a goal.
    service_user.get_by_role("link", name="Add a goal").click()
    service_user.get_by_label("The goal").fill(GOAL)
    service_user.get_by_label("More about this goal").fill("Twice a week, with my brother.")
    service_user.get_by_label("Connectedness").check()
    fill_date(service_user, "Target date", clock.days(540))
    service_user.get_by_role("button", name="Add", exact=True).click()
    expect(_goal_card(service_user)).to_contain_text("Not agreed yet")
    expect(_goal_card(service_user)).to_contain_text(
        "Waiting for you and your care coordinator to agree"
    )

    # The coordinator agrees to the goal: it still waits for the service user.
    coordinator.goto(plan_url)
    expect(_goal_card(coordinator)).to_contain_text(f"Waiting for {name} and you to agree")
    coordinator.get_by_role("button", name=AGREE_TO_GOAL).click()
    expect(coordinator.get_by_text(f"You have agreed to the goal “{GOAL}”.")).to_be_visible()
    expect(_goal_card(coordinator)).to_contain_text(f"Waiting for {name} to agree")
    expect(_goal_card(coordinator)).to_contain_text("Not agreed yet")

    # The service user agrees too: now it is agreed.
    service_user.reload()
    service_user.get_by_role("button", name=AGREE_TO_GOAL).click()
    goal = _goal_card(service_user)
    expect(goal.locator(".nhsuk-tag")).to_have_text("Agreed")
    expect(goal).to_contain_text(f"Agreed by you and {coordinator_name}")

    # The service user asks for signatures and signs with their password.
    service_user.get_by_role("button", name="Ask for signatures on this care plan").click()
    expect(service_user.get_by_role("heading", name="Version 1", level=1)).to_be_visible()
    expect(service_user.get_by_text("Waiting for signatures")).to_be_visible()
    expect(service_user.get_by_text(RECOVERY)).to_be_visible()
    _sign_version(service_user)
    expect(service_user.get_by_text("Waiting for signatures")).to_be_visible()

    # The coordinator opens the version from the plan page and signs it too.
    coordinator.goto(plan_url)
    expect(_signed_row(coordinator)).to_contain_text("Version 1: Waiting for signatures")
    coordinator.get_by_role("link", name="See version 1 and who has signed it").click()
    _sign_version(coordinator)
    agreed_on = f"Agreed on {date_format(clock.today(), 'j F Y')}"
    expect(coordinator.locator(".nhsuk-summary-list__row").filter(has_text="Status")).to_contain_text(
        agreed_on
    )

    # Both see the plan as agreed.
    for page in (coordinator, service_user):
        page.goto(plan_url)
        signed = _signed_row(page)
        expect(signed).to_contain_text(f"Version 1: {agreed_on}")
        expect(signed).not_to_contain_text("changes since then")
        expect(page.get_by_text("Nothing has changed since version 1.")).to_be_visible()
        expect(_goal_card(page).locator(".nhsuk-tag")).to_have_text("Agreed")
        expect(page.get_by_text(RECOVERY)).to_be_visible()
        expect(page.get_by_text(CRISIS_SIGNS)).to_be_visible()
