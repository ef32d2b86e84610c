"""The administration area in Chromium, as the demo's administrator: sign in with the
second factor, create a team, invite a member of staff, disable an account, and see it
all in the changes made; every page fits a 375 px wide screen."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from playwright.sync_api import expect

from carecoord.demo.people import DEMO_PASSWORD
from carecoord.records.models import Team, User
from tests.browser.conftest import sign_in
from tests.browser.test_accessibility_basics import (
    UNLABELLED_CONTROLS_JS,
    UNLABELLED_INPUT_TYPES,
)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ADMIN = "admin@demo.carecoord.test"
SAM = "sam.okafor@demo.carecoord.test"


def fits(page) -> None:
    """375 px wide without scrolling sideways; one h1; every control labelled."""
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 375, f"{page.url} is {width} px wide"
    assert page.locator("h1").count() == 1, page.url
    unlabelled = page.evaluate(UNLABELLED_CONTROLS_JS, list(UNLABELLED_INPUT_TYPES))
    assert unlabelled == [], page.url


def submit(page, name: str) -> None:
    with page.expect_navigation():
        page.get_by_role("button", name=name).click()


def test_the_demo_administrator_runs_teams_and_staff(page, live_server, settings):
    settings.DEBUG = True  # seed_demo, and the demo's published authenticator key
    call_command("seed_demo", stdout=io.StringIO())
    page.set_viewport_size({"width": 375, "height": 800})

    response = sign_in(page, live_server, ADMIN, DEMO_PASSWORD)
    assert response.status == 200
    header_link = page.locator('header a[href="/administration/"]')
    expect(header_link.first).to_be_attached()
    page.goto(f"{live_server.url}/administration/")
    expect(page.locator("h1")).to_have_text("Administration")
    fits(page)

    # A new team, with the demo's manager.
    page.get_by_role("link", name="Teams").click()
    fits(page)
    page.get_by_role("link", name="Add a team").click()
    page.get_by_label("Team name").fill("Hexham Crisis Team")
    page.get_by_label("Priya Shah").check()
    fits(page)
    submit(page, "Add team")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Hexham Crisis Team has been created")
    expect(page.get_by_role("cell", name="Hexham Crisis Team", exact=True)).to_be_visible()
    fits(page)
    assert list(Team.objects.get(name="Hexham Crisis Team").managers.values_list(
        "email", flat=True)) == ["manager@demo.carecoord.test"]

    # Invite a member of staff.
    page.goto(f"{live_server.url}/administration/staff/")
    fits(page)
    page.get_by_role("link", name="Invite a member of staff").click()
    page.get_by_label("Full name").fill("Nia Newcomer")
    page.get_by_label("Work email address").fill("nia.newcomer@demo.carecoord.test")
    page.get_by_label("Care coordinator").check()
    fits(page)
    submit(page, "Send invitation")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "We have emailed an invitation to Nia Newcomer")
    expect(page.locator("h1")).to_have_text("Nia Newcomer")
    expect(page.get_by_text("Invited", exact=True)).to_be_visible()
    fits(page)

    # Disable Sam's account: the caseload to hand over is shown first.
    page.goto(f"{live_server.url}/administration/staff/")
    page.get_by_label("Search by name or email address").fill("okafor")
    submit(page, "Search")
    page.get_by_role("link", name="Sam Okafor").click()
    fits(page)
    page.get_by_role("link", name="Disable account").click()
    expect(page.locator("h1")).to_have_text("Disable Sam Okafor's account?")
    expect(page.locator(".nhsuk-warning-callout")).to_contain_text(
        "Sam Okafor is the care coordinator of")
    fits(page)
    submit(page, "Yes, disable the account")
    expect(page.locator(".nhsuk-notification-banner")).to_contain_text(
        "Sam Okafor's account has been disabled")
    assert not User.objects.get(email=SAM).is_active

    # The changes made, newest first.
    page.goto(f"{live_server.url}/administration/changes/")
    rows = page.locator("tbody tr")
    expect(rows.first).to_contain_text("disabled Sam Okafor's account")
    expect(page.get_by_text("invited Nia Newcomer to join as staff")).to_be_visible()
    expect(page.get_by_text("created the team Hexham Crisis Team")).to_be_visible()
    fits(page)
