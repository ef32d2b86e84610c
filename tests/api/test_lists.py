"""The API's lists: pages, filters, ordering and cursors, over rows the policy already
chose; invalid list input is a 400 naming the field."""

from __future__ import annotations

from carecoord.audit.models import AccessEvent
from carecoord.notifications.services import notification_send
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.peersupport.helpers import make_story


def test_the_caseload_comes_a_page_at_a_time_ordered_and_searchable(world):
    for name in ("Bea Second", "Cal Third", "Dee Fourth"):
        person = ServiceUserFactory(team=world.team, full_name=name, preferred_name="")
        AllocationFactory(episode=EpisodeFactory(service_user=person),
                          coordinator=world.coordinator)
    client = client_for(world.coordinator)
    first = client.get("/api/v1/service-users/?page_size=2").json()
    assert first["count"] == 4
    assert [row["name"] for row in first["results"]] == ["Alex Service", "Bea Second"]
    second = client.get(first["next"]).json()
    assert [row["name"] for row in second["results"]] == ["Cal Third", "Dee Fourth"]
    newest_first = client.get("/api/v1/service-users/?ordering=-full_name").json()
    assert newest_first["results"][0]["name"] == "Dee Fourth"
    found = client.get("/api/v1/service-users/?q=cal").json()
    assert [row["name"] for row in found["results"]] == ["Cal Third"]
    # Still only the caseload: someone else's record is never counted.
    assert world.other_service_user.pk not in {row["id"] for row in first["results"]
                                               + second["results"]}


def test_a_page_past_the_end_is_a_json_404(world):
    response = client_for(world.coordinator).get("/api/v1/service-users/?page=99")
    assert response.status_code == 404
    assert response.json()["error"] == "not_found"


def test_notifications_filter_by_unread_and_invalid_filters_name_the_field(world):
    notification_send(user=world.service_user_account, text="Your plan changed.")
    notification_send(user=world.other_service_user_account, text="Not yours.")
    client = client_for(world.service_user_account)
    rows = client.get("/api/v1/notifications/?unread=true").json()["results"]
    assert [row["text"] for row in rows] == ["Your plan changed."]
    assert client.get("/api/v1/notifications/?unread=false").json()["count"] == 0
    response = client.get("/api/v1/exports/?status=lost")
    assert response.status_code == 400
    assert response.json()["error"] == "invalid"
    assert "status" in response.json()["fields"]


def test_who_opened_my_record_pages_by_cursor(world):
    coordinator = client_for(world.coordinator)
    for _ in range(3):
        coordinator.get(f"/api/v1/service-users/{world.service_user.pk}/")
    url = f"/api/v1/service-users/{world.service_user.pk}/access-events/"
    own = client_for(world.service_user_account)
    first = own.get(f"{url}?page_size=2").json()
    assert "cursor=" in first["next"]
    assert len(first["results"]) == 2
    assert first["results"][0]["who"] == world.coordinator.display_name
    assert first["results"][0]["basis"] == "allocated care coordinator"
    rest = own.get(first["next"]).json()
    seen = len(first["results"]) + len(rest["results"])
    assert seen == AccessEvent.objects.filter(service_user=world.service_user,
                                              action__endswith=".view").count()
    # The coordinator reads the record but not this list of it.
    assert coordinator.get(url).json()["results"] == []


def test_stories_are_the_published_ones_and_ones_own(world):
    mine = make_story(world.service_user_account, title="Mine, a draft", submit=False)
    theirs = make_story(world.other_service_user_account, title="Theirs, a draft",
                        submit=False)
    rows = client_for(world.service_user_account).get("/api/v1/stories/").json()["results"]
    ids = {row["id"] for row in rows}
    assert mine.pk in ids
    assert theirs.pk not in ids


def test_episodes_allocations_and_carers_of_a_record(world):
    client = client_for(world.coordinator)
    base = f"/api/v1/service-users/{world.service_user.pk}"
    episodes = client.get(f"{base}/episodes/").json()["results"]
    assert len(episodes) == 1
    allocations = client.get(f"{base}/allocations/?active=true").json()["results"]
    assert [row["coordinator"] for row in allocations] == [world.coordinator.display_name]
    carers = client.get(f"{base}/carers/").json()["results"]
    assert [row["id"] for row in carers] == [world.carer_relationship.pk]
    assert client.get(f"/api/v1/episodes/{episodes[0]['id']}/").status_code == 200
    people = client_for(world.carer_account).get("/api/v1/carer/people/").json()["results"]
    assert [row["relationship_id"] for row in people] == [world.carer_relationship.pk]


def test_a_plans_items_by_section(world):
    from tests.plans.factories import add_goal, make_plan

    plan = make_plan(world)
    goal = add_goal(plan, world.coordinator)
    client = client_for(world.service_user_account)
    everything = client.get(f"/api/v1/plans/{plan.pk}/items/?page_size=100").json()
    assert goal.pk in {row["id"] for row in everything["results"]}
    goals = client.get(f"/api/v1/plans/{plan.pk}/items/?section=goals").json()["results"]
    assert [row["id"] for row in goals] == [goal.pk]
    assert goals[0]["agreed"] is False
    assert client_for(world.other_coordinator).get(
        f"/api/v1/plans/{plan.pk}/items/").status_code == 404
