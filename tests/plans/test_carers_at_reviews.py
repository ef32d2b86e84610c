"""Carers heard at reviews (issue 11, point 3): a carer the service user involves in their
reviews is invited to give views before each one, the coordinator reads them on the
review page, the review records whose came, carers are reminded exactly once per review
and threshold; without that consent the carer reaches nothing (404, page and API)."""

from __future__ import annotations

import datetime as dt
import io
import threading

import pytest
from django.core import mail
from django.core.management import call_command
from django.db import connection
from django.urls import reverse

from carecoord.notifications.models import Notification
from carecoord.todo.selectors import things_to_do
from carers import services as carer_services
from consent import policy
from consent.models import ReviewInvolvementDecision
from consent.reviews.services import review_involvement_decide
from consent.services import ConsentError
from plans import services
from plans.models import CarerReviewReminder, CarerReviewViews, Plan
from plans.reminders import review_reminders_send
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import make_plan

TODAY = clock.today()
VIEWS = "Alex has been sleeping badly since the move; walking together helps."


def _involve(world, involved: bool = True) -> ReviewInvolvementDecision:
    return review_involvement_decide(relationship=world.carer_relationship, involved=involved,
                                     decided_by=world.service_user_account)


def _views_url(world) -> str:
    return reverse("carer_review_views", args=[world.carer_relationship.pk])


def _api_url(world) -> str:
    return reverse("api_carer_review_views", args=[world.carer_relationship.pk])


def _kinds(user) -> list[str]:
    return [entry.kind for entry in things_to_do(viewer=user, today=TODAY)]


def _invitations(user) -> list[Notification]:
    return list(Notification.objects.filter(user=user, url__contains="review-views"))


def test_no_invitation_without_consent_and_one_with_it(world, django_capture_on_commit_callbacks):
    make_plan(world)  # schedules the first review
    carer = world.carer_account
    assert _invitations(carer) == []
    assert "review_views" not in _kinds(carer)
    assert client_for(carer).get(_views_url(world)).status_code == 404

    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        _involve(world)
    [invitation] = _invitations(carer)
    assert "Alex Service would like you to give your views" in invitation.text
    assert [m.to for m in mail.outbox] == [[carer.email]]
    assert "Alex" not in mail.outbox[0].body  # the email names nobody
    assert "review_views" in _kinds(carer)
    page = client_for(carer).get(_views_url(world))
    assert page.status_code == 200
    assert 'data-module="nhsuk-character-count"' in page.content.decode()


def test_a_newly_scheduled_review_invites_every_involved_carer_and_nobody_else(world):
    plan = make_plan(world)
    _involve(world)
    other_carer = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=["carer"])), service_user=world.service_user)
    Notification.objects.all().delete()
    services.review_record(plan=plan, recorded_by=world.coordinator, held_on=TODAY,
                           attendees="Alex, Sam", what_changed="New goals",
                           next_review_on=TODAY + dt.timedelta(weeks=8))
    assert len(_invitations(world.carer_account)) == 1
    assert _invitations(other_carer.carer.user) == []
    assert _invitations(world.other_carer_account) == []


def test_views_reach_the_coordinators_review_page_and_the_review_records_whose(world):
    plan = make_plan(world)
    secret = "SECRET-CARER-VIEWS " + VIEWS
    _involve(world)
    carer = client_for(world.carer_account)
    response = carer.post(_views_url(world), {"views": secret})
    assert response.status_code == 302
    assert "review_views" not in _kinds(world.carer_account)  # done

    coordinator_page = client_for(world.coordinator).get(reverse("plan_detail", args=[plan.pk]))
    assert secret in coordinator_page.content.decode()
    assert "carer_views_received" in _kinds(world.coordinator)
    # The service user sees their plan, but not the carer's words about them.
    own_page = client_for(world.service_user_account).get(reverse("plan_detail",
                                                                  args=[plan.pk]))
    assert own_page.status_code == 200
    assert "SECRET-CARER-VIEWS" not in own_page.content.decode()
    # Nor does another coordinator, nor the other carer, through any door.
    assert client_for(world.other_coordinator).get(
        reverse("plan_detail", args=[plan.pk])).status_code == 404
    assert client_for(world.other_carer_account).get(_views_url(world)).status_code == 404

    services.review_record(plan=plan, recorded_by=world.coordinator, held_on=TODAY,
                           attendees="Alex, Sam", what_changed="New goals",
                           next_review_on=TODAY + dt.timedelta(weeks=8))
    [given] = CarerReviewViews.objects.all()
    assert given.review is not None
    reviews = client_for(world.coordinator).get(
        reverse("api_plan_reviews", args=[plan.pk])).json()["results"]
    assert reviews[0]["carers_views_received"] == [
        {"id": world.carer_relationship.carer_id,
         "name": world.carer_relationship.carer.full_name}]
    page = client_for(world.coordinator).get(reverse("plan_detail", args=[plan.pk]))
    assert (f"Carers' views received: {world.carer_relationship.carer.name}"
            in page.content.decode())
    # The new review asks afresh: the carer is invited to give views for it.
    assert "review_views" in _kinds(world.carer_account)
    assert "carer_views_received" not in _kinds(world.coordinator)


def test_views_are_bounded_and_the_api_says_why_in_json(world):
    make_plan(world)
    _involve(world)
    api = client_for(world.carer_account)
    too_long = api.put(_api_url(world), {"views": "x" * 3001}, content_type="application/json")
    assert too_long.status_code == 400
    assert "views" in str(too_long.json())
    ok = api.put(_api_url(world), {"views": VIEWS}, content_type="application/json")
    assert ok.status_code == 200
    assert ok.json()["views"] == VIEWS
    assert api.get(_api_url(world)).json()["views"] == VIEWS
    page = api.post(_views_url(world), {"views": "y" * 3001})
    assert page.status_code == 200
    assert "3000 characters or fewer" in page.content.decode()


def test_withdrawing_the_consent_is_a_404_on_page_and_api_at_once(world):
    make_plan(world)
    _involve(world)
    carer = client_for(world.carer_account)
    assert carer.put(_api_url(world), {"views": VIEWS},
                     content_type="application/json").status_code == 200
    # Involved or not, the review record itself is not theirs: plan page and API, 404.
    plan = Plan.objects.get(service_user=world.service_user)
    assert carer.get(reverse("plan_detail", args=[plan.pk])).status_code == 404
    assert carer.get(reverse("api_plan_reviews", args=[plan.pk])).status_code == 404
    _involve(world, involved=False)
    assert carer.get(_views_url(world)).status_code == 404
    assert carer.post(_views_url(world), {"views": "more"}).status_code == 404
    assert carer.get(_api_url(world)).status_code == 404
    assert carer.get(_api_url(world))["Content-Type"].startswith("application/json")
    assert "review_views" not in _kinds(world.carer_account)
    # The history keeps both decisions, newest first.
    assert [d.involved for d in ReviewInvolvementDecision.objects.filter(
        carer=world.carer_relationship.carer)] == [False, True]


def test_an_ended_relationship_ends_the_involvement_and_a_new_one_starts_afresh(world):
    make_plan(world)
    _involve(world)
    carer_services.carer_relationship_end(relationship=world.carer_relationship,
                                          ended_by=world.coordinator)
    assert client_for(world.carer_account).get(_views_url(world)).status_code == 404
    again = CarerRelationshipFactory(carer=world.carer_relationship.carer,
                                     service_user=world.service_user)
    assert not policy.is_involved_in_reviews(again)


def test_a_coordinator_records_it_only_with_a_basis(world):
    make_plan(world)
    with pytest.raises(ConsentError):
        review_involvement_decide(relationship=world.carer_relationship, involved=True,
                                  decided_by=world.coordinator)
    response = client_for(world.coordinator).post(
        reverse("consent_review_involvement",
                args=[world.service_user.pk, world.carer_relationship.pk]),
        {"reviews-involve": "yes", "reviews-basis": "Alex asked in our meeting",
         "reviews-note": ""})
    assert response.status_code == 302
    assert policy.is_involved_in_reviews(world.carer_relationship)
    page = client_for(world.service_user_account).get(
        reverse("consent_carer", args=[world.service_user.pk, world.carer_relationship.pk]))
    assert "Alex asked in our meeting" in page.content.decode()
    # Someone else's record: 404, and nothing decided.
    assert client_for(world.other_coordinator).post(
        reverse("consent_review_involvement",
                args=[world.service_user.pk, world.carer_relationship.pk]),
        {"reviews-involve": "no", "reviews-basis": "x"}).status_code == 404
    assert policy.is_involved_in_reviews(world.carer_relationship)


def test_carers_are_reminded_exactly_once_per_review_and_threshold(world):
    plan = make_plan(world)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=TODAY + dt.timedelta(days=10))
    _involve(world)
    uninvolved = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=["carer"])), service_user=world.service_user)
    Notification.objects.all().delete()

    first = review_reminders_send(today=TODAY)
    second = review_reminders_send(today=TODAY)
    assert (first.carers_sent, second.carers_sent) == (1, 0)
    [reminder] = _invitations(world.carer_account)
    assert "review is due on" in reminder.text
    assert _invitations(uninvolved.carer.user) == []
    assert list(CarerReviewReminder.objects.values_list("carer_id", "threshold")) == [
        (world.carer_relationship.carer_id, "due_soon")]

    # The next threshold: once more, once only.
    later = TODAY + dt.timedelta(days=10)
    assert review_reminders_send(today=later).carers_sent == 1
    assert review_reminders_send(today=later).carers_sent == 0
    assert len(_invitations(world.carer_account)) == 2

    # Withdrawn: no more reminders, even at a new threshold.
    _involve(world, involved=False)
    assert review_reminders_send(today=TODAY + dt.timedelta(days=30)).carers_sent == 0


def test_the_demo_shows_one_carer_invited_to_give_views(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())  # idempotent: still one decision
    [decision] = ReviewInvolvementDecision.objects.all()
    assert decision.involved
    linda = decision.carer.user
    assert [e.kind for e in things_to_do(viewer=linda)].count("review_views") == 1
    assert len([n for n in _invitations(linda)
                if "would like you to give your views" in n.text]) == 1


@pytest.mark.postgresql_only  # SQLite has one writer at a time; the race is PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_remind_a_carer_once(world):
    plan = make_plan(world)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=TODAY)
    _involve(world)
    Notification.objects.all().delete()
    barrier = threading.Barrier(2)
    results, errors = [], []

    def sweep():
        try:
            barrier.wait(timeout=10)
            results.append(review_reminders_send(today=TODAY))
        except Exception as error:  # reported below
            errors.append(error)
        finally:
            connection.close()

    threads = [threading.Thread(target=sweep) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)
    assert errors == []
    assert sorted(r.carers_sent for r in results) == [0, 1]
    assert CarerReviewReminder.objects.filter(notified=True).count() == 1
    assert len(_invitations(world.carer_account)) == 1
