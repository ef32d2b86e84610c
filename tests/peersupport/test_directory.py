"""The directory: search and filters return the right offers, for each kind of person,
and only staff add, change or retire offers (everyone else gets "not found")."""

from __future__ import annotations

import pytest
from django.urls import reverse

from peersupport.models import Audience, Offer, OfferKind
from tests.conftest import client_for
from tests.peersupport.helpers import make_offer, offer_ids, page, text

DIRECTORY = "/support/"


@pytest.fixture
def offers(db) -> dict[str, Offer]:
    return {
        "voices": make_offer("Hexham Hearing Voices Group", audience=Audience.SERVICE_USERS,
                             place="Gilesgate, Hexham",
                             description="For people who hear voices."),
        "chat": make_offer("Carers' evening chat", kind=OfferKind.ONLINE_COMMUNITY,
                           audience=Audience.CARERS, place="", online=True,
                           description="An hour to talk with other carers."),
        "walk": make_offer("Walk and Talk", audience=Audience.BOTH, place="Corbridge",
                           description="A gentle walk by the river."),
        "college": make_offer("Understanding recovery", kind=OfferKind.RECOVERY_COLLEGE,
                              audience=Audience.BOTH, place="Newcastle", online=True,
                              description="A recovery college course."),
        "retired": make_offer("Old mindfulness course", kind=OfferKind.COURSE,
                              active=False, description="It has ended."),
    }


def _ids(offers, *names) -> set[int]:
    return {offers[name].pk for name in names}


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["voices", "chat", "walk", "college"]),
        ({"kind": "peer_support_group"}, ["voices", "walk"]),
        ({"kind": "recovery_college"}, ["college"]),
        ({"audience": "carers"}, ["chat", "walk", "college"]),
        ({"audience": "service_users"}, ["voices", "walk", "college"]),
        ({"audience": "all"}, ["voices", "chat", "walk", "college"]),
        ({"attendance": "online"}, ["chat", "college"]),
        ({"attendance": "in_person"}, ["voices", "walk", "college"]),
        ({"place": "hexham"}, ["voices"]),
        ({"q": "river"}, ["walk"]),
        ({"q": "CORBRIDGE"}, ["walk"]),  # text search covers the place too
        ({"q": "hexham voices"}, ["voices"]),  # every word must match
        ({"q": "hexham river"}, []),
        ({"audience": "carers", "attendance": "online"}, ["chat", "college"]),
        ({"audience": "carers", "attendance": "in_person", "q": "walk"}, ["walk"]),
        ({"kind": "recovery_college", "audience": "service_users", "q": "course",
          "attendance": "online"}, ["college"]),
        ({"kind": "course"}, []),  # the only course is retired
    ],
)
def test_search_and_filters_return_the_right_offers(world, offers, coordinator_client,
                                                    query, expected):
    response = coordinator_client.get(DIRECTORY, query)
    assert response.status_code == 200
    assert offer_ids(response) == _ids(offers, *expected)


def test_the_count_is_said_in_words(world, offers, coordinator_client):
    assert "4 opportunities found" in text(coordinator_client.get(DIRECTORY))
    assert "One opportunity found" in text(coordinator_client.get(DIRECTORY, {"q": "river"}))
    nothing = text(coordinator_client.get(DIRECTORY, {"q": "trampolining"}))
    assert "No opportunities found" in nothing
    assert "matching “trampolining”" in nothing


def test_a_carer_sees_offers_for_carers_first_and_can_change_it(world, offers, carer_client):
    response = carer_client.get(DIRECTORY)
    assert offer_ids(response) == _ids(offers, "chat", "walk", "college")
    assert 'value="carers" selected' in page(response)
    everyone = carer_client.get(DIRECTORY, {"audience": "all"})
    assert offer_ids(everyone) == _ids(offers, "voices", "chat", "walk", "college")


def test_a_service_user_sees_offers_for_service_users_first(world, offers,
                                                             service_user_client):
    response = service_user_client.get(DIRECTORY)
    assert offer_ids(response) == _ids(offers, "voices", "walk", "college")
    changed = service_user_client.get(DIRECTORY, {"audience": "carers"})
    assert offer_ids(changed) == _ids(offers, "chat", "walk", "college")


def test_the_search_form_keeps_what_was_asked(world, offers, coordinator_client):
    markup = page(coordinator_client.get(DIRECTORY, {"q": "gentle walk", "place": "Corbridge",
                                                     "attendance": "in_person"}))
    assert 'method="get"' in markup
    assert 'value="gentle walk"' in markup
    assert 'value="Corbridge"' in markup
    assert 'value="in_person" selected' in markup


def test_retired_offers_are_for_staff_only(world, offers, coordinator_client,
                                           service_user_client):
    retired = offers["retired"]
    staff = coordinator_client.get(DIRECTORY, {"retired": "on"})
    assert retired.pk in offer_ids(staff)
    # Not a filter anyone else has: the parameter is ignored.
    assert retired.pk not in offer_ids(service_user_client.get(DIRECTORY, {"retired": "on"}))
    detail = reverse("offer_detail", args=[retired.pk])
    assert coordinator_client.get(detail).status_code == 200
    assert service_user_client.get(detail).status_code == 404


def test_everyone_signed_in_can_read_an_offer_and_nobody_else(world, offers, client):
    url = reverse("offer_detail", args=[offers["walk"].pk])
    for person in (world.service_user_account, world.carer_account, world.coordinator,
                   world.manager, world.admin, world.no_role):
        response = client_for(person).get(url)
        assert response.status_code == 200
        assert "A gentle walk by the river." in text(response)
    assert client.get(url).status_code == 302  # to sign in
    assert client.get(DIRECTORY).status_code == 302


# --- Staff keep the directory ---------------------------------------------------------

VALID = {
    "name": "Haltwhistle Wellbeing Café", "kind": "other", "audience": "both",
    "place": "Methodist Church Hall, Haltwhistle", "when": "Saturdays 11:00 to 2:00",
    "contact": "01632 960107", "description": "Cheap food, board games, company.",
}


@pytest.mark.parametrize("who", ["coordinator", "manager", "admin"])
def test_staff_add_change_and_retire_offers(world, who):
    client = client_for(getattr(world, who))
    assert client.get(reverse("offer_create")).status_code == 200
    response = client.post(reverse("offer_create"), VALID)
    assert response.status_code == 302
    offer = Offer.objects.get(name=VALID["name"])
    assert offer.active
    assert offer.updated_by == getattr(world, who)

    changed = dict(VALID, when="Saturdays 10:00 to 1:00", online="on")
    assert client.post(reverse("offer_edit", args=[offer.pk]), changed).status_code == 302
    offer.refresh_from_db()
    assert offer.when == "Saturdays 10:00 to 1:00"
    assert offer.online

    assert client.post(reverse("offer_retire", args=[offer.pk])).status_code == 302
    offer.refresh_from_db()
    assert not offer.active
    someone = client_for(world.service_user_account)
    assert offer.pk not in offer_ids(someone.get(DIRECTORY, {"audience": "all"}))
    assert someone.get(reverse("offer_detail", args=[offer.pk])).status_code == 404

    assert client.post(reverse("offer_reinstate", args=[offer.pk])).status_code == 302
    offer.refresh_from_db()
    assert offer.active


@pytest.mark.parametrize("who", ["service_user_account", "carer_account", "no_role"])
def test_nobody_else_can_change_the_directory(world, offers, who):
    client = client_for(getattr(world, who))
    offer = offers["walk"]
    assert client.get(reverse("offer_create")).status_code == 404
    assert client.post(reverse("offer_create"), VALID).status_code == 404
    assert client.get(reverse("offer_edit", args=[offer.pk])).status_code == 404
    assert client.post(reverse("offer_edit", args=[offer.pk]), VALID).status_code == 404
    assert client.post(reverse("offer_retire", args=[offer.pk])).status_code == 404
    assert client.post(reverse("offer_reinstate", args=[offers["retired"].pk])
                       ).status_code == 404
    assert not Offer.objects.filter(name=VALID["name"]).exists()
    offer.refresh_from_db()
    assert offer.active
    assert offer.name == "Walk and Talk"
    assert "Add an offer" not in text(client.get(DIRECTORY))
    assert "Change the details" not in text(client.get(reverse("offer_detail",
                                                               args=[offer.pk])))


def test_the_offer_form_keeps_what_was_typed_and_says_what_is_missing(world,
                                                                      coordinator_client):
    response = coordinator_client.post(reverse("offer_create"),
                                       dict(VALID, place="", description="Board games."))
    assert response.status_code == 200
    words = text(response)
    assert "There is a problem" in words
    assert "Enter where it happens, or tick that it happens online" in words
    markup = page(response)
    assert 'value="Haltwhistle Wellbeing Café"' in markup
    assert "Board games.</textarea>" in markup
    assert not Offer.objects.exists()
    # Online only is fine without a place.
    assert coordinator_client.post(reverse("offer_create"),
                                   dict(VALID, place="", online="on")).status_code == 302


def test_the_directory_links_to_stories(world, offers, service_user_client):
    markup = page(service_user_client.get(DIRECTORY))
    assert reverse("story_list") in markup
    assert reverse("story_create") in markup
    assert "Peer support and stories" in markup  # the navigation entry
