"""The plans JSON API: what each person sees, ETag/If-Match co-editing without lost
work, WRAP ownership, signing, goals, progress and reviews — and that every error is
a JSON 4xx, with 404 for anything the caller may not see."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.db import connection
from django.test import Client

from plans import services
from plans.models import Plan, PlanItem, PlanVersion, ProgressUpdate, Review
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import PASSWORD

JSON = "application/json"
OUTSIDERS = ["other_coordinator", "carer_account", "manager", "admin",
             "other_service_user_account", "other_manager", "no_role"]


# --- Helpers --------------------------------------------------------------------------


@pytest.fixture
def care_plan(world) -> Plan:
    return services.plan_create(service_user=world.service_user, kind=PlanKind.CARE_PLAN,
                                created_by=world.coordinator)


@pytest.fixture
def wrap(world) -> Plan:
    return services.plan_create(service_user=world.service_user, kind=PlanKind.WRAP,
                                created_by=world.service_user_account)


@pytest.fixture
def goal(world, care_plan) -> PlanItem:
    return services.item_create(plan=care_plan, section_code="goals", author=world.coordinator,
                                title="Walk to the allotment", body="Twice a week by June.")


def prompt_item(plan: Plan, prompt: str) -> PlanItem:
    return plan.items.get(prompt=prompt)


def reload(item: PlanItem) -> PlanItem:
    item.refresh_from_db()
    return item


def etag(item: PlanItem) -> str:
    return f'"{item.pk}-{item.revision}"'


def patch(client: Client, item: PlanItem | int, data, if_match: str | None = None):
    item_id = item if isinstance(item, int) else item.pk
    headers = {"If-Match": if_match} if if_match is not None else {}
    return client.patch(f"/api/v1/items/{item_id}/", data, content_type=JSON, headers=headers)


def post(client: Client, path: str, data, **headers):
    return client.post(path, data, content_type=JSON, headers=headers)


def assert_json_error(response, status: int, error: str | None = None) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "detail" in body
    if error is not None:
        assert body["error"] == error
    return body


def section_items(plan_json: dict, code: str) -> list[dict]:
    return next(s for s in plan_json["sections"] if s["code"] == code)["items"]


def propose(world, plan: Plan) -> int:
    response = post(client_for(world.coordinator), f"/api/v1/plans/{plan.pk}/versions/", {})
    assert response.status_code == 201, response.content
    return response.json()["id"]


# --- Reading plans --------------------------------------------------------------------


@pytest.mark.parametrize("who", ["service_user_account", "coordinator"])
def test_the_service_user_and_their_coordinator_see_the_plans(world, care_plan, wrap, who):
    client = client_for(getattr(world, who))

    listed = client.get(f"/api/v1/service-users/{world.service_user.pk}/plans/")
    assert listed.status_code == 200
    assert [(p["id"], p["kind"]) for p in listed.json()["results"]] == [
        (care_plan.pk, "care_plan"), (wrap.pk, "wrap")
    ]

    detail = client.get(f"/api/v1/plans/{care_plan.pk}/")
    assert detail.status_code == 200
    data = detail.json()
    assert data["kind"] == "care_plan"
    assert [s["code"] for s in data["sections"]][:2] == ["recovery_meaning", "hopes"]
    meaning = section_items(data, "recovery_meaning")[0]
    assert meaning["title"] == "What recovery means to me"
    assert meaning["written_by"] == "recorded_in_meeting"
    assert set(meaning) >= {"id", "section", "prompt", "item_type", "title", "body", "details",
                            "written_by", "revision", "updated_at", "can_edit"}
    crisis = next(s for s in data["sections"] if s["code"] == "crisis")
    assert crisis["incomplete"] is True
    assert len(crisis["items"]) == 8


def test_plan_detail_shows_goals_with_agreement_and_progress(world, care_plan, goal):
    services.progress_record(item=goal, recorded_by=world.service_user_account,
                             recorded_on=clock.today(), rating=6, note="Went once.")
    data = client_for(world.service_user_account).get(f"/api/v1/plans/{care_plan.pk}/").json()
    [shown] = section_items(data, "goals")
    assert shown["title"] == "Walk to the allotment"
    assert shown["can_edit"] is True
    assert shown["agreed"] is False
    assert shown["agreed_by"] == []
    assert [(p["rating"], p["note"]) for p in shown["progress"]] == [(6, "Went once.")]
    # Text items carry no goal fields.
    assert "agreed" not in section_items(data, "hopes")[0]


def test_removed_items_are_not_shown(world, care_plan, goal):
    services.item_remove(item=goal, removed_by=world.coordinator, expected_revision=1)
    data = client_for(world.coordinator).get(f"/api/v1/plans/{care_plan.pk}/").json()
    assert section_items(data, "goals") == []
    assert_json_error(client_for(world.coordinator).get(f"/api/v1/items/{goal.pk}/"), 404,
                      "not_found")


READ_PATHS = {
    "plans_list": lambda w, plan, item, version: (
        f"/api/v1/service-users/{w.service_user.pk}/plans/"),
    "plan": lambda w, plan, item, version: f"/api/v1/plans/{plan.pk}/",
    "item": lambda w, plan, item, version: f"/api/v1/items/{item.pk}/",
    "progress": lambda w, plan, item, version: f"/api/v1/items/{item.pk}/progress/",
    "versions": lambda w, plan, item, version: f"/api/v1/plans/{plan.pk}/versions/",
    "version": lambda w, plan, item, version: f"/api/v1/versions/{version}/",
    "reviews": lambda w, plan, item, version: f"/api/v1/plans/{plan.pk}/reviews/",
}


@pytest.mark.parametrize("who", OUTSIDERS)
@pytest.mark.parametrize("surface", list(READ_PATHS))
def test_anyone_else_gets_a_json_404(world, care_plan, goal, who, surface):
    version = propose(world, care_plan)
    response = client_for(getattr(world, who)).get(
        READ_PATHS[surface](world, care_plan, goal, version)
    )
    body = assert_json_error(response, 404, "not_found")
    assert body == {"error": "not_found", "detail": "Not found."}
    content = response.content.decode()
    assert world.service_user.full_name not in content
    assert "allotment" not in content


WRITES = {
    "item_create": lambda w, plan, item, version: (
        "post", f"/api/v1/plans/{plan.pk}/items/", {"section": "goals", "title": "X"}),
    "item_patch": lambda w, plan, item, version: (
        "patch", f"/api/v1/items/{item.pk}/", {"body": "Overwritten"}),
    "item_delete": lambda w, plan, item, version: (
        "delete", f"/api/v1/items/{item.pk}/", None),
    "agree": lambda w, plan, item, version: (
        "post", f"/api/v1/items/{item.pk}/agreements/", {}),
    "progress": lambda w, plan, item, version: (
        "post", f"/api/v1/items/{item.pk}/progress/",
        {"recorded_on": "2024-01-01", "rating": 3}),
    "propose": lambda w, plan, item, version: (
        "post", f"/api/v1/plans/{plan.pk}/versions/", {}),
    "sign": lambda w, plan, item, version: (
        "post", f"/api/v1/versions/{version}/signatures/",
        {"decision": "signed", "password": PASSWORD}),
    "review": lambda w, plan, item, version: (
        "post", f"/api/v1/plans/{plan.pk}/reviews/",
        {"held_on": "2024-01-01", "attendees": "X", "what_changed": "X",
         "next_review_on": "2024-06-01"}),
}


def _state(plan: Plan) -> tuple:
    return (
        list(PlanItem.objects.filter(plan=plan).values_list("pk", "body", "revision",
                                                            "removed_at")),
        PlanVersion.objects.filter(plan=plan).count(),
        list(PlanVersion.objects.filter(plan=plan).values_list("signatures", flat=True)),
        ProgressUpdate.objects.count(),
        Review.objects.count(),
        list(PlanItem.objects.filter(plan=plan).values_list("agreements", flat=True)),
    )


@pytest.mark.parametrize("who", ["other_coordinator", "carer_account", "manager", "admin"])
@pytest.mark.parametrize("write", list(WRITES))
def test_anyone_else_cannot_write_and_gets_a_json_404(world, care_plan, goal, who, write):
    version = propose(world, care_plan)
    method, path, data = WRITES[write](world, care_plan, goal, version)
    before = _state(care_plan)
    response = getattr(client_for(getattr(world, who)), method)(
        path, data, content_type=JSON, headers={"If-Match": etag(goal)}
    )
    assert_json_error(response, 404, "not_found")
    assert _state(care_plan) == before


@pytest.mark.parametrize("path", [
    "/api/v1/service-users/{big}/plans/", "/api/v1/plans/{big}/", "/api/v1/items/{big}/",
    "/api/v1/items/{big}/progress/", "/api/v1/plans/{big}/versions/",
    "/api/v1/versions/{big}/", "/api/v1/plans/{big}/reviews/",
    "/api/v1/plans/999999/", "/api/v1/items/999999/", "/api/v1/versions/999999/",
])
def test_ids_that_do_not_exist_get_a_json_404(world, path):
    response = client_for(world.coordinator).get(path.format(big=10**30))
    assert_json_error(response, 404, "not_found")


def test_signed_out_requests_get_a_json_4xx(world, care_plan):
    response = Client().get(f"/api/v1/plans/{care_plan.pk}/")
    assert 400 <= response.status_code < 500
    assert response.json()["error"] == "not_authenticated"
    assert world.service_user.full_name not in response.content.decode()


def test_progress_of_a_text_item_is_not_found(world, care_plan):
    hopes = prompt_item(care_plan, "hopes")
    assert_json_error(
        client_for(world.coordinator).get(f"/api/v1/items/{hopes.pk}/progress/"), 404
    )


# --- Items: ETag and If-Match ---------------------------------------------------------


def test_item_get_gives_a_strong_etag(world, care_plan):
    item = prompt_item(care_plan, "recovery_meaning")
    response = client_for(world.service_user_account).get(f"/api/v1/items/{item.pk}/")
    assert response.status_code == 200
    assert response["ETag"] == f'"{item.pk}-1"'
    assert response.json()["etag"] == response["ETag"]
    assert response.json()["revision"] == 1


@pytest.mark.parametrize("if_match", [None, "", "*"])
def test_patch_without_an_etag_is_428(world, care_plan, if_match):
    item = prompt_item(care_plan, "recovery_meaning")
    response = patch(client_for(world.service_user_account), item, {"body": "Mine"},
                     if_match=if_match)
    assert_json_error(response, 428, "precondition_required")
    assert reload(item).body == ""


def test_patch_with_the_current_etag_saves_and_gives_the_new_etag(world, care_plan):
    item = prompt_item(care_plan, "recovery_meaning")
    client = client_for(world.service_user_account)
    current = client.get(f"/api/v1/items/{item.pk}/")["ETag"]

    response = patch(client, item, {"body": "Getting back to my music."}, if_match=current)

    assert response.status_code == 200, response.content
    assert response["ETag"] == f'"{item.pk}-2"'
    data = response.json()
    assert data["body"] == "Getting back to my music."
    assert data["written_by"] == "service_user"
    assert data["revision"] == 2
    item = reload(item)
    assert (item.body, item.revision) == ("Getting back to my music.", 2)
    assert item.changes.filter(action="changed").count() == 1


def test_two_people_saving_over_the_same_etag_the_second_gets_412_and_nothing_is_lost(
    world, care_plan
):
    item = prompt_item(care_plan, "recovery_meaning")
    service_user = client_for(world.service_user_account)
    coordinator = client_for(world.coordinator)
    seen = service_user.get(f"/api/v1/items/{item.pk}/")["ETag"]
    assert coordinator.get(f"/api/v1/items/{item.pk}/")["ETag"] == seen

    first = patch(service_user, item, {"body": "Feeling like myself again."}, if_match=seen)
    second = patch(coordinator, item, {"body": "Coordinator's words."}, if_match=seen)

    assert first.status_code == 200
    body = assert_json_error(second, 412, "stale")
    assert body["current"]["body"] == "Feeling like myself again."
    assert body["current"]["revision"] == 2
    assert second["ETag"] == first["ETag"] == f'"{item.pk}-2"'
    assert reload(item).body == "Feeling like myself again."

    # With the new ETag the coordinator's change goes in, over the text they have now seen.
    retry = patch(coordinator, item, {"body": "Coordinator's words."}, if_match=second["ETag"])
    assert retry.status_code == 200
    assert reload(item).revision == 3


@pytest.mark.parametrize("if_match", [
    'W/"{id}-1"', '"{other}-1"', "not-an-etag", '"{id}-0"', '"{id}-' + "9" * 5000 + '"',
])
def test_an_etag_that_is_not_the_current_one_is_412(world, care_plan, if_match):
    item = prompt_item(care_plan, "recovery_meaning")
    other = prompt_item(care_plan, "hopes")
    response = patch(client_for(world.service_user_account), item, {"body": "Mine"},
                     if_match=if_match.format(id=item.pk, other=other.pk))
    assert_json_error(response, 412, "stale")
    assert (reload(item).body, item.revision) == ("", 1)


def test_partial_patch_over_a_stale_etag_is_412(world, care_plan, goal):
    client = client_for(world.coordinator)
    old = etag(goal)
    patch(client, goal, {"body": "Three times a week."}, if_match=old)
    response = patch(client, goal, {"details": {"domain": "connectedness"}}, if_match=old)
    assert_json_error(response, 412, "stale")
    assert reload(goal).details == {}


def test_patch_details_only_keeps_the_body(world, care_plan, goal):
    target = clock.days(540).isoformat()
    response = patch(client_for(world.coordinator), goal,
                     {"details": {"domain": "connectedness", "target_on": target}},
                     if_match=etag(goal))
    assert response.status_code == 200
    goal = reload(goal)
    assert goal.body == "Twice a week by June."
    assert goal.details == {"domain": "connectedness", "target_on": target}


@pytest.mark.parametrize("details", [
    {"domain": "connectedness", "target_date": "2030-06-01"},  # not a goal's key
    {"holder": "carer", "holder_relationship": 1},  # a goal has no holder
])
def test_details_a_goal_does_not_have_are_refused_and_nothing_is_saved(world, goal, details):
    before = reload(goal)
    response = patch(client_for(world.coordinator), goal, {"details": details},
                     if_match=etag(goal))
    assert "details" in assert_json_error(response, 400, "invalid")["fields"]
    after = reload(goal)
    assert (after.details, after.revision) == (before.details, before.revision)


def test_coordinator_cannot_change_a_wrap_item(world, wrap):
    item = services.item_create(plan=wrap, section_code="wellness_toolbox",
                                author=world.service_user_account, title="Music",
                                body="Playing guitar.")
    coordinator = client_for(world.coordinator)

    assert coordinator.get(f"/api/v1/items/{item.pk}/").json()["can_edit"] is False
    response = patch(coordinator, item, {"body": "Coordinator's idea."}, if_match=etag(item))
    assert_json_error(response, 403, "permission_denied")
    response = coordinator.delete(f"/api/v1/items/{item.pk}/", headers={"If-Match": etag(item)})
    assert_json_error(response, 403, "permission_denied")
    response = post(coordinator, f"/api/v1/plans/{wrap.pk}/items/",
                    {"section": "wellness_toolbox", "title": "Walks"})
    assert_json_error(response, 403, "permission_denied")

    item = reload(item)
    assert (item.body, item.revision, item.removed_at) == ("Playing guitar.", 1, None)
    assert wrap.items.filter(removed_at__isnull=True).count() == 6  # 5 prompts + Music

    # The owner can.
    owner = patch(client_for(world.service_user_account), item, {"body": "Guitar, daily."},
                  if_match=etag(item))
    assert owner.status_code == 200


def test_service_user_edits_their_own_words_but_not_the_crisis_plan(world, care_plan):
    client = client_for(world.service_user_account)
    early_signs = prompt_item(care_plan, "early_signs")
    response = patch(client, early_signs, {"body": "Not sleeping."}, if_match=etag(early_signs))
    assert_json_error(response, 403, "permission_denied")
    assert reload(early_signs).body == ""

    meaning = prompt_item(care_plan, "recovery_meaning")
    response = patch(client, meaning, {"body": "Work, friends, music."}, if_match=etag(meaning))
    assert response.status_code == 200
    assert reload(meaning).body == "Work, friends, music."

    plan = client.get(f"/api/v1/plans/{care_plan.pk}/").json()
    assert section_items(plan, "crisis")[0]["can_edit"] is False
    assert section_items(plan, "recovery_meaning")[0]["can_edit"] is True


def test_bad_item_input_is_a_400_with_field_errors(world, care_plan, goal):
    client = client_for(world.coordinator)
    response = patch(client, goal, {"title": "x" * 201, "details": ["not", "an", "object"]},
                     if_match=etag(goal))
    body = assert_json_error(response, 400, "invalid")
    assert set(body["fields"]) == {"title", "details"}

    response = patch(client, goal, {"body": "nul\x00byte"}, if_match=etag(goal))
    assert set(assert_json_error(response, 400, "invalid")["fields"]) == {"body"}
    response = patch(client, goal, {"details": {"domain": "nul\x00"}}, if_match=etag(goal))
    assert set(assert_json_error(response, 400, "invalid")["fields"]) == {"details"}
    assert reload(goal).revision == 1


def test_malformed_json_is_a_400(world, care_plan, goal):
    client = client_for(world.coordinator)
    response = client.patch(f"/api/v1/items/{goal.pk}/", '{"body": "unfinished',
                            content_type=JSON, headers={"If-Match": etag(goal)})
    assert_json_error(response, 400, "parse_error")
    response = client.post(f"/api/v1/plans/{care_plan.pk}/items/", "[1, 2",
                           content_type=JSON)
    assert_json_error(response, 400, "parse_error")
    too_deep = "[" * 100_000 + "]" * 100_000
    response = client.post(f"/api/v1/items/{goal.pk}/progress/", too_deep, content_type=JSON)
    assert_json_error(response, 400, "parse_error")
    for body in ("null", '"text"', "[]"):
        response = client.patch(f"/api/v1/items/{goal.pk}/", body, content_type=JSON,
                                headers={"If-Match": etag(goal)})
        assert_json_error(response, 400, "invalid")
    assert reload(goal).revision == 1


# --- Items: create and remove ---------------------------------------------------------


def test_creating_an_item(world, care_plan):
    client = client_for(world.service_user_account)
    response = post(client, f"/api/v1/plans/{care_plan.pk}/items/",
                    {"section": "goals", "title": "Swim again",
                     "details": {"domain": "identity"}})
    assert response.status_code == 201, response.content
    data = response.json()
    assert response["Location"] == f"/api/v1/items/{data['id']}/"
    assert response["ETag"] == f'"{data["id"]}-1"'
    assert (data["item_type"], data["written_by"], data["agreed"]) == ("goal", "service_user",
                                                                       False)
    assert PlanItem.objects.get(pk=data["id"]).details == {"domain": "identity"}


def test_creating_an_item_checks_the_section(world, care_plan):
    service_user = client_for(world.service_user_account)
    path = f"/api/v1/plans/{care_plan.pk}/items/"
    before = care_plan.items.count()

    # Not a section of a care plan, or one with fixed questions only: bad input.
    for section in ("wellness_toolbox", "crisis", ""):
        body = assert_json_error(post(service_user, path, {"section": section, "title": "X"}),
                                 400, "invalid")
        assert "section" in body["fields"]
    assert "title" in assert_json_error(post(service_user, path, {"section": "goals"}),
                                        400)["fields"]
    # A real section the service user does not write.
    assert_json_error(post(service_user, path, {"section": "risk", "title": "X"}), 403,
                      "permission_denied")
    assert care_plan.items.count() == before


def test_removing_an_item(world, care_plan, goal):
    client = client_for(world.coordinator)
    assert_json_error(client.delete(f"/api/v1/items/{goal.pk}/"), 428)
    response = client.delete(f"/api/v1/items/{goal.pk}/", headers={"If-Match": etag(goal)})
    assert response.status_code == 204
    assert reload(goal).removed_at is not None
    assert_json_error(client.get(f"/api/v1/items/{goal.pk}/"), 404)


def test_removing_a_fixed_question_is_a_409(world, care_plan):
    item = prompt_item(care_plan, "early_signs")
    response = client_for(world.coordinator).delete(f"/api/v1/items/{item.pk}/",
                                                    headers={"If-Match": etag(item)})
    body = assert_json_error(response, 409, "conflict")
    assert "Fixed questions" in body["detail"]
    assert reload(item).removed_at is None


# --- Goals: agreements and progress ---------------------------------------------------


def test_a_goal_is_agreed_when_both_sides_agree(world, care_plan, goal):
    path = f"/api/v1/items/{goal.pk}/agreements/"
    service_user = client_for(world.service_user_account)
    coordinator = client_for(world.coordinator)

    assert_json_error(post(service_user, path, {}), 428)
    first = post(service_user, path, {}, **{"If-Match": etag(goal)})
    assert first.status_code == 201
    assert (first.json()["agreed"], first.json()["agreed_by"]) == (False, ["service_user"])

    second = post(coordinator, path, {}, **{"If-Match": etag(goal)})
    assert second.status_code == 201
    assert second.json()["agreed"] is True
    assert second.json()["agreed_by"] == ["coordinator", "service_user"]


def test_words_changed_between_the_check_and_the_lock_are_not_agreed(
    world, care_plan, goal, monkeypatch
):
    """The race inside the row lock: the goal changes after the API read it and before
    the service locks it. Nothing is agreed, and the 412 shows the words saved now."""
    seen = etag(goal)
    agree = services.goal_agree

    def changed_meanwhile(**kwargs):
        services.item_update(item=goal, changed_by=world.coordinator, expected_revision=1,
                             body="Every day, changed meanwhile.")
        return agree(**kwargs)

    monkeypatch.setattr(services, "goal_agree", changed_meanwhile)
    response = post(client_for(world.service_user_account),
                    f"/api/v1/items/{goal.pk}/agreements/", {}, **{"If-Match": seen})
    body = assert_json_error(response, 412, "stale")
    assert body["current"]["body"] == "Every day, changed meanwhile."
    assert response["ETag"] == etag(reload(goal))
    assert not goal.agreements.exists()


def test_an_agreement_is_to_the_words_the_person_read(world, care_plan, goal):
    seen = etag(goal)
    services.item_update(item=goal, changed_by=world.coordinator, expected_revision=1,
                         body="Every day.")
    response = post(client_for(world.service_user_account),
                    f"/api/v1/items/{goal.pk}/agreements/", {}, **{"If-Match": seen})
    body = assert_json_error(response, 412, "stale")
    assert body["current"]["body"] == "Every day."
    assert not goal.agreements.exists()


def test_progress_is_recorded_and_listed(world, care_plan, goal):
    client = client_for(world.service_user_account)
    path = f"/api/v1/items/{goal.pk}/progress/"
    today = clock.today()
    response = post(client, path, {"recorded_on": today.isoformat(), "rating": 7,
                                   "note": "Went twice."})
    assert response.status_code == 201, response.content
    assert response.json()["recorded_by"] == world.service_user_account.display_name

    listed = client_for(world.coordinator).get(path).json()["results"]
    assert [(p["recorded_on"], p["rating"], p["note"]) for p in listed] == [
        (today.isoformat(), 7, "Went twice.")
    ]


@pytest.mark.parametrize("data", [
    {"recorded_on": "2024-01-01", "rating": 11},
    {"recorded_on": "2024-01-01", "rating": -1},
    {"recorded_on": "2024-01-01", "rating": "lots"},
    {"recorded_on": "2024-01-01", "rating": 5.5},
    {"recorded_on": "yesterday", "rating": 5},
    {"recorded_on": "2999-01-01", "rating": 5},
    {"rating": 5},
])
def test_invalid_progress_is_a_400(world, care_plan, goal, data):
    response = post(client_for(world.service_user_account),
                    f"/api/v1/items/{goal.pk}/progress/", data)
    body = assert_json_error(response, 400, "invalid")
    assert set(body["fields"]) <= {"rating", "recorded_on"}
    assert not goal.progress.exists()


# --- Versions and signatures ----------------------------------------------------------


def sign(client: Client, version_id: int, **data):
    return post(client, f"/api/v1/versions/{version_id}/signatures/", data)


def test_propose_sign_and_agree(world, care_plan, goal):
    service_user = client_for(world.service_user_account)
    coordinator = client_for(world.coordinator)

    response = post(coordinator, f"/api/v1/plans/{care_plan.pk}/versions/", {})
    assert response.status_code == 201
    version = response.json()
    assert response["Location"] == f"/api/v1/versions/{version['id']}/"
    assert version["status"] == "awaiting"
    assert len(version["content_hash"]) == 64
    assert {r["role"] for r in version["required_signers"]} == {"service_user", "coordinator"}
    assert any(entry["title"] == "Walk to the allotment" for entry in version["snapshot"])

    wrong = sign(service_user, version["id"], decision="signed", password="not it")
    assert "password" in assert_json_error(wrong, 400, "invalid")["fields"]
    assert not PlanVersion.objects.get(pk=version["id"]).signatures.exists()

    signed = sign(service_user, version["id"], decision="signed", password=PASSWORD)
    assert signed.status_code == 201, signed.content
    assert signed.json()["status"] == "awaiting"
    assert signed.json()["already_answered"] is True

    agreed = sign(coordinator, version["id"], decision="signed", password=PASSWORD)
    assert agreed.status_code == 201
    assert agreed.json()["status"] == "agreed"

    shown = service_user.get(f"/api/v1/versions/{version['id']}/").json()
    assert shown["status"] == "agreed"
    assert shown["agreed_at"] is not None
    assert [(s["signer"], s["role"], s["decision"], s["content_hash"])
            for s in shown["signatures"]] == [
        ("Alex Service", "service_user", "signed", version["content_hash"]),
        ("Sam Coordinator", "coordinator", "signed", version["content_hash"]),
    ]
    listed = coordinator.get(f"/api/v1/plans/{care_plan.pk}/versions/").json()["results"]
    assert [(v["id"], v["status"]) for v in listed] == [(version["id"], "agreed")]

    # Signing twice, or proposing an unchanged plan, is a conflict with a readable reason.
    again = sign(coordinator, version["id"], decision="signed", password=PASSWORD)
    assert "already agreed" in assert_json_error(again, 409, "conflict")["detail"]
    unchanged = post(coordinator, f"/api/v1/plans/{care_plan.pk}/versions/", {})
    assert "Nothing has changed" in assert_json_error(unchanged, 409, "conflict")["detail"]


def test_a_decline_and_its_reason_are_shown(world, care_plan, goal):
    version_id = propose(world, care_plan)
    service_user = client_for(world.service_user_account)

    no_reason = sign(service_user, version_id, decision="declined", reason="   ")
    assert "reason" in assert_json_error(no_reason, 400, "invalid")["fields"]

    response = sign(service_user, version_id, decision="declined",
                    reason="The crisis plan is not in my words yet.")
    assert response.status_code == 201

    shown = client_for(world.coordinator).get(f"/api/v1/versions/{version_id}/").json()
    assert shown["status"] == "declined"
    [signature] = shown["signatures"]
    assert (signature["signer"], signature["decision"], signature["reason"]) == (
        "Alex Service", "declined", "The crisis plan is not in my words yet."
    )


@pytest.mark.parametrize("data", [
    {}, {"decision": "maybe"}, {"decision": "signed"}, {"decision": "declined"},
])
def test_bad_signature_input_is_a_400(world, care_plan, goal, data):
    version_id = propose(world, care_plan)
    assert_json_error(sign(client_for(world.service_user_account), version_id, **data), 400,
                      "invalid")


def test_a_coordinator_does_not_sign_a_wrap(world, wrap):
    item = prompt_item(wrap, "supporters")
    services.item_update(item=item, changed_by=world.service_user_account,
                         expected_revision=1, body="My sister, Jo.")
    response = post(client_for(world.service_user_account),
                    f"/api/v1/plans/{wrap.pk}/versions/", {})
    assert response.status_code == 201
    version = response.json()
    assert [r["role"] for r in version["required_signers"]] == ["service_user"]

    coordinator = client_for(world.coordinator)
    assert coordinator.get(f"/api/v1/versions/{version['id']}/").json()["can_sign"] is False
    response = sign(coordinator, version["id"], decision="signed", password=PASSWORD)
    assert_json_error(response, 403, "permission_denied")


def test_a_carer_named_in_a_responsibility_agreement_sees_and_signs_only_the_version(world):
    agreement = services.plan_create(service_user=world.service_user,
                                     kind=PlanKind.RESPONSIBILITY_AGREEMENT,
                                     created_by=world.coordinator)
    coordinator = client_for(world.coordinator)
    response = post(coordinator, f"/api/v1/plans/{agreement.pk}/items/", {
        "section": "responsibilities", "title": "Evening check-in",
        "details": {"holder": "carer", "holder_relationship": world.carer_relationship.pk},
    })
    assert response.status_code == 201, response.content
    version_id = propose(world, agreement)

    carer = client_for(world.carer_account)
    assert_json_error(carer.get(f"/api/v1/plans/{agreement.pk}/"), 404)
    shown = carer.get(f"/api/v1/versions/{version_id}/").json()
    assert shown["signer_role"] == "carer"
    assert shown["can_sign"] is True
    response = sign(carer, version_id, decision="signed", password=PASSWORD)
    assert response.status_code == 201
    assert response.json()["signatures"][0]["signer"] == "Linda Carer"


def test_a_holder_must_be_one_of_this_persons_carers(world):
    agreement = services.plan_create(service_user=world.service_user,
                                     kind=PlanKind.RESPONSIBILITY_AGREEMENT,
                                     created_by=world.coordinator)
    other = world.other_service_user.carer_relationships.get()
    for holder in (other.pk, "abc", 10**30):
        response = post(client_for(world.coordinator), f"/api/v1/plans/{agreement.pk}/items/", {
            "section": "responsibilities", "title": "Evening check-in",
            "details": {"holder": "carer", "holder_relationship": holder},
        })
        assert "details" in assert_json_error(response, 400, "invalid")["fields"]


# --- Reviews --------------------------------------------------------------------------


def review_data(**overrides) -> dict:
    today = clock.today()
    return {"held_on": today.isoformat(), "attendees": "Alex, Sam, Linda (Mum)",
            "what_changed": "New goal about swimming.",
            "next_review_on": (today + dt.timedelta(weeks=12)).isoformat()} | overrides


def test_the_coordinator_records_a_review(world, care_plan):
    path = f"/api/v1/plans/{care_plan.pk}/reviews/"
    carer = world.carer_relationship.carer
    response = post(client_for(world.coordinator), path,
                    review_data(carers_attended=[carer.pk]))
    assert response.status_code == 201, response.content
    assert response.json()["carers_attended"] == [{"id": carer.pk, "name": carer.full_name}]

    listed = client_for(world.service_user_account).get(path).json()["results"]
    assert [(r["what_changed"], r["recorded_by"]) for r in listed] == [
        ("New goal about swimming.", "Sam Coordinator")
    ]
    care_plan.refresh_from_db()
    assert care_plan.next_review_on == clock.today() + dt.timedelta(weeks=12)


def test_only_the_coordinator_records_a_review_of_a_care_plan(world, care_plan, wrap):
    response = post(client_for(world.service_user_account),
                    f"/api/v1/plans/{care_plan.pk}/reviews/", review_data())
    assert_json_error(response, 403, "permission_denied")
    response = post(client_for(world.coordinator), f"/api/v1/plans/{wrap.pk}/reviews/",
                    review_data())
    assert_json_error(response, 403, "permission_denied")
    assert not Review.objects.exists()


@pytest.mark.parametrize("overrides", [
    {"next_review_on": "2000-01-01"},
    {"held_on": "2999-01-01", "next_review_on": "2999-06-01"},
    {"attendees": ""},
    {"carers_attended": [10**9]},
    {"carers_attended": "everyone"},
])
def test_invalid_reviews_are_a_400(world, care_plan, overrides):
    response = post(client_for(world.coordinator), f"/api/v1/plans/{care_plan.pk}/reviews/",
                    review_data(**overrides))
    assert_json_error(response, 400, "invalid")
    assert not Review.objects.exists()


def test_a_carer_of_another_person_cannot_be_recorded_as_attending(world, care_plan):
    other_carer = world.other_service_user.carer_relationships.get().carer_id
    response = post(client_for(world.coordinator), f"/api/v1/plans/{care_plan.pk}/reviews/",
                    review_data(carers_attended=[other_carer]))
    assert "carers_attended" in assert_json_error(response, 400, "invalid")["fields"]


# --- Real concurrency (PostgreSQL row locks) ------------------------------------------


@pytest.fixture(scope="module")
def _flush_past_the_truncate_trigger():
    """A transactional test ends with a TRUNCATE of every table, which the audit trail's
    append-only trigger refuses on PostgreSQL: let that flush (only it) run with triggers
    off, as tests/carecoord/test_audit.py does."""
    if connection.vendor != "postgresql":
        yield
        return
    from django.db.backends.postgresql.operations import DatabaseOperations

    original = DatabaseOperations.execute_sql_flush

    def execute_sql_flush(self, sql_list):
        return original(self, ["SET LOCAL session_replication_role = replica", *sql_list])

    with pytest.MonkeyPatch.context() as monkeypatch:
        monkeypatch.setattr(DatabaseOperations, "execute_sql_flush", execute_sql_flush)
        yield


@pytest.mark.postgresql_only  # SQLite has one writer at a time; the row lock is PostgreSQL's
@pytest.mark.django_db(transaction=True)
@pytest.mark.usefixtures("_flush_past_the_truncate_trigger")
def test_concurrent_patches_over_the_same_etag_let_exactly_one_win(world, care_plan):
    item = prompt_item(care_plan, "recovery_meaning")
    seen = etag(item)
    clients = {"service user": client_for(world.service_user_account),
               "coordinator": client_for(world.coordinator)}
    start = threading.Barrier(len(clients))
    responses = {}
    errors: list[BaseException] = []

    def save(who: str) -> None:
        try:
            start.wait(timeout=10)
            responses[who] = patch(clients[who], item, {"body": f"Written by the {who}."},
                                   if_match=seen)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=save, args=(who,)) for who in clients]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert errors == []
    assert sorted(r.status_code for r in responses.values()) == [200, 412]
    [winner] = [who for who, r in responses.items() if r.status_code == 200]
    [loser] = [r for r in responses.values() if r.status_code == 412]
    item = reload(item)
    assert (item.body, item.revision) == (f"Written by the {winner}.", 2)
    assert loser.json()["current"]["body"] == item.body
