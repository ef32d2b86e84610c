"""Sharing one crisis-plan item with Mum, in Chromium, each person in their own browser
context: the service user shares one crisis answer from their consent page and previews
exactly what Mum sees; Mum signs in and sees that answer and not the other; the service
user stops sharing it; Mum's next page load no longer shows it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse
from playwright.sync_api import Page, expect

from plans import services as plan_services
from plans.sections import PlanKind
from tests.browser.conftest import screenshots_on_failure, sign_in
from tests.factories import PASSWORD
from tests.plans.factories import prompt_item, write

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

SHARED_TITLE = "Early signs that I am becoming unwell"
SHARED_ANSWER = "I stop answering my phone and sleep in the day."
PRIVATE_TITLE = "My advance statement"
PRIVATE_ANSWER = "I do not want to be given haloperidol."



@pytest.fixture
def crisis_plan(live_world):
    """The service user's care plan, started by their coordinator, with two crisis
    answers written; their carer is called Mum."""
    carer = live_world.carer_relationship.carer
    carer.preferred_name = "Mum"
    carer.save()
    plan = plan_services.plan_create(service_user=live_world.service_user,
                                     kind=PlanKind.CARE_PLAN, created_by=live_world.coordinator)
    write(prompt_item(plan, "early_signs"), live_world.service_user_account, SHARED_ANSWER)
    write(prompt_item(plan, "advance_statement"), live_world.service_user_account,
          PRIVATE_ANSWER)
    return plan


@pytest.fixture
def service_user_and_carer(request, tmp_path, browser, live_server, live_world, crisis_plan):
    contexts = [browser.new_context(), browser.new_context()]
    service_user, carer = (context.new_page() for context in contexts)
    try:
        for page in (service_user, carer):
            page.set_default_timeout(10_000)
        sign_in(service_user, live_server, live_world.service_user_account.email, PASSWORD)
        sign_in(carer, live_server, live_world.carer_account.email, PASSWORD)
        yield service_user, carer
        screenshots_on_failure(request, tmp_path, {"service-user": service_user,
                                                   "carer": carer})
    finally:
        for context in contexts:
            context.close()


def _choose(page: Page, title: str) -> None:
    """Open the crisis section (one line, collapsed) and tick one of its items."""
    section = page.locator("details", has=page.get_by_text("Crisis and contingency plan"))
    if section.get_attribute("open") is None:
        section.locator("summary").click()
    page.get_by_role("checkbox", name=title, exact=True).check()


def _hint(page: Page, title: str):
    """What the page says of one item for Mum (its checkbox's hint)."""
    box = page.get_by_role("checkbox", name=title, exact=True)
    return page.locator(f"#{box.get_attribute('id')}-hint")


def test_a_service_user_shares_one_crisis_item_previews_it_and_withdraws_it(
    service_user_and_carer, live_server, live_world
):
    service_user, carer = service_user_and_carer
    name = live_world.service_user.name

    # The service user opens their consent page from their record ...
    service_user.goto(
        f"{live_server.url}{reverse('service_user_detail', args=[live_world.service_user.pk])}")
    service_user.get_by_role("link", name="Choose what your carers can see").click()
    expect(service_user.get_by_role("heading", name="Who can see your plans", level=1)) \
        .to_be_visible()
    service_user.get_by_role("link", name="What Mum can see").click()
    expect(service_user.get_by_role("heading", name="What Mum can see", level=1)).to_be_visible()

    # ... and shares one crisis answer, and only that one, with Mum.
    _choose(service_user, SHARED_TITLE)
    service_user.get_by_role("button", name="Share with Mum").click()
    expect(service_user.get_by_text(f"Mum can now see “{SHARED_TITLE}”.")).to_be_visible()
    _choose(service_user, PRIVATE_TITLE)  # opens the section to read its items
    expect(_hint(service_user, SHARED_TITLE)).to_have_text(re.compile(r"^Mum can see this"))
    expect(_hint(service_user, PRIVATE_TITLE)).to_have_text(
        re.compile(r"^Mum cannot see this"))

    # "See exactly what Mum sees": that answer, and nothing else from the crisis plan.
    service_user.get_by_role("link", name="See exactly what Mum sees").first.click()
    expect(service_user.get_by_role("heading", name="What Mum sees", level=1)).to_be_visible()
    expect(service_user.get_by_text(SHARED_ANSWER)).to_be_visible()
    expect(service_user.get_by_role("heading", name=SHARED_TITLE)).to_be_visible()
    expect(service_user.get_by_text(PRIVATE_ANSWER)).to_have_count(0)
    expect(service_user.get_by_text(PRIVATE_TITLE)).to_have_count(0)

    # Mum signs in and finds it from her home page: that item and not the other.
    carer.goto(f"{live_server.url}/")
    carer.get_by_role("link", name=f"What {name} has shared with you").click()
    expect(carer.get_by_role("heading", name=f"What {name} has shared with you", level=1)) \
        .to_be_visible()
    expect(carer.get_by_role("heading", name=SHARED_TITLE)).to_be_visible()
    expect(carer.get_by_text(SHARED_ANSWER)).to_be_visible()
    expect(carer.get_by_text(PRIVATE_ANSWER)).to_have_count(0)
    expect(carer.get_by_text(PRIVATE_TITLE)).to_have_count(0)
    carer_url = carer.url

    # The service user stops sharing it ...
    service_user.get_by_role("link", name="Change what Mum can see").click()
    _choose(service_user, SHARED_TITLE)
    service_user.get_by_role("button", name="Stop sharing with Mum").click()
    expect(service_user.get_by_text(f"Mum can no longer see “{SHARED_TITLE}”.")) \
        .to_be_visible()
    _choose(service_user, SHARED_TITLE)
    expect(_hint(service_user, SHARED_TITLE)).to_have_text(re.compile(r"^Mum cannot see"))

    # ... and Mum's next page load no longer shows it.
    carer.reload()
    assert carer.url == carer_url
    expect(carer.get_by_text(f"{name} has not shared anything from their plans with you."))\
        .to_be_visible()
    expect(carer.get_by_text(SHARED_ANSWER)).to_have_count(0)
    expect(carer.get_by_text(SHARED_TITLE)).to_have_count(0)
    expect(carer.get_by_text(PRIVATE_ANSWER)).to_have_count(0)
