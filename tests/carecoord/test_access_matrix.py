"""The access policy as people meet it: every role against every record surface.

Anything a person may not see or change answers exactly 404, the same as something that
does not exist, so a record's existence never leaks. The expected table below is written
out by hand from DESIGN.md ("People and roles", "The access policy"), not computed from
the policy it checks.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass

import pytest
from django.contrib.auth.models import AnonymousUser
from django.test import Client

from carecoord.records import services
from carecoord.records.models import Allocation, Invitation, ServiceUser
from carers.models import CarerRelationship
from consent import policy
from consent.reviews.services import review_involvement_decide
from plans import services as plan_services
from plans.sections import PlanKind
from tests import clock
from tests.conftest import World, client_for
from tests.factories import (
    AllocationFactory,
    EpisodeFactory,
    ServiceUserFactory,
)

ROLES = (
    "coordinator",  # allocated to world.service_user
    "other_coordinator",  # same team, allocated to someone else
    "service_user",  # the person themselves
    "other_service_user",
    "carer",  # a carer of world.service_user
    "other_carer",
    "manager",  # manages world.team
    "other_manager",
    "admin",  # superuser and staff: no special access to records
    "no_role",
)

ROLE_USER = {
    "coordinator": "coordinator",
    "other_coordinator": "other_coordinator",
    "service_user": "service_user_account",
    "other_service_user": "other_service_user_account",
    "carer": "carer_account",
    "other_carer": "other_carer_account",
    "manager": "manager",
    "other_manager": "other_manager",
    "admin": "admin",
    "no_role": "no_role",
}

IN, OUT = "listed", "not listed"

# fmt: off
TABLE = {
    #                       coord  oth_co  su    oth_su carer  oth_ca mgr   oth_mg admin  none
    "record":              (200,   404,    200,  404,   404,   404,   404,  404,   404,   404),
    "edit":                (200,   404,    200,  404,   404,   404,   404,  404,   404,   404),
    "episode_edit":        (200,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "allocation_create":   (200,   404,    404,  404,   404,   404,   200,  404,   404,   404),
    "allocation_end":      (302,   404,    404,  404,   404,   404,   302,  404,   404,   404),
    "carer_add":           (200,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "invite_service_user": (302,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "carer_end":           (302,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "carer_invite":        (302,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "team":                (404,   404,    404,  404,   404,   404,   200,  404,   404,   404),
    "api_detail":          (200,   404,    200,  404,   404,   404,   404,  404,   404,   404),
    "api_list":            (IN,    OUT,    IN,   OUT,   OUT,   OUT,   OUT,  OUT,   OUT,   OUT),
    "api_fhir":            (200,   404,    200,  404,   200,   404,   404,  404,   404,   404),
    "episode_start":       (404,   404,    404,  404,   404,   404,   200,  404,   404,   404),
    "service_user_create": (200,   200,    404,  404,   404,   404,   404,  404,   404,   404),
    # The first meeting (ADR 0017): the allocated care coordinator's alone.
    "first_meeting_step":  (200,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "first_meeting_check": (200,   404,    404,  404,   404,   404,   404,  404,   404,   404),
    "review_views":        (404,   404,    404,  404,   200,   404,   404,  404,   404,   404),
    "api_review_views":    (404,   404,    404,  404,   200,   404,   404,  404,   404,   404),
}
# fmt: on

EXPECTED: dict[tuple[str, str], int | str] = {
    (role, surface): expected
    for surface, row in TABLE.items()
    for role, expected in zip(ROLES, row, strict=True)
}


def _user(world: World, role: str):
    return getattr(world, ROLE_USER[role])


def _open_episode(world: World):
    return world.service_user.episodes.get(discharged_on__isnull=True)


def _discharge(world: World) -> None:
    episode = _open_episode(world)
    services.episode_update(
        episode=episode, changed_by=world.coordinator, planned_end_on=episode.planned_end_on,
        discharged_on=clock.today(), discharge_plan="Keep in touch with the GP.",
    )


def _carer_heard_at_reviews(world: World) -> None:
    """A care plan with a review scheduled, and the carer involved in reviews (ADR 0016)."""
    plan_services.plan_create(service_user=world.service_user, kind=PlanKind.CARE_PLAN,
                              created_by=world.coordinator)
    review_involvement_decide(relationship=world.carer_relationship, involved=True,
                              decided_by=world.service_user_account)


@dataclass(frozen=True)
class Surface:
    method: str
    path: Callable[[World], str]
    prepare: Callable[[World], None] | None = None
    shows_record: bool = False  # an allowed answer shows the service user's name


def _coordinator_allocation(world: World) -> Allocation:
    return Allocation.objects.get(
        episode__service_user=world.service_user, coordinator=world.coordinator
    )


SURFACES: dict[str, Surface] = {
    "record": Surface("get", lambda w: f"/service-users/{w.service_user.pk}/",
                      shows_record=True),
    "edit": Surface("get", lambda w: f"/service-users/{w.service_user.pk}/edit/"),
    "episode_edit": Surface(
        "get", lambda w: f"/service-users/{w.service_user.pk}/episodes/{_open_episode(w).pk}/"
    ),
    "allocation_create": Surface(
        "get", lambda w: f"/service-users/{w.service_user.pk}/allocations/new/"
    ),
    "allocation_end": Surface(
        "post", lambda w: f"/allocations/{_coordinator_allocation(w).pk}/end/"
    ),
    "carer_add": Surface("get", lambda w: f"/service-users/{w.service_user.pk}/carers/new/"),
    "invite_service_user": Surface("post", lambda w: f"/service-users/{w.service_user.pk}/invite/"),
    "carer_end": Surface("post", lambda w: f"/carers/{w.carer_relationship.pk}/end/"),
    "carer_invite": Surface("post", lambda w: f"/carers/{w.carer_relationship.pk}/invite/"),
    "team": Surface("get", lambda w: f"/teams/{w.team.pk}/"),
    "api_detail": Surface("get", lambda w: f"/api/v1/service-users/{w.service_user.pk}/",
                          shows_record=True),
    "api_list": Surface("get", lambda w: "/api/v1/service-users/"),
    # A carer's bundle: the person's name and what was shared with them (ADR 0014).
    "api_fhir": Surface("get", lambda w: f"/api/v1/service-users/{w.service_user.pk}/fhir",
                        shows_record=True),
    "episode_start": Surface(
        "get", lambda w: f"/service-users/{w.service_user.pk}/episodes/new/", prepare=_discharge
    ),
    "service_user_create": Surface("get", lambda w: "/service-users/new/"),
    "first_meeting_step": Surface(
        "get", lambda w: f"/plans/service-users/{w.service_user.pk}/first-meeting/recovery/"),
    "first_meeting_check": Surface(
        "get", lambda w: f"/plans/service-users/{w.service_user.pk}/first-meeting/check/"),
    # The carer's views before a review: only the carer the service user involves.
    "review_views": Surface(
        "get", lambda w: f"/carers/people/{w.carer_relationship.pk}/review-views/",
        prepare=_carer_heard_at_reviews),
    "api_review_views": Surface(
        "get", lambda w: f"/api/v1/carer/people/{w.carer_relationship.pk}/review-views/",
        prepare=_carer_heard_at_reviews),
}


def _state(world: World) -> tuple:
    """What a refused POST must leave untouched."""
    relationship = CarerRelationship.objects.get(pk=world.carer_relationship.pk)
    return (
        relationship.ended_on,
        _coordinator_allocation(world).ended_on,
        Invitation.objects.count(),
    )


DONE: dict[str, Callable[[World], bool]] = {
    "carer_end": lambda w: CarerRelationship.objects.get(pk=w.carer_relationship.pk).ended_on
    is not None,
    "allocation_end": lambda w: _coordinator_allocation(w).ended_on is not None,
}


def test_the_table_covers_every_role_and_every_surface():
    assert set(EXPECTED) == {(role, surface) for role in ROLES for surface in SURFACES}


@pytest.mark.parametrize(
    ("role", "surface"),
    [(role, surface) for surface in SURFACES for role in ROLES],
    ids=[f"{surface}-{role}" for surface in SURFACES for role in ROLES],
)
def test_access_matrix(world, role, surface):
    spec = SURFACES[surface]
    if spec.prepare:
        spec.prepare(world)
    path = spec.path(world)
    expected = EXPECTED[(role, surface)]
    before = _state(world)

    response = getattr(client_for(_user(world, role)), spec.method)(path)

    if surface == "api_list":
        assert response.status_code == 200
        ids = [row["id"] for row in response.json()["results"]]
        assert (IN if world.service_user.pk in ids else OUT) == expected
        return
    assert response.status_code == expected, (
        f"{role} {spec.method.upper()} {path}: {response.status_code}, expected {expected}"
    )
    if expected == 404:
        # Nothing about the record (the person themselves sees their own name in the
        # header), and nothing changed.
        if role != "service_user":
            assert world.service_user.full_name.encode() not in response.content
        assert _state(world) == before
    elif expected == 302:
        assert response.url.startswith("/")
        if surface in DONE:
            assert DONE[surface](world), f"{role} {surface} answered 302 but did nothing"
    elif spec.shows_record:
        assert world.service_user.full_name.encode() in response.content


def test_episode_start_is_not_found_while_an_episode_is_open(world):
    # A new episode is only for someone discharged: while one is open, nobody gets the page.
    for role in ROLES:
        response = client_for(_user(world, role)).get(
            f"/service-users/{world.service_user.pk}/episodes/new/"
        )
        assert response.status_code == 404, role


def test_a_record_that_does_not_exist_answers_like_one_that_is_not_yours(world):
    missing = ServiceUser.objects.order_by("-pk").first().pk + 1000
    client = client_for(world.coordinator)
    hidden = client.get(f"/service-users/{world.other_service_user.pk}/")
    absent = client.get(f"/service-users/{missing}/")
    assert hidden.status_code == absent.status_code == 404
    # Byte for byte the same page, apart from the per-response CSRF token mask.
    assert _without_csrf(hidden.content) == _without_csrf(absent.content)


def _without_csrf(content: bytes) -> bytes:
    return re.sub(rb'name="csrfmiddlewaretoken" value="[^"]*"', b"", content)


# --- The list and the single-object check agree -------------------------------------


@pytest.fixture
def more_records(world):
    """A record whose allocation has ended and one whose episode is discharged, both
    once held by the coordinator."""
    ended = ServiceUserFactory(team=world.team)
    AllocationFactory(
        episode=EpisodeFactory(service_user=ended), coordinator=world.coordinator,
        ended_on=clock.today(),
    )
    discharged = ServiceUserFactory(team=world.team)
    episode = EpisodeFactory(service_user=discharged)
    AllocationFactory(episode=episode, coordinator=world.coordinator)
    services.episode_update(
        episode=episode, changed_by=world.coordinator, planned_end_on=episode.planned_end_on,
        discharged_on=clock.today(), discharge_plan="",
    )
    unallocated = ServiceUserFactory(team=world.team)
    EpisodeFactory(service_user=unallocated)
    return [ended, discharged, unallocated]


def test_queryset_and_single_object_check_agree_for_every_pair(world, more_records):
    viewers = [_user(world, role) for role in ROLES] + [AnonymousUser()]
    records = list(ServiceUser.objects.all())
    assert len(records) == 5
    for viewer in viewers:
        visible = set(policy.records_visible_to(viewer).values_list("pk", flat=True))
        for record in records:
            assert (record.pk in visible) == policy.can_view_record(viewer, record), (
                f"{viewer} / {record}: list says {record.pk in visible}"
            )
    # And the result is the one DESIGN.md describes: own record, or active allocation.
    coordinator_visible = set(
        policy.records_visible_to(world.coordinator).values_list("pk", flat=True)
    )
    assert coordinator_visible == {world.service_user.pk}


# --- Access ends with the allocation --------------------------------------------------


def _coordinator_surfaces(world: World) -> dict[str, str]:
    return {
        "record": f"/service-users/{world.service_user.pk}/",
        "edit": f"/service-users/{world.service_user.pk}/edit/",
        "carer_add": f"/service-users/{world.service_user.pk}/carers/new/",
        "api_detail": f"/api/v1/service-users/{world.service_user.pk}/",
    }


def _assert_coordinator_has_lost_access(world: World) -> None:
    client = client_for(world.coordinator)
    for name, path in _coordinator_surfaces(world).items():
        assert client.get(path).status_code == 404, name
    listed = [row["id"] for row in client.get("/api/v1/service-users/").json()["results"]]
    assert world.service_user.pk not in listed
    # The person themselves still sees their record.
    own = client_for(world.service_user_account).get(f"/service-users/{world.service_user.pk}/")
    assert own.status_code == 200


def test_an_ended_allocation_removes_the_coordinators_access(world):
    client = client_for(world.coordinator)
    for name, path in _coordinator_surfaces(world).items():
        assert client.get(path).status_code == 200, name
    Allocation.objects.filter(pk=_coordinator_allocation(world).pk).update(
        ended_on=clock.today() - dt.timedelta(days=1)
    )
    _assert_coordinator_has_lost_access(world)


def test_ending_the_allocation_through_the_page_removes_access(world):
    response = client_for(world.manager).post(
        f"/allocations/{_coordinator_allocation(world).pk}/end/"
    )
    assert response.status_code == 302
    _assert_coordinator_has_lost_access(world)


def test_discharge_removes_the_coordinators_access(world):
    assert client_for(world.coordinator).get(
        f"/service-users/{world.service_user.pk}/"
    ).status_code == 200
    _discharge(world)
    _assert_coordinator_has_lost_access(world)


# --- Signed out ---------------------------------------------------------------------


PAGE_REQUESTS = [
    ("get", "record"), ("get", "edit"), ("get", "episode_edit"), ("get", "allocation_create"),
    ("post", "allocation_end"), ("get", "carer_add"), ("post", "invite_service_user"),
    ("post", "carer_end"), ("post", "carer_invite"), ("get", "team"),
    ("get", "service_user_create"), ("get", "review_views"), ("get", "home"),
]


@pytest.mark.parametrize(("method", "surface"), PAGE_REQUESTS,
                         ids=[f"{m}-{s}" for m, s in PAGE_REQUESTS])
def test_signed_out_pages_redirect_to_sign_in(world, method, surface):
    path = "/" if surface == "home" else SURFACES[surface].path(world)
    before = _state(world)
    response = getattr(Client(), method)(path)
    assert response.status_code == 302
    assert response.url == f"/sign-in/?next={path}"
    assert _state(world) == before


@pytest.mark.parametrize(
    "path",
    ["/api/v1/service-users/", "/api/v1/service-users/{id}/", "/api/v1/me/"],
    ids=["list", "detail", "me"],
)
def test_signed_out_api_requests_get_a_json_4xx(world, path):
    response = Client().get(path.format(id=world.service_user.pk))
    assert 400 <= response.status_code < 500
    assert response["Content-Type"].startswith("application/json")
    body = response.json()
    assert "error" in body
    assert world.service_user.full_name not in response.content.decode()
