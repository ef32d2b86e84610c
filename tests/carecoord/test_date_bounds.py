"""Dates out of any sensible range (issue 13, point 9 and the report period of point 10):
refused on every surface (forms, API, services), and one bad date already stored does not
stop the review reminder sweep for everybody else."""

from __future__ import annotations

import datetime as dt
import logging

import pytest
from django.core.exceptions import ValidationError

from carecoord.notifications.models import Notification
from carecoord.records import services as record_services
from carecoord.web import date_bounds
from consent import services as consent_services
from plans import services
from plans.models import Plan, PlanItem, Review
from plans.reminders import review_reminders_send
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.forms import date_parts

JSON = "application/json"
FAR_FUTURE = "9999-12-31"


def _care_plan(world, service_user=None) -> Plan:
    return services.plan_create(service_user=service_user or world.service_user,
                                kind=PlanKind.CARE_PLAN, created_by=world.coordinator)


# --- The shared validator -----------------------------------------------------------------


def test_the_bounds():
    today = clock.today()
    assert date_bounds.future_date_problem(today + dt.timedelta(days=365 * 4)) is None
    assert date_bounds.future_date_problem(today + dt.timedelta(days=365 * 6)) is not None
    assert date_bounds.future_date_problem(dt.date.max) is not None
    assert date_bounds.past_date_problem(today) is None
    assert date_bounds.past_date_problem(today + dt.timedelta(days=1)) is not None
    assert date_bounds.past_date_problem(dt.date(1899, 12, 31)) is not None
    assert date_bounds.any_date_problem(dt.date(1, 1, 1)) is not None
    with pytest.raises(ValidationError):
        date_bounds.validate_future_date(dt.date(9999, 12, 31))


# --- The sweep: one bad plan does not stop the others ---------------------------------------


def test_one_far_future_review_date_does_not_stop_the_sweep_for_everyone(world, caplog):
    bad = _care_plan(world)
    good = _care_plan(world, service_user=world.other_service_user)
    # A date stored before the bounds existed (or written around them): never inside a
    # reminder window, so the sweep (which picks plans in SQL) does not even look at it.
    Plan.objects.filter(pk=bad.pk).update(next_review_on=dt.date(9999, 12, 31))
    Plan.objects.filter(pk=good.pk).update(next_review_on=clock.today() + dt.timedelta(days=3))

    result = review_reminders_send(today=clock.today())

    assert result.sent == 1
    assert result.failed == ()
    assert Notification.objects.filter(user=world.other_coordinator).count() == 1


def test_one_plan_that_fails_does_not_stop_the_sweep_for_everyone(world, caplog):
    bad = _care_plan(world)
    good = _care_plan(world, service_user=world.other_service_user)
    # The first day there is: inside every window, and its thresholds cannot be worked out
    # (the date before it does not exist), so the plan fails in the middle of its batch.
    Plan.objects.filter(pk=bad.pk).update(next_review_on=dt.date(1, 1, 1))
    Plan.objects.filter(pk=good.pk).update(next_review_on=clock.today() + dt.timedelta(days=3))

    with caplog.at_level(logging.ERROR, logger="plans.reminders"):
        result = review_reminders_send(today=clock.today())

    assert result.sent == 1
    assert result.failed == (bad.pk,)
    assert Notification.objects.filter(user=world.other_coordinator).count() == 1
    assert Notification.objects.filter(user=world.coordinator).count() == 0
    assert any(str(bad.pk) in record.getMessage() for record in caplog.records)


# --- Plans: API, pages and services ---------------------------------------------------------


def test_the_reviews_api_refuses_a_review_date_thousands_of_years_ahead(world):
    plan = _care_plan(world)
    today = clock.today()
    response = client_for(world.coordinator).post(
        f"/api/v1/plans/{plan.pk}/reviews/",
        {"held_on": today.isoformat(), "attendees": "Alex, Sam", "what_changed": "Nothing",
         "next_review_on": FAR_FUTURE}, content_type=JSON)
    assert response.status_code == 400, response.content
    assert "next_review_on" in response.json()["fields"]
    assert not Review.objects.exists()
    plan.refresh_from_db()
    assert plan.next_review_on != dt.date(9999, 12, 31)


def test_the_review_page_refuses_a_review_date_thousands_of_years_ahead(world):
    plan = _care_plan(world)
    response = client_for(world.coordinator).post(f"/plans/{plan.pk}/reviews/add/", {
        **date_parts("held_on", clock.today()), "attendees": "Alex, Sam",
        "what_changed": "Nothing", **date_parts("next_review_on", FAR_FUTURE),
    })
    assert response.status_code == 200
    assert "no more than 5 years ahead" in response.content.decode()
    assert not Review.objects.exists()


def test_the_review_service_refuses_out_of_range_dates(world):
    plan = _care_plan(world)
    with pytest.raises(ValidationError) as refused:
        services.review_record(plan=plan, recorded_by=world.coordinator,
                               held_on=clock.today(), attendees="Alex", what_changed="-",
                               next_review_on=dt.date(9999, 12, 31))
    assert "next_review_on" in refused.value.message_dict
    with pytest.raises(ValidationError):
        services.review_record(plan=plan, recorded_by=world.coordinator,
                               held_on=dt.date(1, 1, 1), attendees="Alex", what_changed="-",
                               next_review_on=clock.days(30))


@pytest.mark.parametrize("target_on", [FAR_FUTURE, "0001-01-01", "not a date", 12])
def test_a_goal_target_date_out_of_range_is_refused_by_the_api(world, target_on):
    plan = _care_plan(world)
    response = client_for(world.coordinator).post(
        f"/api/v1/plans/{plan.pk}/items/",
        {"section": "goals", "title": "Swim", "body": "",
         "details": {"domain": "hope", "target_on": target_on}}, content_type=JSON)
    assert 400 <= response.status_code < 500, response.content
    assert response["Content-Type"].startswith("application/json")
    assert not PlanItem.objects.filter(title="Swim").exists()


def test_a_goal_target_date_in_range_is_kept(world):
    plan = _care_plan(world)
    target = clock.days(90)
    item = services.item_create(plan=plan, section_code="goals", author=world.coordinator,
                                title="Swim", details={"domain": "hope",
                                                       "target_on": target.isoformat()})
    assert item.details["target_on"] == target.isoformat()


def test_progress_cannot_be_recorded_before_1900(world):
    plan = _care_plan(world)
    goal = services.item_create(plan=plan, section_code="goals", author=world.coordinator,
                                title="Swim")
    response = client_for(world.coordinator).post(
        f"/api/v1/items/{goal.pk}/progress/",
        {"recorded_on": "0001-01-01", "rating": 3}, content_type=JSON)
    assert response.status_code == 400, response.content


# --- Consent, records, reports --------------------------------------------------------------


def test_sharing_cannot_be_set_to_end_in_the_year_9999(world):
    plan = _care_plan(world)
    item = plan.items.get(prompt="recovery_meaning")
    with pytest.raises(consent_services.ConsentError):
        consent_services.consent_decide_item(
            item=item, carer=world.carer_relationship.carer, shared=True,
            decided_by=world.service_user_account, expires_on=dt.date(9999, 12, 31))


def test_a_date_of_birth_before_1900_or_in_the_future_is_refused(world):
    for born in (dt.date(1, 1, 1), clock.days(1)):
        with pytest.raises(ValidationError) as refused:
            record_services.service_user_update(
                service_user=world.service_user, changed_by=world.coordinator,
                expected_version=world.service_user.version, basis="test",
                date_of_birth=born)
        assert "date_of_birth" in refused.value.message_dict


def test_an_episode_planned_to_end_in_9999_is_refused_on_the_page(world):
    episode = world.service_user.episodes.get(discharged_on__isnull=True)
    response = client_for(world.coordinator).post(
        f"/service-users/{world.service_user.pk}/episodes/{episode.pk}/",
        {**date_parts("planned_end_on", FAR_FUTURE), **date_parts("discharged_on", ""),
         "discharge_plan": ""})
    assert response.status_code == 200
    assert "no more than 5 years ahead" in response.content.decode()
    episode.refresh_from_db()
    assert episode.planned_end_on.year != 9999


@pytest.mark.parametrize("period", [
    {"start": "0001-01-01", "end": "2025-03-31"},
    {"start": "2025-01-01", "end": FAR_FUTURE},
    {"start": "0001-01-01", "end": "0001-01-02"},
])
@pytest.mark.parametrize("suffix", ["", "csv/"])
def test_report_pages_answer_an_absurd_period_with_an_error_not_a_500(world, period, suffix):
    client = client_for(world.manager)
    response = client.get(f"/teams/{world.team.pk}/reports/access-events/{suffix}", period,
                          follow=True)
    assert response.status_code == 200
    assert "Enter a date" in response.content.decode()
