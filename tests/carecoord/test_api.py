"""The JSON API: the same policy as the pages, and JSON answers for every error."""

from __future__ import annotations

import pytest
from django.test import Client

from carecoord.records.models import Role
from tests import clock
from tests.conftest import client_for, pass_second_factor
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory, UserFactory

LIST = "/api/v1/service-users/"


def _detail(pk) -> str:
    return f"/api/v1/service-users/{pk}/"


def _listed_ids(client) -> list[int]:
    response = client.get(LIST)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    return [row["id"] for row in response.json()["results"]]


def _assert_json_error(response, status: int, error: str) -> dict:
    assert response.status_code == status
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert body["error"] == error
    assert body.get("detail")
    return body


# --- The list ------------------------------------------------------------------------


def test_the_list_holds_only_the_coordinators_caseload(world):
    second = ServiceUserFactory(team=world.team, full_name="Bea Second")
    AllocationFactory(episode=EpisodeFactory(service_user=second), coordinator=world.coordinator)
    unallocated = ServiceUserFactory(team=world.team)
    EpisodeFactory(service_user=unallocated)

    response = client_for(world.coordinator).get(LIST)

    assert response.status_code == 200
    results = response.json()["results"]
    assert [row["id"] for row in results] == [world.service_user.pk, second.pk]  # by name
    assert results[0] == {
        "id": world.service_user.pk,
        "name": "Alex Service",
        "url": _detail(world.service_user.pk),
    }


def test_the_service_user_lists_only_their_own_record(world):
    assert _listed_ids(client_for(world.service_user_account)) == [world.service_user.pk]


@pytest.mark.parametrize(
    "who", ["manager", "carer_account", "admin", "no_role", "other_manager"]
)
def test_people_without_a_record_to_read_get_an_empty_list(world, who):
    assert _listed_ids(client_for(getattr(world, who))) == []


def test_every_listed_url_opens(world):
    client = client_for(world.coordinator)
    for row in client.get(LIST).json()["results"]:
        assert client.get(row["url"]).status_code == 200


# --- The detail ----------------------------------------------------------------------


def test_the_detail_gives_the_fields_and_the_basis(world):
    su = world.service_user
    su.preferred_name, su.pronouns, su.nhs_number = "Al", "they/them", "9434765919"
    su.save()
    episode = su.episodes.get()

    response = client_for(world.coordinator).get(_detail(su.pk))

    assert response.status_code == 200
    body = response.json()
    assert body == {
        "id": su.pk,
        "full_name": "Alex Service",
        "preferred_name": "Al",
        "pronouns": "they/them",
        "date_of_birth": "1988-05-17",
        "nhs_number": "9434765919",
        "email": su.email,
        "phone": "",
        "preferred_contact": "phone",
        "team": world.team.name,
        "version": 1,
        "basis": "allocated care coordinator",
        "episodes": [
            {
                "id": episode.pk,
                "started_on": episode.started_on.isoformat(),
                "planned_end_on": episode.planned_end_on.isoformat(),
                "discharged_on": None,
            }
        ],
    }


def test_the_service_user_reads_their_own_record_on_the_basis_of_it_being_theirs(world):
    response = client_for(world.service_user_account).get(_detail(world.service_user.pk))
    assert response.status_code == 200
    assert response.json()["basis"] == "own record"
    assert response.json()["full_name"] == "Alex Service"


@pytest.mark.parametrize(
    "who",
    ["other_coordinator", "other_service_user_account", "carer_account", "other_carer_account",
     "manager", "other_manager", "admin", "no_role"],
)
def test_anyone_else_gets_a_json_not_found(world, who):
    response = client_for(getattr(world, who)).get(_detail(world.service_user.pk))
    body = _assert_json_error(response, 404, "not_found")
    assert "Alex Service" not in response.content.decode()
    assert set(body) == {"error", "detail"}


def test_not_allowed_and_not_there_are_the_same_answer(world):
    client = client_for(world.coordinator)
    hidden = client.get(_detail(world.other_service_user.pk))
    absent = client.get(_detail(world.other_service_user.pk + 10_000))
    assert hidden.status_code == absent.status_code == 404
    assert hidden.json() == absent.json() == {"error": "not_found", "detail": "Not found."}


# --- Who am I ------------------------------------------------------------------------


def test_me_gives_the_signed_in_persons_roles(world):
    response = client_for(world.coordinator).get("/api/v1/me/")
    assert response.status_code == 200
    assert response.json() == {
        "email": world.coordinator.email,
        "name": "Sam Coordinator",
        "roles": ["coordinator"],
    }


def test_me_lists_every_role_someone_holds(db):
    person = UserFactory(roles=[Role.COORDINATOR, Role.CARER], full_name="Dana Both")
    body = client_for(person).get("/api/v1/me/").json()
    assert body["roles"] == ["carer", "coordinator"]


def test_me_for_someone_with_no_role_is_an_empty_list(world):
    assert client_for(world.no_role).get("/api/v1/me/").json()["roles"] == []


# --- Wrong methods, CSRF and bad ids --------------------------------------------------


ENDPOINTS = {
    "list": lambda w: LIST,
    "detail": lambda w: _detail(w.service_user.pk),
    "me": lambda w: "/api/v1/me/",
}


@pytest.mark.parametrize("method", ["post", "put", "patch", "delete"])
@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_writing_to_a_read_only_endpoint_is_a_json_405(world, endpoint, method):
    # Django's test client marks requests as exempt from CSRF checks (DRF honours that),
    # so this reaches the method check.
    client = client_for(world.coordinator)
    response = getattr(client, method)(endpoint(world), data={}, content_type="application/json")
    _assert_json_error(response, 405, "method_not_allowed")


@pytest.mark.parametrize("endpoint", ENDPOINTS.values(), ids=ENDPOINTS.keys())
def test_a_post_without_a_csrf_token_is_a_json_403(world, endpoint):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.coordinator)
    pass_second_factor(client, world.coordinator)
    response = client.post(endpoint(world), data={}, content_type="application/json")
    body = _assert_json_error(response, 403, "permission_denied")
    assert "CSRF" in body["detail"]


def test_a_post_with_a_csrf_token_reaches_the_method_check(world):
    client = Client(enforce_csrf_checks=True)
    client.force_login(world.coordinator)
    pass_second_factor(client, world.coordinator)
    client.get("/")  # sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    response = client.post("/api/v1/me/", data={}, content_type="application/json",
                           HTTP_X_CSRFTOKEN=token)
    _assert_json_error(response, 405, "method_not_allowed")


def test_a_malformed_json_body_is_not_a_500(world):
    response = client_for(world.coordinator).post(
        LIST, data="{not json", content_type="application/json"
    )
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")


@pytest.mark.parametrize(
    "path",
    [
        "/api/v1/service-users/abc/",
        "/api/v1/service-users/1.5/",
        "/api/v1/service-users/-1/",
        "/api/v1/service-users/%20/",
        "/api/v1/service-users/99999999999999999999999/",
        "/api/v1/service-users/0/",
    ],
    ids=["letters", "decimal", "negative", "space", "beyond-bigint", "zero"],
)
def test_a_bad_or_unknown_id_is_not_found(world, path):
    response = client_for(world.coordinator).get(path)
    assert response.status_code == 404


@pytest.mark.parametrize(
    "path", ["/service-users/abc/", "/service-users/99999999999999999999999/"],
    ids=["letters", "beyond-bigint"],
)
def test_a_bad_id_in_a_page_url_is_not_found(world, path):
    assert client_for(world.coordinator).get(path).status_code == 404


def test_an_ended_allocation_takes_the_record_out_of_the_api(world):
    client = client_for(world.coordinator)
    assert client.get(_detail(world.service_user.pk)).status_code == 200
    world.service_user.episodes.get().allocations.update(ended_on=clock.today())
    _assert_json_error(client.get(_detail(world.service_user.pk)), 404, "not_found")
    assert world.service_user.pk not in _listed_ids(client)
