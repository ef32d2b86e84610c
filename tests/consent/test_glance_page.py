"""The page for one carer, at a glance (ADR 0018): each section one line with its state
for this carer, opening to its items; one form to share or stop sharing whole sections
and chosen items, with one end date, one note and one basis; errors that keep what was
typed and ticked; a fixed number of queries however many items there are; and 404 for
everyone else."""

from __future__ import annotations

import html
import re

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext

from consent import policy
from consent.models import ConsentDecision, SectionRule
from consent.services import consent_decide_item
from plans.models import Plan
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests.conftest import client_for
from tests.plans.factories import add_item, make_plan, prompt_item, write

CRISIS_CODES = [prompt.code for prompt in CRISIS_PROMPTS]
OUTSIDERS = ["other_coordinator", "carer_account", "other_carer_account", "manager", "admin",
             "other_service_user_account", "no_role"]


def plain(markup: str) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def text(response) -> str:
    return plain(response.content.decode())


def section_state(response, plan: Plan, code: str) -> str:
    match = re.search(rf'id="section-{plan.pk}-{code}" data-state="(\w+)"',
                      response.content.decode())
    assert match, f"no section {code}"
    return match.group(1)


@pytest.fixture
def mum(world):
    carer = world.carer_relationship.carer
    carer.preferred_name = "Mum"
    carer.save()
    return world.carer_relationship


@pytest.fixture
def care_plan(world) -> Plan:
    plan = make_plan(world)
    for code in CRISIS_CODES:
        write(prompt_item(plan, code), world.service_user_account, f"Crisis answer {code}.")
    return plan


def url(world, relationship) -> str:
    return f"/consent/service-users/{world.service_user.pk}/carers/{relationship.pk}/"


def test_the_page_is_one_form_with_a_line_per_section(world, mum, care_plan):
    make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    response = client_for(world.service_user_account).get(url(world, mum))
    assert response.status_code == 200
    markup = response.content.decode()
    # One form for what Mum can see, one for reviews: not one (or three) per item.
    assert markup.count('<form method="post" action="/consent/') == 2
    assert markup.count('name="basis"') == 0
    assert markup.count('name="expires_on_day"') == 1  # one end date, NHS.UK date input
    assert markup.count('class="nhsuk-details nhsuk-u-margin-bottom-2 app-consent-section"') \
        == 15  # every section of both plans, collapsed
    assert " open>" not in markup.split('id="decide"')[0]
    page = text(response)
    assert "Sharing a whole section also shares things added to it later" in page
    assert "Share only what is in it now" in page
    assert ("Who can always see everything in your plans: you and your care coordinator, "
            f"{world.coordinator.full_name}.") in page
    # A section with one item that takes no new ones offers the item, not both.
    hopes = re.search(r'id="section-\d+-hopes".*?</details>', markup, flags=re.S).group(0)
    assert 'name="sections"' not in hopes
    assert hopes.count('name="items"') == 1
    assert section_state(response, care_plan, "crisis") == "none"


def test_sections_and_chosen_items_are_shared_in_one_submission(world, mum, care_plan):
    needs = [add_item(care_plan, "needs_support", world.service_user_account, title)
             for title in ("Lifts", "Shopping", "Money")]
    client = client_for(world.service_user_account)
    response = client.post(url(world, mum), {
        "sections": [f"{care_plan.pk}-crisis"], "items": [needs[0].pk, needs[1].pk],
        "action": "share", "later": "later",
    })
    assert response.status_code == 302
    page = client.get(url(world, mum))
    assert "Mum can now see everything in “Crisis and contingency plan”; and “Lifts” and " \
        "“Shopping”." in text(page)
    assert section_state(page, care_plan, "crisis") == "whole"
    assert section_state(page, care_plan, "needs_support") == "some"
    assert section_state(page, care_plan, "risk") == "none"
    assert ConsentDecision.objects.count() == 3

    # Stopping, likewise in one go.
    response = client.post(url(world, mum), {
        "sections": [f"{care_plan.pk}-crisis"], "items": [needs[0].pk], "action": "stop"})
    assert response.status_code == 302
    page = client.get(url(world, mum))
    assert section_state(page, care_plan, "crisis") == "none"
    assert section_state(page, care_plan, "needs_support") == "some"
    assert "This took effect straight away." in text(page)


def test_only_what_is_there_now_from_the_page(world, mum, care_plan):
    add_item(care_plan, "needs_support", world.service_user_account, "Lifts")
    client = client_for(world.service_user_account)
    response = client.post(url(world, mum), {
        "sections": [f"{care_plan.pk}-needs_support"], "action": "share", "later": "now"})
    assert response.status_code == 302
    assert not SectionRule.objects.exists()
    page = client.get(url(world, mum))
    assert section_state(page, care_plan, "needs_support") == "some"
    assert "1 of 1 item shared with Mum one by one. Things added later are not shared." \
        in text(page)


def test_nothing_chosen_is_an_error_that_keeps_what_was_typed(world, mum, care_plan):
    response = client_for(world.service_user_account).post(url(world, mum), {
        "action": "share", "note": "For the holiday", "later": "now"})
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Choose at least one section or item" in page
    markup = response.content.decode()
    assert re.search(r'<textarea[^>]*name="note"[^>]*>\s*For the holiday</textarea>', markup)
    assert re.search(r'value="now"[^>]*checked', markup)
    assert 'href="#choose-' in markup  # the summary links to the first choice
    assert not ConsentDecision.objects.exists()


def test_the_coordinator_gives_one_basis_and_what_was_ticked_stays_ticked(
    world, mum, care_plan
):
    item = prompt_item(care_plan, "early_signs")
    client = client_for(world.coordinator)
    page = client.get(url(world, mum))
    assert page.content.decode().count('name="basis"') == 1
    response = client.post(url(world, mum), {"items": [item.pk], "action": "share",
                                             "note": "Agreed today"})
    assert response.status_code == 200
    assert "Say on what basis you are recording this for them" in text(response)
    assert re.search(rf'value="{item.pk}"[^>]*checked', response.content.decode())
    assert f'id="section-{care_plan.pk}-crisis" data-state="none" open' in \
        response.content.decode()
    response = client.post(url(world, mum), {"items": [item.pk], "action": "share",
                                             "basis": "Alex asked in our meeting"})
    assert response.status_code == 302
    assert ConsentDecision.objects.get().basis == "Alex asked in our meeting"


def test_stopping_what_is_not_shared_says_so(world, mum, care_plan):
    response = client_for(world.service_user_account).post(url(world, mum), {
        "items": [prompt_item(care_plan, "early_signs").pk], "action": "stop"})
    assert response.status_code == 200
    assert "Nothing you chose is shared with Mum now" in text(response)


@pytest.mark.parametrize("who", OUTSIDERS)
def test_everyone_else_gets_404_and_decides_nothing(world, mum, care_plan, who):
    client = client_for(getattr(world, who))
    assert client.get(url(world, mum)).status_code == 404
    assert client.post(url(world, mum), {"sections": [f"{care_plan.pk}-crisis"],
                                         "action": "share"}).status_code == 404
    assert not ConsentDecision.objects.exists()


def _queries(client, page_url: str) -> int:
    client.get(page_url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(page_url).status_code == 200
    return len(captured)


def test_the_page_makes_the_same_number_of_queries_for_2_items_and_for_20(
    world, mum, care_plan, django_assert_max_num_queries
):
    for n in range(2):
        add_item(care_plan, "needs_support", world.service_user_account, f"Item {n}")
    consent_decide_item(item=prompt_item(care_plan, "early_signs"), carer=mum.carer,
                        shared=True, decided_by=world.service_user_account)
    client = client_for(world.service_user_account)
    overview = f"/consent/service-users/{world.service_user.pk}/"
    with_two = (_queries(client, url(world, mum)), _queries(client, overview))
    for n in range(2, 20):
        add_item(care_plan, "needs_support", world.service_user_account, f"Item {n}")
    for code in CRISIS_CODES[1:4]:
        consent_decide_item(item=prompt_item(care_plan, code), carer=mum.carer, shared=True,
                            decided_by=world.service_user_account)
    assert (_queries(client, url(world, mum)), _queries(client, overview)) == with_two
    # 31: the header asks the policy once whether to offer the administration area.
    with django_assert_max_num_queries(31):
        assert client.get(url(world, mum)).status_code == 200


def test_the_page_makes_the_same_number_of_queries_for_one_plan_and_for_three(
    world, mum, care_plan
):
    """Each plan's heading names its person ("Your WRAP"): the person in hand, not a
    query per plan (issue 15: 3 of the page's 31 queries were these)."""
    client = client_for(world.service_user_account)
    with_one = _queries(client, url(world, mum))
    make_plan(world, PlanKind.WRAP)
    make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    response = client.get(url(world, mum))
    assert {"Your care plan", "Your WRAP"} <= set(
        re.findall(r'<h2 id="plan-\d+"[^>]*>([^<]+)</h2>', response.content.decode()))
    assert _queries(client, url(world, mum)) == with_one




def test_no_page_says_nobody_else_can_see_something():
    """It was never quite true (the care coordinator can): pages name who can."""
    from pathlib import Path

    from django.conf import settings

    roots = [Path(d) for template in settings.TEMPLATES for d in template["DIRS"]]
    found = [path for root in roots for path in root.rglob("*.html")
             if "Nobody else can see" in path.read_text(encoding="utf-8")]
    assert roots
    assert found == []


@pytest.mark.parametrize("who", ["service_user_account", "coordinator", *OUTSIDERS])
def test_the_basis_form_decides_as_the_viewer_form_does(world, mum, who):
    """The page asks with the basis it opened the record on; the answer, and the 404 for
    a carer of a record the viewer may not decide for, are the viewer form's."""
    viewer = getattr(world, who)
    basis = policy.record_basis(viewer, world.service_user)
    decides = policy.can_decide_consent(viewer, world.service_user)
    assert policy.decides_consent_on_basis(basis) == decides
    assert decides == (who in {"service_user_account", "coordinator"})
    if decides:
        assert policy.carer_of_record(viewer, world.service_user, mum.pk,
                                      basis=basis) == mum
    else:
        with pytest.raises(Http404):
            policy.carer_of_record(viewer, world.service_user, mum.pk, basis=basis)
