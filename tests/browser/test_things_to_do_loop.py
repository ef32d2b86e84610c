"""The things-to-do loop in Chromium, each person in their own browser context: the
coordinator asks for signatures on a care plan; the service user sees "Sign your care
plan" at the top of their home page (and a count in the header), follows it, and declines
with a reason in their own words; it leaves their list; the coordinator sees the decline,
with those words, on their own home page and follows it to the version."""

from __future__ import annotations

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from tests.browser.conftest import screenshots_on_failure, sign_in
from tests.factories import PASSWORD
from tests.plans.factories import plan_with_content

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

REASON = "It does not say that my sister is the one to call when things go wrong."


@pytest.fixture
def two_people(request, tmp_path, browser, live_server, live_world):
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


def _things_to_do(page):
    return page.locator("#things-to-do")


def test_propose_sign_your_care_plan_decline_and_the_coordinator_sees_why(
    two_people, live_server, live_world
):
    coordinator, service_user = two_people
    plan = plan_with_content(live_world)
    name = live_world.service_user.name

    # Nothing waits for the service user yet.
    service_user.goto(f"{live_server.url}{reverse('home')}")
    expect(_things_to_do(service_user)).to_contain_text("Nothing is waiting for you")
    expect(service_user.get_by_test_id("things-to-do-count")).to_have_text("Things to do (0)")

    # The coordinator asks for signatures.
    coordinator.goto(f"{live_server.url}{reverse('plan_detail', args=[plan.pk])}")
    coordinator.get_by_role("button", name="Ask for signatures on this care plan").click()
    expect(coordinator.get_by_role("heading", name="Version 1", level=1)).to_be_visible()

    # The service user sees it at the top of their home page, and in the header.
    service_user.reload()
    expect(service_user.get_by_test_id("things-to-do-count")).to_have_text("Things to do (1)")
    todo = _things_to_do(service_user)
    link = todo.get_by_role("link", name="Sign your care plan, or say why not")
    expect(link).to_be_visible()
    link.click()
    expect(service_user.get_by_role("heading", name="Version 1", level=1)).to_be_visible()

    # They decline, in their own words.
    service_user.get_by_label("Say why you are not signing").fill(REASON)
    service_user.get_by_role("button", name="Save why I am not signing").click()
    expect(service_user.get_by_text("Your reasons for not signing have been saved")).to_be_visible()

    # Done: it has left their list.
    service_user.goto(f"{live_server.url}{reverse('home')}")
    expect(_things_to_do(service_user)).not_to_contain_text("Sign your care plan")
    expect(service_user.get_by_test_id("things-to-do-count")).to_have_text("Things to do (0)")

    # The coordinator sees the decline on their home page, in the person's words ...
    coordinator.goto(f"{live_server.url}{reverse('home')}")
    todo = _things_to_do(coordinator)
    declined = todo.get_by_role(
        "link", name=f"{name} declined to sign {name}'s care plan (version 1)")
    expect(declined).to_be_visible()
    expect(todo).to_contain_text(f"In their words: “{REASON}”")
    expect(todo).not_to_contain_text(f"Sign {name}'s care plan")  # nobody signs around a "no"
    # ... and follows it to the version, where the reasons are.
    declined.click()
    expect(coordinator.get_by_role("heading", name="Version 1", level=1)).to_be_visible()
    expect(coordinator.get_by_text(REASON)).to_be_visible()

    # They were told, too: a notification that links to the version.
    coordinator.goto(f"{live_server.url}{reverse('notifications')}")
    expect(coordinator.get_by_role(
        "link", name=f"{name} declined to sign version 1 of {name}'s care plan. "
                     "Read why, in their words.")).to_be_visible()
