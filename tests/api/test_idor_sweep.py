"""The IDOR sweep: every API endpoint that takes an id, enumerated from the URL resolver
(so a new endpoint is swept without anyone adding it here), called with every method it
answers, as every role, with the id of something that role may not see: 404 every time.

The same ids opened by their owner answer 200, so the 404s come from the access policy
and not from a broken URL or a wrong id."""

from __future__ import annotations

from dataclasses import dataclass

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from carecoord.exports.models import Export
from carecoord.notifications.services import notification_send
from carecoord.records.models import User
from carers.models import CarerRelationship
from consent.services import consent_decide_review_involvement
from plans import services as plan_services
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.peersupport.helpers import make_offer, make_story
from tests.plans.factories import add_goal, prompt_item, write

API_PREFIX = "api/v1/"
METHODS = ("get", "post", "put", "patch", "delete")
STAFF = {"coordinator", "manager", "admin"}  # they keep the directory: retired offers too


@dataclass(frozen=True)
class Route:
    name: str
    route: str
    params: tuple[str, ...]
    methods: tuple[str, ...]


def _walk(patterns, prefix: str = ""):
    for pattern in patterns:
        if isinstance(pattern, URLResolver):
            yield from _walk(pattern.url_patterns, prefix + str(pattern.pattern))
        elif isinstance(pattern, URLPattern):
            yield prefix + str(pattern.pattern), pattern


def api_routes_with_ids() -> list[Route]:
    """Every API route with a path parameter, and the methods its view answers."""
    routes = []
    for route, pattern in _walk(get_resolver().url_patterns):
        if not route.startswith(API_PREFIX) or not pattern.pattern.converters:
            continue
        view_class = getattr(pattern.callback, "cls", None)
        methods = tuple(m for m in METHODS if view_class and hasattr(view_class, m))
        assert pattern.name, f"API route {route} has no name"
        routes.append(Route(pattern.name, route, tuple(pattern.pattern.converters), methods))
    return routes


ROUTES = api_routes_with_ids()


def test_the_sweep_finds_the_api():
    names = {route.name for route in ROUTES}
    # A few that must be there; any new one is swept automatically.
    assert {"api_service_user", "api_plan", "api_item", "api_version", "api_episode",
            "api_allocation", "api_carer_relationship", "api_notification", "api_export",
            "api_story", "api_directory_entry"} <= names
    assert len(ROUTES) >= 25


@dataclass
class Others:
    """Things that belong to the other service user (and their coordinator and carer):
    ids by path parameter, and who owns each (may open it)."""

    ids: dict[str, int]
    owners: dict[str, User]


@pytest.fixture
def others(world) -> Others:
    su, su_account = world.other_service_user, world.other_service_user_account
    plan = plan_services.plan_create(service_user=su, kind=PlanKind.CARE_PLAN,
                                     created_by=world.other_coordinator)
    write(prompt_item(plan, "recovery_meaning"), su_account, "Seeing my friends again.")
    goal = add_goal(plan, world.other_coordinator)
    version = plan_services.version_propose(plan=plan, proposed_by=world.other_coordinator)
    episode = su.episodes.get()
    allocation = episode.allocations.get()
    relationship = CarerRelationship.objects.get(service_user=su)
    # Their carer is involved in reviews, so her review-views route has something to open.
    consent_decide_review_involvement(relationship=relationship, involved=True,
                                      decided_by=su_account)
    notification = notification_send(user=su_account, text="Your plan was changed.")
    export = Export.objects.create(kind=Export.Kind.PLAN_VERSION, requested_by=su_account,
                                   title="Care plan", params={})
    story = make_story(su_account, submit=False)  # a draft: only its author sees it
    retired_offer = make_offer("Retired group", active=False)
    ids = {
        "service_user_id": su.pk, "plan_id": plan.pk, "item_id": goal.pk,
        "version_id": version.pk, "episode_id": episode.pk, "allocation_id": allocation.pk,
        "relationship_id": relationship.pk, "notification_id": notification.pk,
        "export_id": export.pk, "story_id": story.pk, "offer_id": retired_offer.pk,
    }
    owners = dict.fromkeys(ids, su_account)
    owners["offer_id"] = world.manager  # staff keep the directory, retired offers too
    return Others(ids=ids, owners=owners)


ROLES = ["coordinator", "service_user_account", "carer_account", "manager", "admin", "no_role"]


@pytest.mark.parametrize("role", ROLES)
def test_other_peoples_things_are_not_found(world, others, role):
    """One test per role (the fixtures are built once); every route and method in turn."""
    client = client_for(getattr(world, role))
    answered = []
    for route in ROUTES:
        unknown = set(route.params) - set(others.ids)
        assert not unknown, f"{route.route}: teach the sweep an id for {unknown}"
        if "offer_id" in route.params and role in STAFF:
            continue
        url = reverse(route.name, kwargs={p: others.ids[p] for p in route.params})
        for method in route.methods:
            response = getattr(client, method)(url, data={}, content_type="application/json",
                                               HTTP_IF_MATCH='"1-1"')
            if response.status_code != 404 or response.json().get("error") != "not_found":
                answered.append((method.upper(), url, response.status_code))
    assert answered == []


def test_their_owner_opens_the_same_ids(world, others):
    failures = []
    for route in ROUTES:
        if "get" not in route.methods:
            continue
        owner = others.owners[route.params[0]]
        if route.name in ("api_carer_shared_items", "api_carer_review_views"):
            owner = world.other_carer_account
        url = reverse(route.name, kwargs={p: others.ids[p] for p in route.params})
        response = client_for(owner).get(url)
        if response.status_code != 200:
            failures.append((url, response.status_code, response.content[:200]))
    assert failures == []
