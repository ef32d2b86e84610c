"""The carer's own space: private to the carer unless they share it; visible to the care
coordinator only as the carer chose (needs and check-ins), always for assessment requests
and what they know helps; the service user reads insights about themselves; everyone
else gets 404 and sees nothing on any page."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.notifications.models import Notification
from carers import selectors, services
from carers.models import (
    AssessmentRequest,
    CarerInsight,
    CarerNeeds,
    CarerRelationship,
    WellbeingCheckIn,
)
from consent import policy
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerRelationshipFactory

NEEDS_TEXT = "An evening a week to myself, and sleep."
SUPPORT_TEXT = "Someone to talk to who is not family."
CHECK_IN_WORDS = "Tired out after a long week of appointments."
INSIGHT_TEXT = "A walk by the sea calms Alex when things feel too much."
SUPPORT_HEADING = "Support is here for you too"


# --- Helpers --------------------------------------------------------------------------


@pytest.fixture
def carer(world):
    return world.carer_relationship.carer


@pytest.fixture
def other_carer(world):
    return world.other_carer_account.carer_record


def _record_url(world) -> str:
    return reverse("service_user_detail", args=[world.service_user.pk])


def _active(carer) -> list[CarerRelationship]:
    """Every person the carer actively cares for (sharing through each of them)."""
    return list(CarerRelationship.objects.active().filter(carer=carer))


def _needs(carer, *, shared: bool) -> CarerNeeds:
    return services.carer_needs_save(
        carer=carer, own_needs=NEEDS_TEXT, support_wanted=SUPPORT_TEXT,
        shared_with=_active(carer) if shared else [],
    )


def _check_in(carer, coping: int, *, shared: bool = False, words: str = CHECK_IN_WORDS,
              days_ago: int = 0) -> WellbeingCheckIn:
    check_in = services.wellbeing_check_in_record(
        carer=carer, coping=coping, words=words, shared_with=_active(carer) if shared else []
    )
    if days_ago:
        check_in.created_at = timezone.now() - dt.timedelta(days=days_ago)
        check_in.save(update_fields=["created_at"])
    return check_in


def _carers_section(html: str) -> str:
    """The record page's Carers section, without the CSRF tokens that differ per page."""
    start = html.index("<h2>Carers</h2>")
    end = html.index("<h2", start + 1) if "<h2" in html[start + 1:] else len(html)
    return re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", html[start:end])


def _outsiders(world) -> dict:
    return {
        "other carer": world.other_carer_account,
        "other coordinator": world.other_coordinator,
        "manager": world.manager,
        "other manager": world.other_manager,
        "admin": world.admin,
        "other service user": world.other_service_user_account,
        "no role": world.no_role,
    }


OUTSIDER_NAMES = ["other carer", "other coordinator", "manager", "other manager", "admin",
                  "other service user", "no role"]


# --- The carer's own page -------------------------------------------------------------


def test_carer_sees_their_own_space(world, carer, carer_client):
    _needs(carer, shared=False)
    _check_in(carer, 6)
    page = carer_client.get(reverse("carer_space")).content.decode()
    assert "Your own space" in page
    assert NEEDS_TEXT in page
    assert CHECK_IN_WORDS in page
    assert "Only you" in page


def test_home_page_links_a_carer_to_their_own_space(carer_client):
    page = carer_client.get("/").content.decode()
    assert f'href="{reverse("carer_space")}"' in page
    assert "Your own space" in page


@pytest.mark.parametrize("who", ["coordinator", "service user", *OUTSIDER_NAMES[1:]])
def test_own_space_pages_are_404_for_anyone_who_is_not_a_carer(world, who):
    user = {"coordinator": world.coordinator, "service user": world.service_user_account,
            **_outsiders(world)}[who]
    client = client_for(user)
    for name in ("carer_space", "carer_needs_edit", "wellbeing_check_in",
                 "assessment_request_create"):
        assert client.get(reverse(name)).status_code == 404, name
    assert client.post(reverse("wellbeing_check_in"), {"coping": "2"}).status_code == 404
    assert not WellbeingCheckIn.objects.exists()


def test_another_carer_sees_only_their_own_space(world, carer, other_carer):
    _needs(carer, shared=True)
    check_in = _check_in(carer, 2, shared=True)
    relationship = world.carer_relationship
    insight = services.carer_insight_add(relationship=relationship, text=INSIGHT_TEXT)
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    client = client_for(world.other_carer_account)

    page = client.get(reverse("carer_space")).content.decode()
    for text in (NEEDS_TEXT, SUPPORT_TEXT, CHECK_IN_WORDS, INSIGHT_TEXT, SUPPORT_HEADING):
        assert text not in page
    assert client.get(reverse("carer_insight", args=[insight.pk])).status_code == 404
    assert client.get(
        reverse("carer_insight_create", args=[relationship.pk])
    ).status_code == 404
    response = client.post(reverse("wellbeing_check_in_share", args=[check_in.pk]),
                           {"shared": "no"})
    assert response.status_code == 404
    check_in.refresh_from_db()
    assert check_in.shared_with.exists()
    assert client.post(
        reverse("assessment_request_offer", args=[world.service_user.pk, request.pk])
    ).status_code == 404


def test_service_user_never_sees_the_carers_needs_or_check_ins(world, carer,
                                                               service_user_client):
    _needs(carer, shared=True)
    _check_in(carer, 2, shared=True)
    services.assessment_request_create(carer=carer, shared_with=_active(carer))
    page = service_user_client.get(_record_url(world)).content.decode()
    for text in (NEEDS_TEXT, SUPPORT_TEXT, CHECK_IN_WORDS, "How they are coping",
                 "Carer's assessment"):
        assert text not in page
    assert service_user_client.get(reverse("carer_space")).status_code == 404


# --- What the coordinator sees --------------------------------------------------------


def test_coordinator_sees_nothing_of_needs_or_check_ins_not_shared(world, carer,
                                                                  coordinator_client):
    before = _carers_section(coordinator_client.get(_record_url(world)).content.decode())
    _needs(carer, shared=False)
    _check_in(carer, 1, shared=False)
    _check_in(carer, 7, shared=False, words="Better today.")
    after = _carers_section(coordinator_client.get(_record_url(world)).content.decode())
    # Not even their existence: the section is exactly what it was before they were written.
    assert after == before
    for text in (NEEDS_TEXT, SUPPORT_TEXT, CHECK_IN_WORDS, "Better today.",
                 "How they are coping", "Their needs"):
        assert text not in after


def test_coordinator_sees_what_the_carer_shared_and_only_that(world, carer,
                                                             coordinator_client):
    _needs(carer, shared=True)
    _check_in(carer, 4, shared=True, words="Shared words.", days_ago=2)
    _check_in(carer, 3, shared=False, words="Private words.")
    page = coordinator_client.get(_record_url(world)).content.decode()
    assert NEEDS_TEXT in page
    assert SUPPORT_TEXT in page
    assert "Shared words." in page
    assert "Private words." not in page
    assert "How they are coping" in page


def test_carer_can_share_and_unshare_a_check_in(world, carer, carer_client,
                                                coordinator_client):
    check_in = _check_in(carer, 5, shared=False)
    url = reverse("wellbeing_check_in_share", args=[check_in.pk])
    assert carer_client.post(url, {"shared": "yes"}).status_code == 302
    assert CHECK_IN_WORDS in coordinator_client.get(_record_url(world)).content.decode()
    assert carer_client.post(url, {"shared": "no"}).status_code == 302
    assert CHECK_IN_WORDS not in coordinator_client.get(_record_url(world)).content.decode()


def test_needs_form_saves_the_sharing_choice(world, carer, carer_client, coordinator_client):
    response = carer_client.post(reverse("carer_needs_edit"), {
        "own_needs": NEEDS_TEXT, "support_wanted": SUPPORT_TEXT,
        "shared_with": [world.carer_relationship.pk],
    })
    assert response.status_code == 302
    assert CarerNeeds.objects.get(carer=carer).shared_with.exists()
    assert NEEDS_TEXT in coordinator_client.get(_record_url(world)).content.decode()

    carer_client.post(reverse("carer_needs_edit"), {
        "own_needs": NEEDS_TEXT, "support_wanted": SUPPORT_TEXT,
    })
    assert not CarerNeeds.objects.get(carer=carer).shared_with.exists()
    assert NEEDS_TEXT not in coordinator_client.get(_record_url(world)).content.decode()
    # The form shows what is saved.
    page = carer_client.get(reverse("carer_needs_edit")).content.decode()
    assert NEEDS_TEXT in page
    assert "Who else can see this" in page
    assert f"{world.service_user.name}'s care coordinator (Mum)" in page.replace("&#x27;", "'")


def test_coordinator_of_any_person_the_carer_cares_for_sees_shared_space(world, carer):
    """Linda also cares for the other service user: their coordinator sees what she
    shared, on that record."""
    CarerRelationshipFactory(carer=carer, service_user=world.other_service_user)
    _needs(carer, shared=True)
    page = client_for(world.other_coordinator).get(
        reverse("service_user_detail", args=[world.other_service_user.pk])
    ).content.decode()
    assert NEEDS_TEXT in page


def test_coordinator_reads_of_a_carers_space_are_audited_off_the_service_users_record(
        world, carer, coordinator_client, service_user_client):
    needs = _needs(carer, shared=True)
    check_in = _check_in(carer, 5, shared=True)
    coordinator_client.get(_record_url(world))
    events = AccessEvent.objects.filter(actor=world.coordinator, action="carer_space.view")
    (event,) = events  # one event for the page, listing what it showed
    assert set(event.shown_targets()) == {
        f"carer_needs:{needs.pk}", f"wellbeing_check_in:{check_in.pk}"
    }
    assert all(event.service_user_id is None for event in events)
    # So the service user's "Who has looked at your record" does not reveal it.
    page = service_user_client.get(_record_url(world)).content.decode()
    assert "shared by the carer" not in page


def test_ended_relationship_closes_the_space_to_the_coordinator(world, carer,
                                                                coordinator_client):
    _needs(carer, shared=True)
    services.carer_insight_add(relationship=world.carer_relationship, text=INSIGHT_TEXT)
    world.carer_relationship.ended_on = clock.today()
    world.carer_relationship.save()
    page = coordinator_client.get(_record_url(world)).content.decode()
    assert NEEDS_TEXT not in page
    assert INSIGHT_TEXT not in page


# --- Outsiders ------------------------------------------------------------------------


@pytest.mark.parametrize("who", ["other coordinator", "manager", "admin"])
def test_outsiders_get_404_for_everything(world, carer, who):
    _needs(carer, shared=True)
    _check_in(carer, 2, shared=True)
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    insight = services.carer_insight_add(relationship=world.carer_relationship,
                                         text=INSIGHT_TEXT)
    client = client_for(_outsiders(world)[who])
    assert client.get(_record_url(world)).status_code == 404
    assert client.get(reverse("carer_insight", args=[insight.pk])).status_code == 404
    assert client.post(reverse("carer_insight", args=[insight.pk])).status_code == 404
    for name in ("assessment_request_offer", "assessment_request_complete"):
        url = reverse(name, args=[world.service_user.pk, request.pk])
        assert client.post(url).status_code == 404
    request.refresh_from_db()
    assert request.status == AssessmentRequest.Status.REQUESTED
    # Nor on any page they can open.
    for url in ("/", reverse("notifications")):
        page = client.get(url).content.decode()
        for text in (NEEDS_TEXT, CHECK_IN_WORDS, INSIGHT_TEXT):
            assert text not in page


def test_other_coordinator_cannot_use_their_own_record_to_reach_this_carer(world, carer):
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    client = client_for(world.other_coordinator)
    url = reverse("assessment_request_offer", args=[world.other_service_user.pk, request.pk])
    assert client.post(url).status_code == 404
    page = client.get(
        reverse("service_user_detail", args=[world.other_service_user.pk])
    ).content.decode()
    assert carer.name not in page


def _viewers(world) -> dict:
    return {"carer": world.carer_account, "coordinator": world.coordinator,
            "service user": world.service_user_account, **_outsiders(world)}


# Who sees each thing in Linda's space: the whole matrix, both forms of each rule.
MATRIX = {
    "shared needs": {"carer", "coordinator"},
    "private needs": {"carer"},
    "shared check-in": {"carer", "coordinator"},
    "private check-in": {"carer"},
    "assessment request": {"carer", "coordinator"},
    "insight": {"carer", "coordinator", "service user"},
}


def _assert_matrix(world, name, obj, visible_to, can_view) -> None:
    for who, viewer in _viewers(world).items():
        in_list = visible_to(viewer).filter(pk=obj.pk).exists()
        assert in_list == can_view(viewer, obj) == (who in MATRIX[name]), (who, name)


def test_policy_matrix(world, carer, other_carer):
    _assert_matrix(world, "shared needs", _needs(carer, shared=True),
                   policy.carer_needs_visible_to, policy.can_view_carer_needs)
    _assert_matrix(world, "private needs", _needs(carer, shared=False),
                   policy.carer_needs_visible_to, policy.can_view_carer_needs)
    _assert_matrix(world, "shared check-in", _check_in(carer, 5, shared=True),
                   policy.check_ins_visible_to, policy.can_view_check_in)
    _assert_matrix(world, "private check-in", _check_in(carer, 5, shared=False),
                   policy.check_ins_visible_to, policy.can_view_check_in)
    _assert_matrix(world, "assessment request",
                   services.assessment_request_create(carer=carer, shared_with=_active(carer)),
                   policy.assessment_requests_visible_to, policy.can_view_assessment_request)
    _assert_matrix(world, "insight",
                   services.carer_insight_add(relationship=world.carer_relationship,
                                              text=INSIGHT_TEXT),
                   policy.insights_visible_to, policy.can_view_insight)
    # The other carer's own needs, even shared: theirs, and their person's coordinator's.
    other_needs = _needs(other_carer, shared=True)
    for who, viewer in _viewers(world).items():
        expected = who in {"other carer", "other coordinator"}
        assert policy.can_view_carer_needs(viewer, other_needs) is expected, who
        assert policy.carer_needs_visible_to(viewer).filter(
            pk=other_needs.pk).exists() is expected, who


def test_only_the_coordinator_may_move_an_assessment_on(world, carer):
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    for who, viewer in _viewers(world).items():
        allowed = who == "coordinator"
        assert policy.can_manage_assessment_request(viewer, request) is allowed, who
        assert policy.assessment_requests_managed_by(viewer).filter(
            pk=request.pk).exists() is allowed, who


# --- Carer's assessment: requested, offered, completed --------------------------------


def test_assessment_request_lifecycle(world, carer, carer_client, coordinator_client,
                                      django_capture_on_commit_callbacks):
    today = clock.today()
    with django_capture_on_commit_callbacks(execute=True):
        response = carer_client.post(reverse("assessment_request_create"),
                                     {"note": "Evenings are best."})
    assert response.status_code == 302
    request = AssessmentRequest.objects.get(carer=carer)
    assert (request.status, request.requested_on) == ("requested", today)
    assert Notification.objects.filter(user=world.coordinator,
                                       text__contains="carer's assessment").exists()

    page = coordinator_client.get(_record_url(world)).content.decode()
    assert "Evenings are best." in page
    assert "Mark as offered" in page
    assert "Mark as completed" not in page

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        response = coordinator_client.post(
            reverse("assessment_request_offer", args=[world.service_user.pk, request.pk])
        )
    assert response.status_code == 302
    request.refresh_from_db()
    assert (request.status, request.offered_on) == ("offered", today)
    notification = Notification.objects.get(user=world.carer_account)
    assert "offered" in notification.text
    assert notification.url == reverse("carer_space")
    (email,) = mail.outbox
    assert email.to == [world.carer_account.email]
    for private in ("assessment", carer.name, world.service_user.name, "offered"):
        assert private.lower() not in (email.subject + email.body).lower()
    assert AccessEvent.objects.filter(actor=world.coordinator,
                                      action="carer_assessment.offer",
                                      target=f"assessment_request:{request.pk}").exists()

    page = coordinator_client.get(_record_url(world)).content.decode()
    assert "Mark as completed" in page
    coordinator_client.post(
        reverse("assessment_request_complete", args=[world.service_user.pk, request.pk])
    )
    request.refresh_from_db()
    assert (request.status, request.completed_on) == ("completed", today)
    assert Notification.objects.filter(user=world.carer_account).count() == 2

    page = carer_client.get(reverse("carer_space")).content.decode()
    assert "Completed" in page
    assert page.count(today.strftime("%-d %B %Y")) >= 3  # asked, offered, completed
    # A new request can be made once the last one is complete.
    assert "Ask for a carer&#x27;s assessment" in page or "Ask for a carer's assessment" in page


def test_assessment_cannot_skip_or_repeat_a_step(world, carer, coordinator_client):
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    complete = reverse("assessment_request_complete", args=[world.service_user.pk, request.pk])
    response = coordinator_client.post(complete, follow=True)
    request.refresh_from_db()
    assert request.status == "requested"
    assert "cannot be marked as completed" in response.content.decode()
    with pytest.raises(services.AssessmentRequestError):
        services.assessment_request_create(carer=carer, shared_with=_active(carer))


def test_the_carer_cannot_mark_their_own_assessment_offered(world, carer, carer_client):
    request = services.assessment_request_create(carer=carer, shared_with=_active(carer))
    url = reverse("assessment_request_offer", args=[world.service_user.pk, request.pk])
    assert carer_client.post(url).status_code == 404


# --- Wellbeing check-ins and the support they prompt ----------------------------------


@pytest.mark.parametrize(
    ("scores", "support"),
    [
        ([2], True),
        ([3], True),  # the boundary: 3 or under
        ([4], False),
        ([8], False),
        ([8, 7, 6], True),  # lower than each of the two before
        ([7, 5, 6], False),
        ([8, 6, 6], False),  # not lower than the one before
        ([5, 9, 6], False),  # lower than one before but not the other
        ([9, 6], False),  # needs two before it
    ],
)
def test_when_a_check_in_prompts_support(carer, scores, support):
    check_ins = [_check_in(carer, score, days_ago=len(scores) - i)
                 for i, score in enumerate(scores)]
    assert selectors.check_ins_need_support(check_ins) is support


def test_a_low_check_in_shows_the_support_on_offer(carer, carer_client):
    response = carer_client.post(reverse("wellbeing_check_in"),
                                 {"coping": "2", "words": CHECK_IN_WORDS}, follow=True)
    page = response.content.decode()
    assert SUPPORT_HEADING in page
    for words in ("carers' centre", "care coordinator", "peer support for carers",
                  "right to one"):
        assert words in page.replace("&#x27;", "'")
    assert f'href="{reverse("assessment_request_create")}"' in page
    check_in = WellbeingCheckIn.objects.get(carer=carer)
    assert (check_in.coping, check_in.words, check_in.shared_with.exists()) == (
        2, CHECK_IN_WORDS, False)


def test_a_falling_check_in_shows_the_support_on_offer(carer, carer_client):
    _check_in(carer, 8, days_ago=14)
    _check_in(carer, 7, days_ago=7)
    page = carer_client.post(reverse("wellbeing_check_in"), {"coping": "6"},
                             follow=True).content.decode()
    assert SUPPORT_HEADING in page


def test_a_good_check_in_does_not(carer, carer_client):
    page = carer_client.post(reverse("wellbeing_check_in"), {"coping": "8"},
                             follow=True).content.decode()
    assert SUPPORT_HEADING not in page
    assert "Thank you for checking in." in page


def test_check_in_form_errors_keep_what_was_typed(world, carer_client):
    response = carer_client.post(reverse("wellbeing_check_in"),
                                 {"words": CHECK_IN_WORDS,
                                  "shared_with": [world.carer_relationship.pk]})
    assert response.status_code == 200
    page = response.content.decode()
    assert "There is a problem" in page
    assert "Choose how you are coping, from 0 to 10" in page
    assert 'href="#id_coping_0"' in page
    assert CHECK_IN_WORDS in page
    assert re.search(r'<input[^>]*name="shared_with"[^>]*checked', page)
    assert "<title>Error: " in page
    assert not WellbeingCheckIn.objects.exists()


def test_check_in_form_has_plain_labels_at_the_ends(world, carer_client):
    page = carer_client.get(reverse("wellbeing_check_in")).content.decode()
    assert "How are you coping?" in page
    assert "0 – not coping at all" in page
    assert "10 – coping well" in page
    assert "In your own words (optional)" in page
    assert "Who else can see this" in page
    assert f"{world.service_user.name}'s care coordinator (Mum)" in page.replace("&#x27;", "'")
    assert page.count('type="radio"') == 11


def test_trend_is_drawn_without_inline_styles_and_described_in_words(carer, carer_client):
    _check_in(carer, 7, days_ago=10, words="")
    _check_in(carer, 5, days_ago=3, words="")
    page = carer_client.get(reverse("carer_space")).content.decode()
    svg = re.search(r"<svg class=\"app-progress-chart\"[^>]*>", page).group(0)
    assert 'role="img"' in svg
    assert "aria-label=\"How you have been coping, out of 10: 7 on" in svg
    assert "down from 7" in page
    assert "style=" not in page
    assert "<polyline" in page


# --- What I know helps ----------------------------------------------------------------


def test_what_i_know_helps(world, carer_client, coordinator_client, service_user_client):
    relationship = world.carer_relationship
    url = reverse("carer_insight_create", args=[relationship.pk])
    response = carer_client.post(url, {"text": "  "})
    assert response.status_code == 200
    assert "Write what you know helps" in response.content.decode()

    assert carer_client.post(url, {"text": INSIGHT_TEXT}).status_code == 302
    insight = CarerInsight.objects.get(relationship=relationship)
    assert Notification.objects.filter(user=world.coordinator).exists()
    assert Notification.objects.filter(
        user=world.service_user_account, url=reverse("carer_insight", args=[insight.pk])
    ).exists()

    # The carer sees it in their space, attributed and dated.
    page = carer_client.get(reverse("carer_space")).content.decode()
    assert INSIGHT_TEXT in page
    assert "You shared this on" in page

    # The coordinator sees it on the record, with who and when.
    page = coordinator_client.get(_record_url(world)).content.decode()
    assert "What they know helps" in page
    assert INSIGHT_TEXT in page
    assert f"Shared by {relationship.carer.name} on" in page

    # The service user is told, and can read it and mark it read.
    page = service_user_client.get(_record_url(world)).content.decode()
    assert "shared what they know helps with your care coordinator" in page
    assert INSIGHT_TEXT not in page
    insight_url = reverse("carer_insight", args=[insight.pk])
    assert f'href="{insight_url}"' in page
    assert ">New<" in page
    page = service_user_client.get(insight_url).content.decode()
    assert INSIGHT_TEXT in page
    assert "Mark as read" in page
    assert service_user_client.post(insight_url).status_code == 302
    insight.refresh_from_db()
    assert insight.read_by_service_user_at is not None
    assert ">New<" not in service_user_client.get(_record_url(world)).content.decode()

    # Only the service user marks it read.
    assert coordinator_client.post(insight_url).status_code == 404
    assert carer_client.post(insight_url).status_code == 404


def test_coordinator_reading_an_insight_page_is_audited(world, coordinator_client):
    insight = services.carer_insight_add(relationship=world.carer_relationship,
                                         text=INSIGHT_TEXT)
    page = coordinator_client.get(reverse("carer_insight", args=[insight.pk]))
    assert INSIGHT_TEXT in page.content.decode()
    assert AccessEvent.objects.filter(actor=world.coordinator, action="carer_insight.view",
                                      target=f"carer_insight:{insight.pk}").exists()
