"""The review-reminder sweep's queries do not grow with the number of plans (issue 15,
ADR 0023): the plans are chosen in SQL and handled in batches, so ten plans and fifty cost
the same number of queries, whether there is something to send or not."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.db import connection
from django.test.utils import CaptureQueriesContext

from carecoord.notifications.models import Notification
from carecoord.notifications.services import notifications_send_many
from carecoord.records.models import Role, User
from consent.reviews.services import review_involvement_decide
from plans import services
from plans.models import CarerReviewReminder, Plan, ReviewReminder
from plans.reminders import review_reminders_send
from plans.sections import PlanKind
from tests import clock
from tests.factories import (
    AllocationFactory,
    CarerFactory,
    CarerRelationshipFactory,
    EpisodeFactory,
    ServiceUserFactory,
    TeamFactory,
    UserFactory,
)

TODAY = clock.today()


def _trust(n: int) -> None:
    """n service users, each with a coordinator, an account, a care plan due in 3 days and
    a carer involved in reviews; and as many plans nowhere near their review."""
    team = TeamFactory()
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    for i in range(2 * n):
        account = UserFactory(roles=[Role.SERVICE_USER])
        service_user = ServiceUserFactory(team=team, user=account)
        AllocationFactory(episode=EpisodeFactory(service_user=service_user),
                          coordinator=coordinator)
        plan = services.plan_create(service_user=service_user, kind=PlanKind.CARE_PLAN,
                                    created_by=coordinator)
        due = TODAY + dt.timedelta(days=3 if i < n else 90)
        Plan.objects.filter(pk=plan.pk).update(next_review_on=due)
        if i < n:
            carer_account = UserFactory(roles=[Role.CARER])
            relationship = CarerRelationshipFactory(
                carer=CarerFactory(user=carer_account, email=carer_account.email),
                service_user=service_user)
            review_involvement_decide(relationship=relationship, involved=True,
                                      decided_by=account)


def _sweep_queries() -> tuple[int, int, object]:
    with CaptureQueriesContext(connection) as first:
        sent = review_reminders_send(today=TODAY)
    with CaptureQueriesContext(connection) as again:
        review_reminders_send(today=TODAY)
    return len(first), len(again), sent


@pytest.mark.django_db
def test_the_sweep_costs_the_same_queries_for_ten_plans_as_for_fifty():
    _trust(10)
    Notification.objects.all().delete()
    small_first, small_again, small = _sweep_queries()
    assert (small.sent, small.carers_sent) == (10, 10)

    _trust(40)  # now 50 due (the first 10 already reminded) and 50 not due
    Notification.objects.all().delete()
    big_first, big_again, big = _sweep_queries()
    assert (big.sent, big.already_sent, big.carers_sent) == (40, 10, 40)
    # Coordinator, service user and carer for each plan newly due, once.
    assert Notification.objects.count() == 3 * 40
    assert ReviewReminder.objects.count() == 50
    assert CarerReviewReminder.objects.count() == 50

    assert big_first == small_first
    assert big_again == small_again
    assert big_first <= 15


def test_many_notifications_are_one_insert_and_their_emails_name_nobody(
    world, django_capture_on_commit_callbacks
):
    Notification.objects.all().delete()
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True), \
            CaptureQueriesContext(connection) as queries:
        made = notifications_send_many(messages=[
            (world.coordinator, "Alex Service's care plan review is due today.",
             "plan_detail", [1]),
            (world.service_user_account, "Your care plan review is due today.",
             "plan_detail", [1]),
        ])
    assert made == 2
    assert len(queries) == 1
    assert sorted(Notification.objects.values_list("user_id", "url")) == sorted(
        [(world.coordinator.pk, "/plans/1/"), (world.service_user_account.pk, "/plans/1/")])
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.coordinator.email, world.service_user_account.email])
    assert all("Alex" not in m.body + m.subject for m in mail.outbox)


def test_coordinating_each_is_coordinating_for_many_people_at_once(world):
    ids = [world.service_user.pk, world.other_service_user.pk]
    each = User.objects.coordinating_each(ids)
    for service_user_id in ids:
        assert each[service_user_id] == list(User.objects.coordinating(service_user_id))
    world.service_user.episodes.update(discharged_on=TODAY)
    assert User.objects.coordinating_each(ids)[world.service_user.pk] == []
