"""Security issue 13, point 1: a care coordinator cannot link another family's carer to
their own caseload and read her private space. A relationship with a carer who already
has a record is only offered: it exists for nobody until she accepts. What a carer shares
(needs, check-ins, an assessment request) is shared per relationship, never with every
coordinator of everyone she cares for."""

from __future__ import annotations

import html

import pytest
from django.urls import reverse

from carecoord.audit.models import AccessEvent
from carecoord.notifications.models import Notification
from carecoord.records.sessions import end_all_sessions
from carers import services
from carers.models import AssessmentRequest, CarerRelationship
from tests.conftest import client_for

SHARED_WORDS = "Shared with Alex's coordinator only."
NEEDS_TEXT = "Sleep, and an hour to myself."


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def linda(world):
    """Linda cares for Alex and shared her space with Alex's coordinator only."""
    carer = world.carer_relationship.carer
    services.carer_needs_save(carer=carer, own_needs=NEEDS_TEXT, support_wanted="",
                              shared_with=[world.carer_relationship])
    services.wellbeing_check_in_record(carer=carer, coping=2, words=SHARED_WORDS,
                                       shared_with=[world.carer_relationship])
    services.assessment_request_create(carer=carer, shared_with=[world.carer_relationship])
    return carer


def link_linda(world) -> CarerRelationship:
    """The other coordinator types Linda's email on their own service user's record."""
    response = client_for(world.other_coordinator).post(
        f"/service-users/{world.other_service_user.pk}/carers/new/",
        {"full_name": "Linda", "relationship": "Aunt", "email": world.carer_account.email},
    )
    assert response.status_code == 302
    return CarerRelationship.objects.get(service_user=world.other_service_user,
                                         carer__user=world.carer_account)


def other_record(world) -> str:
    return text(client_for(world.other_coordinator).get(
        f"/service-users/{world.other_service_user.pk}/"))


def test_linking_an_existing_carer_only_offers_the_relationship(world, linda):
    relationship = link_linda(world)
    assert relationship.status == CarerRelationship.Status.OFFERED
    assert not relationship.is_active
    assert AccessEvent.objects.filter(action="carer.offer").exists()

    # The coordinator who typed her email sees nothing of her space, only the wait.
    page = other_record(world)
    assert "Waiting for them to accept" in page
    request = AssessmentRequest.objects.get(carer=linda)
    for private in (SHARED_WORDS, NEEDS_TEXT, f"assessments/{request.pk}/"):
        assert private not in page
    move = client_for(world.other_coordinator).post(reverse(
        "assessment_request_offer", args=[world.other_service_user.pk, request.pk]))
    assert move.status_code == 404
    request.refresh_from_db()
    assert request.status == AssessmentRequest.Status.REQUESTED

    # Linda sees an offer, not a stranger among the people she cares for.
    home = text(client_for(world.carer_account).get("/"))
    assert "Asked to be a carer" in home
    cared_for = home.split("People you care for")[1]
    assert world.other_service_user.name not in cared_for
    assert Notification.objects.filter(user=world.carer_account,
                                       text__contains="asked to add you as a carer").exists()
    assert client_for(world.carer_account).get(
        reverse("carer_person", args=[relationship.pk])).status_code == 404


def test_after_she_accepts_each_coordinator_sees_only_what_was_shared_with_them(world,
                                                                                 linda):
    relationship = link_linda(world)
    carer_client = client_for(world.carer_account)
    response = carer_client.post(reverse("carer_offer_answer", args=[relationship.pk]),
                                 {"answer": "accept"})
    assert response.status_code == 302
    relationship.refresh_from_db()
    assert relationship.is_active
    assert Notification.objects.filter(user=world.other_coordinator,
                                       text__contains="accepted").exists()
    home = text(carer_client.get("/")).split("People you care for")[1]
    assert world.other_service_user.name in home

    # What she shared with Alex's coordinator stays with Alex's coordinator.
    page = other_record(world)
    request = AssessmentRequest.objects.get(carer=linda)
    for private in (SHARED_WORDS, NEEDS_TEXT, f"assessments/{request.pk}/"):
        assert private not in page
    assert "has not asked for a carer's assessment" in page

    # She shares a new check-in with the other coordinator only.
    carer_client.post(reverse("wellbeing_check_in"),
                      {"coping": "6", "words": "For the aunt's team.",
                       "shared_with": [relationship.pk]})
    assert "For the aunt's team." in other_record(world)
    alex_page = text(client_for(world.coordinator).get(
        f"/service-users/{world.service_user.pk}/"))
    assert "For the aunt's team." not in alex_page
    assert SHARED_WORDS in alex_page


def test_she_can_decline(world, linda):
    relationship = link_linda(world)
    carer_client = client_for(world.carer_account)
    carer_client.post(reverse("carer_offer_answer", args=[relationship.pk]),
                      {"answer": "decline"})
    relationship.refresh_from_db()
    assert relationship.status == CarerRelationship.Status.DECLINED
    assert relationship.ended_on is not None
    assert "Asked to be a carer" not in text(carer_client.get("/"))
    assert "declined on" in other_record(world)
    assert Notification.objects.filter(user=world.other_coordinator,
                                       text__contains="declined").exists()
    # Answered once only.
    again = carer_client.post(reverse("carer_offer_answer", args=[relationship.pk]),
                              {"answer": "accept"})
    assert again.status_code == 404


@pytest.mark.parametrize("who", ["other_coordinator", "coordinator", "manager", "admin",
                                 "other_carer_account", "other_service_user_account"])
def test_only_the_carer_answers_an_offer(world, linda, who):
    relationship = link_linda(world)
    response = client_for(getattr(world, who)).post(
        reverse("carer_offer_answer", args=[relationship.pk]), {"answer": "accept"})
    assert response.status_code == 404
    relationship.refresh_from_db()
    assert relationship.status == CarerRelationship.Status.OFFERED


def test_a_new_carer_is_linked_at_once(world):
    client_for(world.coordinator).post(
        f"/service-users/{world.service_user.pk}/carers/new/",
        {"full_name": "Nell New", "relationship": "Friend", "email": "nell@example.test"},
    )
    relationship = CarerRelationship.objects.get(carer__email="nell@example.test")
    assert relationship.is_active


def test_an_assessment_request_goes_only_to_the_coordinators_she_chose(world, linda):
    relationship = link_linda(world)
    services.carer_offer_accept(relationship=relationship, accepted_by=world.carer_account)
    AssessmentRequest.objects.all().delete()
    Notification.objects.all().delete()
    response = client_for(world.carer_account).post(
        reverse("assessment_request_create"),
        {"shared_with": [relationship.pk], "note": "Evenings are best."})
    assert response.status_code == 302
    assert Notification.objects.filter(user=world.other_coordinator).exists()
    assert not Notification.objects.filter(user=world.coordinator).exists()
    assert "Evenings are best." in other_record(world)
    alex_page = text(client_for(world.coordinator).get(
        f"/service-users/{world.service_user.pk}/"))
    assert "Evenings are best." not in alex_page


def test_a_check_in_cannot_be_shared_through_someone_elses_relationship(world, linda):
    """The share form names a relationship: only the carer's own active ones work."""
    check_in = services.wellbeing_check_in_record(carer=linda, coping=5, words="Mine.")
    response = client_for(world.carer_account).post(
        reverse("wellbeing_check_in_share", args=[check_in.pk]),
        {"shared": "yes", "relationship": CarerRelationship.objects.exclude(
            carer=linda).first().pk})
    assert response.status_code == 404
    assert not check_in.shared_with.exists()


# --- Issue 13, point 14 (part): the carer's sessions end with the relationship ----------


def test_ending_a_carer_relationship_signs_the_carer_out_everywhere(
    world, django_capture_on_commit_callbacks
):
    phone, laptop = client_for(world.carer_account), client_for(world.carer_account)
    bystander = client_for(world.service_user_account)
    assert phone.get("/").status_code == laptop.get("/").status_code == 200
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.coordinator).post(
            f"/carers/{world.carer_relationship.pk}/end/")
    assert response.status_code == 302
    for client in (phone, laptop):
        assert client.get("/").status_code == 302  # to the sign-in page
    assert bystander.get("/").status_code == 200
    assert end_all_sessions(world.carer_account) == 0
