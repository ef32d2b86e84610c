"""Consent at a glance (ADR 0018), in Chromium at 1280 px: Alex's page for Linda is short
when its sections are collapsed; Alex opens two sections, ticks a whole section and two
chosen items, and shares them with Linda in one submission; the sections' states change;
the preview, which is Linda's real view, shows exactly those things. It works without
JavaScript too (details and checkboxes are plain HTML)."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from plans import services as plan_services
from plans.sections import PlanKind
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.plans.factories import add_item, prompt_item, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTH, HEIGHT = 1280, 800
CRISIS = "Crisis and contingency plan"
NEEDS = "Needs, and who does what"
NEEDS_ITEMS = ("Lifts to appointments", "Shopping on Fridays", "Money worries")


@pytest.fixture
def plans(live_world):
    """Alex's care plan (crisis answers, three needs) and WRAP; the carer is Linda."""
    carer = live_world.carer_relationship.carer
    carer.preferred_name = "Linda"
    carer.save()
    care_plan = plan_services.plan_create(service_user=live_world.service_user,
                                          kind=PlanKind.CARE_PLAN,
                                          created_by=live_world.coordinator)
    for code in ("early_signs", "who_to_contact", "advance_statement"):
        write(prompt_item(care_plan, code), live_world.service_user_account,
              f"Crisis answer {code}.")
    for title in NEEDS_ITEMS:
        add_item(care_plan, "needs_support", live_world.service_user_account, title,
                 body=f"About {title.lower()}.")
    wrap = plan_services.plan_create(service_user=live_world.service_user,
                                     kind=PlanKind.WRAP,
                                     created_by=live_world.service_user_account)
    add_item(wrap, "wellness_toolbox", live_world.service_user_account, "Walking the dog")
    return care_plan


def _section(page: Page, title: str):
    return page.locator("details.app-consent-section",
                        has=page.locator("summary", has_text=title))


@pytest.mark.parametrize("javascript", [True, False], ids=["with-js", "without-js"])
def test_alex_shares_a_section_and_two_items_with_linda_in_one_go(
    browser, live_server, live_world, plans, javascript
):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT},
                                  java_script_enabled=javascript)
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, live_world.service_user_account.email, PASSWORD)
        relationship = live_world.carer_relationship
        page.goto(live_server.url + reverse(
            "consent_carer", args=[live_world.service_user.pk, relationship.pk]))
        expect(page.get_by_role("heading", name="What Linda can see", level=1)).to_be_visible()

        # Collapsed, the page for two plans fits in under three screens at 1280 px.
        height = page.evaluate("document.documentElement.scrollHeight")
        assert height < 3 * HEIGHT, height
        for title in (CRISIS, NEEDS):
            expect(_section(page, title).locator(".nhsuk-tag")).to_have_text("Not shared")

        # One submission: the whole crisis section and two of the three needs.
        _section(page, CRISIS).locator("summary").click()
        _section(page, CRISIS).get_by_role("checkbox", name="The whole section").check()
        _section(page, NEEDS).locator("summary").click()
        for title in NEEDS_ITEMS[:2]:
            page.get_by_role("checkbox", name=title, exact=True).check()
        expect(page.get_by_text("Sharing a whole section also shares things added to it "
                                "later")).to_be_visible()
        page.get_by_role("button", name="Share with Linda").click()

        expect(page.get_by_text(f"Linda can now see everything in “{CRISIS}”")).to_be_visible()
        expect(_section(page, CRISIS).locator(".nhsuk-tag")).to_have_text("Whole section")
        expect(_section(page, NEEDS).locator(".nhsuk-tag")).to_have_text("Some items")
        expect(_section(page, "Risk and positive risk-taking").locator(".nhsuk-tag")) \
            .to_have_text("Not shared")
        # Still short, collapsed again after the change.
        assert page.evaluate("document.documentElement.scrollHeight") < 3 * HEIGHT

        # The preview is Linda's real view: those things, and nothing else.
        page.get_by_role("link", name="See exactly what Linda sees").click()
        expect(page.get_by_role("heading", name="What Linda sees", level=1)).to_be_visible()
        expect(page.get_by_text("Crisis answer early_signs.")).to_be_visible()
        expect(page.get_by_text("About lifts to appointments.")).to_be_visible()
        expect(page.get_by_text("About shopping on fridays.")).to_be_visible()
        expect(page.get_by_text("About money worries.")).to_have_count(0)
        expect(page.get_by_text("Walking the dog")).to_have_count(0)
    finally:
        context.close()


def test_the_coordinator_records_it_for_alex_with_one_basis(
    browser, live_server, live_world, plans
):
    context = browser.new_context(viewport={"width": WIDTH, "height": HEIGHT})
    page = context.new_page()
    page.set_default_timeout(10_000)
    try:
        sign_in(page, live_server, live_world.coordinator.email, PASSWORD)
        relationship = live_world.carer_relationship
        page.goto(live_server.url + reverse(
            "consent_carer", args=[live_world.service_user.pk, relationship.pk]))
        name = live_world.service_user.name
        expect(page.get_by_role("heading", name=f"What Linda can see of {name}'s plans",
                                level=1)).to_be_visible()
        assert page.evaluate("document.documentElement.scrollHeight") < 3 * HEIGHT

        # Without a basis: the error summary, and what was ticked and typed is kept.
        _section(page, NEEDS).locator("summary").click()
        page.get_by_role("checkbox", name=NEEDS_ITEMS[0], exact=True).check()
        page.get_by_role("button", name="Share with Linda").click()
        expect(page.get_by_role("heading", name="There is a problem")).to_be_visible()
        page.get_by_role("link", name="Say on what basis you are recording this for them") \
            .click()
        expect(page.get_by_role("checkbox", name=NEEDS_ITEMS[0], exact=True)).to_be_checked()

        page.get_by_label("On what basis are you recording this for them?") \
            .fill("Alex asked for this in our meeting")
        page.get_by_role("button", name="Share with Linda").click()
        expect(page.get_by_text(f"Linda can now see “{NEEDS_ITEMS[0]}”.")).to_be_visible()
        expect(_section(page, NEEDS).locator(".nhsuk-tag")).to_have_text("Some items")
    finally:
        context.close()
