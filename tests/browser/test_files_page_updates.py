"""A service user asks for a PDF of their plan; "Your files" shows it queued, and once a
real background worker (Celery on the demo's filesystem transport) has made it, the row
says Ready with a download link, without the page being reloaded, and a screen reader
hears "Your PDF is ready"."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from plans.sections import PlanKind
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.plans.factories import add_responsibility, make_plan, propose
from tests.test_celery_worker import worker
from tests.test_demo_worker import demo_broker  # noqa: F401 (a fixture)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

# The NHS.UK stylesheet's web font is blocked by the CSP on purpose; any other report
# would mean the script broke the policy.
BLOCKED_FONT = "Refused to load the font 'https://assets.nhs.uk/fonts/Frutiger"


def test_the_files_page_shows_the_pdf_ready_without_a_reload(
        page, live_server, live_world, demo_broker):  # noqa: F811
    plan = make_plan(live_world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, live_world.coordinator, title="Going to the gym")
    version = propose(plan, live_world.coordinator)
    page.set_default_timeout(15_000)
    console: list[str] = []
    page.on("console", lambda message: console.append(message.text))
    sign_in(page, live_server, live_world.service_user_account.email, PASSWORD)

    page.goto(f"{live_server.url}{reverse('version_detail', args=[version.pk])}")
    page.get_by_role("button", name=re.compile("Download as PDF")).click()
    page.wait_for_url(f"**{reverse('export_list')}")
    row = page.locator("#export-list tbody tr").first
    expect(row).to_contain_text("Queued")
    # With JavaScript the page updates itself: the "Refresh the page" link is not needed.
    expect(page.get_by_role("link", name="Refresh the page")).to_be_hidden()
    page.evaluate("window.__notReloaded = true")

    with worker():
        expect(row.get_by_role("link", name=re.compile("Download"))).to_be_visible(
            timeout=60_000)
    expect(row).to_contain_text("Ready")
    expect(page.locator("#export-status-announcer")).to_have_text(
        re.compile(r"^Your PDF is ready: .*version 1"))
    assert page.evaluate("window.__notReloaded") is True

    assert [m for m in console if "Content Security Policy" in m
            and not m.startswith(BLOCKED_FONT)] == []

    download = row.get_by_role("link", name=re.compile("Download")).get_attribute("href")
    response = page.request.get(f"{live_server.url}{download}")
    assert response.status == 200
    assert response.headers["content-type"] == "application/pdf"
