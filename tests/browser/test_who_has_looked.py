"""In a real browser at 375 px wide: the service user reads who has looked at their record
in plain words and pages through it, and opens "How do we know this has not changed?" on a
version of their plan."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from carecoord.audit.services import access_event_record
from consent.policy import Basis
from tests import clock
from tests.browser.conftest import sign_in
from tests.factories import PASSWORD
from tests.plans.factories import add_item, make_plan, propose

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

NO_SIDEWAYS_SCROLL_JS = "() => document.documentElement.scrollWidth <= window.innerWidth"


def test_who_has_looked_and_the_fingerprint_at_375_px(page, live_server, live_world):
    world = live_world
    for back in range(22, -1, -1):  # 23 days: two pages of 20
        with clock.travel_to(clock.days(-back)):
            for _ in range(3):
                access_event_record(actor=world.coordinator, service_user=world.service_user,
                                    action="plan_detail.view", target="plan:1",
                                    basis=str(Basis.ALLOCATED_COORDINATOR))
    plan = make_plan(world)
    add_item(plan, "goals", world.coordinator, "Back to the allotment")
    version = propose(plan, world.coordinator)

    page.set_viewport_size({"width": 375, "height": 800})
    sign_in(page, live_server, world.service_user_account.email, PASSWORD)
    page.goto(f"{live_server.url}{reverse('service_user_detail', args=[world.service_user.pk])}")
    page.get_by_role("link", name="See everyone who has looked at your record").click()

    expect(page.get_by_role("heading", name="Who has looked at your record", level=1)
           ).to_be_visible()
    today = f"{clock.today():%-d %B %Y}"
    expect(page.get_by_role("cell", name=f"Sam Coordinator read your plan 3 times on {today}")
           ).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL_JS)
    page.get_by_role("link", name="Next page").click()
    expect(page.get_by_text("Page 1 of 2")).to_be_visible()
    assert page.get_by_text("They are your care coordinator").count() == 3

    page.goto(f"{live_server.url}{reverse('version_detail', args=[version.pk])}")
    code = page.get_by_text(version.content_hash)
    expect(code).to_be_hidden()
    page.get_by_text("How do we know this has not changed?").click()
    expect(code).to_be_visible()
    assert page.evaluate(NO_SIDEWAYS_SCROLL_JS)
