"""The first meeting in Chromium: the coordinator starts it from the person's record,
answers "What does recovery mean to you?", skips a question, leaves and comes back
through "continue", gives the planned end in the date boxes, checks the answers and saves
them; the service user then reads their words on their care plan. Every page of the flow
fits a 375 px wide phone without sideways scrolling."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carecoord.records.models import Episode
from plans.models import Plan
from plans.sections import PlanKind
from tests import clock
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility_basics import (
    UNLABELLED_CONTROLS_JS,
    UNLABELLED_INPUT_TYPES,
)
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECOVERY = "Getting back to the allotment with my dad, and sleeping through the night."
WHO = "My dad Pete. My friend Jo."


def _fits_a_phone(page) -> None:
    assert page.evaluate("document.documentElement.scrollWidth <= 375"), page.url


def _accessible_basics(page) -> None:
    """One h1, and every visible form control labelled (as test_accessibility_basics)."""
    expect(page.locator("h1")).to_have_count(1)
    assert page.evaluate(UNLABELLED_CONTROLS_JS, list(UNLABELLED_INPUT_TYPES)) == []


def test_first_meeting_from_recovery_to_the_care_plan(page, live_server, live_world):
    page.set_default_timeout(10_000)
    page.set_viewport_size({"width": 375, "height": 812})
    name = live_world.service_user.name
    sign_in(page, live_server, live_world.coordinator.email, PASSWORD)
    record_url = live_server.url + reverse("service_user_detail",
                                           args=[live_world.service_user.pk])

    page.goto(record_url)
    expect(page.get_by_test_id("first-meeting-status")).to_contain_text(
        "First meeting: not started yet")
    page.get_by_role("link", name="start with “What does recovery mean to you?”").click()

    # Step 1: recovery, in their words.
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 1 of 5")
    expect(page.get_by_role("heading", level=1)).to_have_text("What does recovery mean to you?")
    _fits_a_phone(page)
    _accessible_basics(page)
    page.get_by_label("What does recovery mean to you?").fill(RECOVERY)
    # NHS.UK character count, live as they type.
    expect(page.locator(".nhsuk-character-count__status")).to_contain_text(
        f"You have {2000 - len(RECOVERY):,} characters remaining")
    page.get_by_role("button", name="Save and continue").click()

    # Step 2: skipped for now.
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 2 of 5")
    page.get_by_role("link", name="Skip this question").click()

    # Step 3: an answer too long is refused, and the words stay.
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 3 of 5")
    too_long = "My dog Bramble. " * 130
    page.get_by_label("What matters most to you?").fill(too_long)
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("Answer must be 2000 characters or fewer")
    expect(page.get_by_label("What matters most to you?")).to_have_value(too_long)
    _fits_a_phone(page)
    page.get_by_label("What matters most to you?").fill("My dog Bramble.")
    page.get_by_role("button", name="Save and continue").click()

    # Leave, and come back through the record page.
    page.goto(record_url)
    expect(page.get_by_test_id("first-meeting-status")).to_contain_text(
        "First meeting: 2 of 5 steps done — continue")
    page.get_by_role("link", name="continue").click()
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 2 of 5")
    page.get_by_role("link", name="Skip this question").click()
    page.get_by_role("link", name="Skip this question").click()

    # Step 4: who matters, with the prompt to ask about sharing.
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 4 of 5")
    expect(page.get_by_role("link", name=f"Add a carer for {name}")).to_be_visible()
    page.get_by_label("Who matters to you?").fill(WHO)
    page.get_by_role("button", name="Save and continue").click()

    # Step 5: the planned end, in day, month and year boxes.
    expect(page.get_by_test_id("first-meeting-progress")).to_have_text("Step 5 of 5")
    _fits_a_phone(page)
    _accessible_basics(page)
    end = clock.days(182)
    page.get_by_label("Day").fill(str(end.day))
    page.get_by_label("Month").fill(str(end.month))
    page.get_by_label("Year").fill("1999")
    page.get_by_role("button", name="Save and continue").click()
    expect(page.get_by_role("alert")).to_contain_text("at least 4 weeks from today")
    expect(page.get_by_label("Day")).to_have_value(str(end.day))
    page.get_by_label("Year").fill(str(end.year))
    page.get_by_role("button", name="Save and continue").click()

    # Check your answers, then save.
    expect(page.get_by_role("heading", name="Check your answers")).to_be_visible()
    expect(page.get_by_test_id("first-meeting-done")).to_have_text("4 of 5 steps done.")
    expect(page.locator(".nhsuk-summary-list")).to_contain_text(RECOVERY)
    _fits_a_phone(page)
    page.get_by_role("button", name="Save to the care plan").click()
    expect(page.get_by_text("The first meeting has been saved")).to_be_visible()
    expect(page.locator("main")).to_contain_text(RECOVERY)
    _fits_a_phone(page)
    assert Episode.objects.get(service_user=live_world.service_user).planned_end_on == end

    # The service user reads their words on their own plan.
    page.context.clear_cookies()
    sign_in(page, live_server, live_world.service_user_account.email, PASSWORD)
    plan = Plan.objects.get(service_user=live_world.service_user, kind=PlanKind.CARE_PLAN)
    page.goto(live_server.url + reverse("plan_detail", args=[plan.pk]))
    _fits_a_phone(page)
    expect(page.locator("main")).to_contain_text(WHO)
    expect(page.locator("main")).to_contain_text(RECOVERY)
