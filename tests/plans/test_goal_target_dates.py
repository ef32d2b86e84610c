"""Issue 12 point 3: a goal's target date in the past is refused — on the page, by the
API and by the service — with a message that names the field, like review dates. A
target that was saved before it passed is kept when the goal is edited for something
else (refusing it would block fixing a typo)."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from plans import services
from plans.models import Plan, PlanItem
from tests import clock
from tests.conftest import client_for
from tests.forms import date_parts, typed
from tests.plans.factories import add_goal, make_plan

JSON = "application/json"


@pytest.fixture
def care_plan(world) -> Plan:
    return make_plan(world)


def _goal_post(target: dict, title: str = "Swim again") -> dict:
    return {"title": title, "body": "With my brother.", "domain": "connectedness", **target}


def _box(page: str, box_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{box_id}"[^>]*>', page)
    assert match, f"no box #{box_id}"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return value.group(1) if value else ""


def test_the_goal_page_refuses_a_target_date_in_the_past_naming_the_field(
        world, care_plan, coordinator_client):
    yesterday = clock.days(-1)
    response = coordinator_client.post(
        reverse("item_add", args=[care_plan.pk, "goals"]),
        _goal_post(date_parts("target_on", yesterday)))

    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Target date must be today or in the future" in page
    # The error summary links to the date's first box, and what was typed is kept.
    assert 'href="#id_target_on_day"' in page
    assert _box(page, "id_target_on_day") == str(yesterday.day)
    assert _box(page, "id_target_on_year") == str(yesterday.year)
    assert not care_plan.items.filter(section="goals").exists()


def test_the_goal_page_takes_today_as_a_target(world, care_plan, coordinator_client):
    response = coordinator_client.post(
        reverse("item_add", args=[care_plan.pk, "goals"]),
        _goal_post(date_parts("target_on", clock.today())))
    assert response.status_code == 302
    goal = care_plan.items.get(section="goals")
    assert goal.details["target_on"] == clock.today().isoformat()


def test_a_missing_month_is_named_and_only_that_box_is_marked(world, care_plan,
                                                              coordinator_client):
    response = coordinator_client.post(
        reverse("item_add", args=[care_plan.pk, "goals"]),
        _goal_post(typed("target_on", "4", "", str(clock.days(400).year))))
    page = response.content.decode()
    assert "Target date must include a month" in page
    month = re.search(r'<input[^>]*id="id_target_on_month"[^>]*>', page).group(0)
    day = re.search(r'<input[^>]*id="id_target_on_day"[^>]*>', page).group(0)
    assert "nhsuk-input--error" in month
    assert "nhsuk-input--error" not in day
    assert 'href="#id_target_on_month"' in page


def test_editing_a_goal_keeps_a_saved_target_that_has_since_passed(world, care_plan,
                                                                   coordinator_client):
    goal = add_goal(care_plan, world.coordinator)
    passed = clock.days(-30)
    # Time went by: the target was saved when it was still ahead.
    PlanItem.objects.filter(pk=goal.pk).update(
        details={"domain": "connectedness", "target_on": passed.isoformat()})
    goal.refresh_from_db()

    form_page = coordinator_client.get(reverse("item_edit", args=[goal.pk])).content.decode()
    assert _box(form_page, "id_target_on_day") == str(passed.day)

    response = coordinator_client.post(reverse("item_edit", args=[goal.pk]), {
        "revision": goal.revision,
        **_goal_post(date_parts("target_on", passed), title="Swim again, twice a week")})
    assert response.status_code == 302, response.content.decode()
    goal.refresh_from_db()
    assert goal.title == "Swim again, twice a week"

    # Changing it to another date in the past is refused.
    response = coordinator_client.post(reverse("item_edit", args=[goal.pk]), {
        "revision": goal.revision, **_goal_post(date_parts("target_on", clock.days(-2)))})
    assert response.status_code == 200
    assert "Target date must be today or in the future" in response.content.decode()


def test_someone_else_cannot_post_a_goal_and_gets_404(world, care_plan):
    response = client_for(world.other_coordinator).post(
        reverse("item_add", args=[care_plan.pk, "goals"]),
        _goal_post(date_parts("target_on", clock.days(30))))
    assert response.status_code == 404
    assert not care_plan.items.filter(section="goals").exists()


def test_the_api_refuses_a_target_date_in_the_past_naming_the_field(world, care_plan):
    response = client_for(world.coordinator).post(
        f"/api/v1/plans/{care_plan.pk}/items/",
        {"section": "goals", "title": "Swim", "body": "",
         "details": {"domain": "hope", "target_on": clock.days(-1).isoformat()}},
        content_type=JSON)
    assert response.status_code == 400, response.content
    body = response.json()
    assert body["error"] == "invalid"
    assert "details" in body["fields"]
    assert "Target date must be today or in the future" in str(body)
    assert not PlanItem.objects.filter(title="Swim").exists()


def test_the_service_refuses_a_past_target_but_keeps_one_already_saved(world, care_plan):
    with pytest.raises(services.InvalidDetailsError, match="Target date"):
        services.item_create(plan=care_plan, section_code="goals", author=world.coordinator,
                             title="Swim", details={"domain": "hope",
                                                    "target_on": clock.days(-1)})
    goal = add_goal(care_plan, world.coordinator)
    passed = clock.days(-10).isoformat()
    PlanItem.objects.filter(pk=goal.pk).update(
        details={"domain": "hope", "target_on": passed})
    goal.refresh_from_db()
    updated = services.item_update(item=goal, changed_by=world.coordinator,
                                   expected_revision=goal.revision, body="New words",
                                   details={"domain": "hope", "target_on": passed})
    assert updated.details["target_on"] == passed
    with pytest.raises(services.InvalidDetailsError, match="Target date"):
        services.item_update(item=updated, changed_by=world.coordinator,
                             expected_revision=updated.revision, body="New words",
                             details={"domain": "hope",
                                      "target_on": clock.days(-3).isoformat()})


def test_the_api_refuses_an_item_body_longer_than_the_page_allows(world, care_plan):
    response = client_for(world.coordinator).post(
        f"/api/v1/plans/{care_plan.pk}/items/",
        {"section": "goals", "title": "Swim", "body": "x" * 10_001}, content_type=JSON)
    assert response.status_code == 400, response.content
    assert "body" in response.json()["fields"]
