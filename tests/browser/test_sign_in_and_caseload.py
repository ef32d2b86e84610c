"""Signing in through the real form in Chromium, and what each role sees next."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import sign_in
from tests.factories import PASSWORD

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The NHS.UK stylesheet asks for the Frutiger web font from assets.nhs.uk; the CSP
# (font-src 'self') blocks it on purpose, and Chromium reports that as a console error.
# Exactly that message is allowed; nothing else.
BLOCKED_FONT_PREFIX = "Refused to load the font 'https://assets.nhs.uk/fonts/Frutiger"


def _is_blocked_nhs_font(text: str) -> bool:
    return text.startswith(BLOCKED_FONT_PREFIX) and "Content Security Policy" in text


def test_coordinator_signs_in_and_opens_a_record_from_their_caseload(page, live_server, live_world):
    response = sign_in(page, live_server, live_world.coordinator.email, PASSWORD)

    assert response.status == 200
    assert page.url == f"{live_server.url}{reverse('home')}"
    expect(page.get_by_role("heading", name="Your caseload", level=2)).to_be_visible()
    name = live_world.service_user.full_name
    link = page.get_by_role("link", name=name, exact=True)
    expect(link).to_be_visible()
    # Someone else's service user is not on this caseload.
    expect(
        page.get_by_role("link", name=live_world.other_service_user.full_name, exact=True)
    ).to_have_count(0)

    link.click()

    expect(page).to_have_url(
        f"{live_server.url}{reverse('service_user_detail', args=[live_world.service_user.pk])}"
    )
    expect(page.locator("h1")).to_have_text(name)


def test_carer_sees_who_they_care_for_but_no_record(page, live_server, live_world):
    sign_in(page, live_server, live_world.carer_account.email, PASSWORD)

    expect(page.get_by_role("heading", name="People you care for", level=2)).to_be_visible()
    expect(page.get_by_text(live_world.service_user.full_name)).to_be_visible()

    # Carers see no record content yet: the person they care for is as unknown to them
    # as anyone else, and both look like a page that does not exist.
    for service_user in (live_world.service_user, live_world.other_service_user):
        url = reverse("service_user_detail", args=[service_user.pk])
        response = page.goto(f"{live_server.url}{url}")
        assert response is not None
        assert response.status == 404, url
        expect(page.locator("h1")).to_have_text("Page not found")
        expect(page.get_by_text(service_user.full_name)).to_have_count(0)


def test_wrong_password_shows_the_error_summary_and_focuses_it(page, live_server, live_world):
    response = sign_in(page, live_server, live_world.coordinator.email, "not-the-password")

    assert response.status == 200
    assert page.url.startswith(f"{live_server.url}{reverse('login')}")
    summary = page.locator(".nhsuk-error-summary")
    expect(summary).to_be_visible()
    expect(summary.get_by_role("heading", name="There is a problem")).to_be_visible()
    expect(page).to_have_title("Error: Sign in – Care coordination")
    # The page's JavaScript module ran (it marks the body), and NHS.UK frontend's
    # ErrorSummary moved focus to the summary on load.
    expect(page.locator("body")).to_contain_class("nhsuk-frontend-supported", timeout=5000)
    page.wait_for_function(
        "document.activeElement && "
        "document.activeElement.classList.contains('nhsuk-error-summary')",
        timeout=5000,
    )
    assert page.evaluate("document.activeElement.classList.contains('nhsuk-error-summary')")


def test_home_page_has_no_console_errors_or_csp_violations(page, live_server, live_world):
    console_errors: list[str] = []
    page_errors: list[str] = []
    page.on(
        "console",
        lambda message: console_errors.append(message.text) if message.type == "error" else None,
    )
    page.on("pageerror", lambda error: page_errors.append(str(error)))
    # Also catch CSP violations the page itself hears about (an init script runs before
    # the page's own scripts and is not subject to its CSP).
    page.add_init_script(
        "window.__cspViolations = [];"
        "document.addEventListener('securitypolicyviolation', (e) => {"
        "  window.__cspViolations.push("
        "    {directive: e.effectiveDirective, blocked: e.blockedURI, source: e.sourceFile});"
        "});"
    )

    sign_in(page, live_server, live_world.coordinator.email, PASSWORD)
    console_errors.clear()
    page_errors.clear()
    # A fresh load of the home page, with the init script in place from its start.
    page.goto(f"{live_server.url}{reverse('home')}")
    page.wait_for_load_state("networkidle")
    expect(page.locator("body")).to_contain_class("nhsuk-frontend-supported")

    unexpected = [text for text in console_errors if not _is_blocked_nhs_font(text)]
    assert unexpected == []
    assert page_errors == []
    violations = page.evaluate("window.__cspViolations")
    unexpected_violations = [
        violation
        for violation in violations
        if not (
            violation["directive"] == "font-src"
            and violation["blocked"].startswith("https://assets.nhs.uk/fonts/Frutiger")
        )
    ]
    assert unexpected_violations == []
