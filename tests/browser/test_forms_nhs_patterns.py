"""Issue 12 points 3 and 5 in Chromium, as people meet them:

- a 2,000-character word does not make the plan page, or the carer's view of it, wider
  than a 375 px phone screen;
- the NHS.UK character count counts in every free-text box;
- a date is typed into the NHS.UK day, month and year boxes; a goal's target date in the
  past is refused with a message naming the field, and what was typed stays;
- a required field left empty says what to enter, naming the field, on the new service
  user form and on the invitation form.
"""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carecoord.records import services as record_services
from consent import services as consent_services
from plans import services as plan_services
from plans.sections import PlanKind
from tests import clock
from tests.browser.conftest import fill_date, sign_in
from tests.factories import PASSWORD, AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.plans.factories import add_item, prompt_item, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

PHONE = {"width": 375, "height": 812}
# One word, no spaces: a pasted link or a key held down.
LONG_WORD = ("Recovery" * 250)[:2000]
LONG_TITLE = ("Swimming" * 25)[:200]


@pytest.fixture
def long_words_plan(live_world):
    """A care plan with a crisis answer and a goal made of one long word each; the crisis
    answer is shared with the carer."""
    plan = plan_services.plan_create(service_user=live_world.service_user,
                                     kind=PlanKind.CARE_PLAN, created_by=live_world.coordinator)
    answer = write(prompt_item(plan, "early_signs"), live_world.service_user_account,
                   LONG_WORD)
    add_item(plan, "goals", live_world.service_user_account, LONG_TITLE, body=LONG_WORD,
             details={"domain": "connectedness", "target_on": clock.days(200)})
    consent_services.consent_decide_item(
        item=answer, carer=live_world.carer_relationship.carer, shared=True,
        decided_by=live_world.service_user_account)
    return plan


def _page_width(page) -> int:
    return page.evaluate("document.documentElement.scrollWidth")


@pytest.mark.parametrize("who", ["coordinator", "carer_account"])
def test_a_2000_character_word_does_not_widen_the_page_on_a_phone(
        browser, live_server, live_world, long_words_plan, who):
    context = browser.new_context(viewport=PHONE)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, getattr(live_world, who).email, PASSWORD)
        if who == "coordinator":
            url = reverse("plan_detail", args=[long_words_plan.pk])
        else:
            url = reverse("carer_person", args=[live_world.carer_relationship.pk])
        page.goto(f"{live_server.url}{url}")
        # The long word is on the page (so the width check means something) ...
        expect(page.get_by_text(LONG_WORD[:40], exact=False).first).to_be_visible()
        # ... and the page is no wider than the phone.
        assert _page_width(page) <= PHONE["width"], f"{who}: {_page_width(page)} px wide"
    finally:
        context.close()


@pytest.fixture
def coordinator_page(browser, live_server, live_world):
    context = browser.new_context()
    page = context.new_page()
    page.set_default_timeout(10_000)
    sign_in(page, live_server, live_world.coordinator.email, PASSWORD)
    yield page
    context.close()


def test_a_goal_target_date_is_typed_in_three_boxes_and_a_past_one_is_refused(
        coordinator_page, live_server, live_world):
    page = coordinator_page
    plan = plan_services.plan_create(service_user=live_world.service_user,
                                     kind=PlanKind.CARE_PLAN, created_by=live_world.coordinator)
    page.goto(f"{live_server.url}{reverse('item_add', args=[plan.pk, 'goals'])}")
    target = page.get_by_role("group", name="Target date")
    expect(target.get_by_text("For example, 15 3 2027")).to_be_visible()
    # Not the browser's date picker.
    expect(page.locator('input[type="date"]')).to_have_count(0)

    # The NHS.UK character count's script picked up the free-text box and counts.
    page.get_by_label("More about this goal").fill("With my sister")
    expect(page.locator(".nhsuk-character-count__status").first).to_contain_text(
        "You have 9,986 characters remaining")

    page.get_by_label("The goal").fill("Walk to the park on my own")
    page.get_by_label("Connectedness").check()
    yesterday = clock.days(-1)
    fill_date(page, "Target date", yesterday)
    page.get_by_role("button", name="Add", exact=True).click()

    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Target date must be today or in the future")
    target = page.get_by_role("group", name="Target date")
    expect(target.locator(".nhsuk-error-message")).to_contain_text(
        "Target date must be today or in the future")
    # What was typed is still there, and the words too.
    expect(target.get_by_label("Day")).to_have_value(str(yesterday.day))
    expect(target.get_by_label("Month")).to_have_value(str(yesterday.month))
    expect(target.get_by_label("Year")).to_have_value(str(yesterday.year))
    expect(page.get_by_label("The goal")).to_have_value("Walk to the park on my own")
    # The error summary's link takes you to the day box.
    summary.get_by_role("link", name="Target date must be today or in the future").click()
    expect(target.get_by_label("Day")).to_be_focused()

    ahead = clock.days(90)
    fill_date(page, "Target date", ahead)
    page.get_by_role("button", name="Add", exact=True).click()
    expect(page.get_by_text("“Walk to the park on my own” has been added.")).to_be_visible()
    goal = plan.items.get(section="goals")
    assert goal.details["target_on"] == ahead.isoformat()


def test_the_new_service_user_form_names_each_missing_field(coordinator_page, live_server):
    page = coordinator_page
    page.goto(f"{live_server.url}/service-users/new/")
    page.get_by_role("button", name="Add service user").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter the person's full name")
    expect(summary).to_contain_text("Enter their date of birth")
    expect(page.get_by_text("This field is required.")).to_have_count(0)


def test_the_invitation_form_names_each_missing_field(page, live_server, live_world):
    record = ServiceUserFactory(team=live_world.team, full_name="Jamie Newcome",
                                email="jamie.newcome@example.test", nhs_number="9434765919")
    AllocationFactory(episode=EpisodeFactory(service_user=record),
                      coordinator=live_world.coordinator)
    _, token = record_services.invitation_create(invited_by=live_world.coordinator,
                                                 service_user=record)
    page.set_default_timeout(10_000)
    page.goto(f"{live_server.url}/invitation/{token}/")
    # The name the coordinator entered is filled in (issue 12 point 8); empty it.
    name = page.get_by_label("Your full name")
    expect(name).to_have_value("Jamie Newcome")
    name.fill("")
    page.get_by_role("button", name="Create account").click()
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_contain_text("Enter your full name")
    expect(summary).to_contain_text("Choose a password")
    expect(summary).to_contain_text("Type the password again")
    expect(page.get_by_text("This field is required.")).to_have_count(0)
