"""A carer signs in, records a low wellbeing check-in in their own space, is shown the
support on offer and asks for a carer's assessment; the care coordinator, in a second
browser context, sees the request on the service user's record and marks it offered; the
carer sees that it was offered."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from django.utils.dateformat import format as date_format
from playwright.sync_api import expect

from tests import clock
from tests.browser.conftest import screenshots_on_failure, sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WORDS = "A hard week. Not sleeping much."
NOTE = "Evenings are best for me."
# The NHS.UK stylesheet's web font is blocked by the CSP on purpose (see
# test_sign_in_and_caseload.py); any other CSP report means an inline style or script.
BLOCKED_FONT = "Refused to load the font 'https://assets.nhs.uk/fonts/Frutiger"


def _csp_problems(messages: list[str]) -> list[str]:
    return [m for m in messages
            if "Content Security Policy" in m and not m.startswith(BLOCKED_FONT)]


@pytest.fixture
def carer_and_coordinator(request, tmp_path, browser, live_server, live_world):
    contexts = [browser.new_context(), browser.new_context()]
    carer, coordinator = (context.new_page() for context in contexts)
    console: list[str] = []
    try:
        for page in (carer, coordinator):
            page.set_default_timeout(10_000)
            page.on("console", lambda message: console.append(message.text))
        sign_in(carer, live_server, live_world.carer_account.email, PASSWORD)
        sign_in(coordinator, live_server, live_world.coordinator.email, PASSWORD)
        yield carer, coordinator, console
        screenshots_on_failure(request, tmp_path, {"carer": carer, "coordinator": coordinator})
    finally:
        for context in contexts:
            context.close()



def test_a_carer_checks_in_low_asks_for_an_assessment_and_the_coordinator_sees_it(
    carer_and_coordinator, live_server, live_world
):
    carer, coordinator, console = carer_and_coordinator
    today = date_format(clock.today(), "j F Y")
    carer_name = live_world.carer_relationship.carer.name

    # From their home page, the carer opens their own space and checks in.
    carer.get_by_role("link", name="Your own space").click()
    expect(carer.get_by_role("heading", name="Your own space", level=1)).to_be_visible()
    expect(carer.get_by_text("Support is here for you too")).to_have_count(0)
    carer.get_by_role("link", name="Check in now").click()

    # Saving without a score: the error summary, and what they wrote is kept.
    carer.get_by_label("In your own words").fill(WORDS)
    carer.get_by_role("button", name="Save check-in").click()
    expect(carer.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(carer.get_by_label("In your own words")).to_have_value(WORDS)
    carer.get_by_role("link", name="Choose how you are coping, from 0 to 10").click()
    expect(carer.get_by_label("0 – not coping at all")).to_be_focused()

    carer.get_by_label("2", exact=True).check()
    carer.get_by_role("button", name="Save check-in").click()

    # A low score: the support on offer, in plain words, with the right to an assessment.
    expect(carer.get_by_text("Thank you for checking in.")).to_be_visible()
    support = carer.locator("#support")
    expect(support.get_by_role("heading", name="Support is here for you too")).to_be_visible()
    expect(support).to_contain_text("carers' centre")
    expect(support).to_contain_text("peer support for carers")
    expect(support).to_contain_text("you have a right to one")
    chart = carer.get_by_role("img", name=re.compile(r"^How you have been coping, out of 10: 2"))
    expect(chart).to_be_visible()
    expect(carer.get_by_role("cell", name=WORDS)).to_be_visible()

    # The carer asks for a carer's assessment.
    support.get_by_role("link", name="Ask for a carer's assessment").click()
    expect(
        carer.get_by_role("heading", name="Ask for a carer's assessment", level=1)
    ).to_be_visible()
    carer.get_by_label("Anything you would like them to know").fill(NOTE)
    carer.get_by_role("button", name="Send request").click()
    expect(carer.get_by_text("You have asked for a carer's assessment.")).to_be_visible()
    assessment = carer.locator("section[aria-labelledby='assessment-heading']")
    expect(assessment.locator(".nhsuk-tag")).to_have_text("Requested")
    expect(assessment).to_contain_text(today)

    # The coordinator sees the request on the service user's record.
    record_url = reverse("service_user_detail", args=[live_world.service_user.pk])
    coordinator.goto(f"{live_server.url}{record_url}")
    panel = coordinator.locator(".nhsuk-card").filter(
        has=coordinator.get_by_role("heading", name=re.compile(rf"^{re.escape(carer_name)}"))
    )
    expect(panel.get_by_role("heading", name="Carer's assessment")).to_be_visible()
    expect(panel.locator(".nhsuk-tag")).to_have_text("Requested")
    expect(panel).to_contain_text(NOTE)
    expect(panel).to_contain_text(today)
    # The check-in was not shared: the coordinator sees nothing of it.
    expect(coordinator.get_by_text(WORDS)).to_have_count(0)
    expect(coordinator.get_by_text("How they are coping")).to_have_count(0)

    # The coordinator marks it offered; the carer is told and sees it.
    panel.get_by_role("button", name=re.compile(r"^Mark as offered")).click()
    expect(coordinator.get_by_text("The carer's assessment is marked as offered.")).to_be_visible()
    expect(panel.locator(".nhsuk-tag")).to_have_text("Offered")

    carer.reload()
    expect(assessment.locator(".nhsuk-tag")).to_have_text("Offered")
    expect(carer.get_by_role("link", name=re.compile(r"^Notifications \(1"))).to_be_visible()

    assert _csp_problems(console) == []
