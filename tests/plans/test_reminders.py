"""Review reminders: one per review date and threshold, however often or concurrently
the sweep runs; coordinators and the service user are told; emails carry no content."""

from __future__ import annotations

import datetime as dt
import threading

import pytest
from django.core import mail
from django.db import connection

from carecoord.notifications.models import Notification
from plans import services
from plans.models import Plan, ReviewReminder
from plans.reminders import review_reminders_send, thresholds_reached
from plans.sections import PlanKind
from plans.tasks import review_reminders_sweep
from tests import clock

TODAY = clock.today()


def care_plan_due(world, due_on: dt.date) -> Plan:
    plan = services.plan_create(service_user=world.service_user, kind=PlanKind.CARE_PLAN,
                                created_by=world.coordinator)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=due_on)
    plan.refresh_from_db()
    items = {item.prompt: item for item in plan.items.all()}
    services.item_update(item=items["recovery_meaning"], changed_by=world.coordinator,
                         expected_revision=1, body="SECRET-CLINICAL-TEXT about my recovery")
    return plan


@pytest.mark.parametrize(
    ("days_until_due", "expected"),
    [
        (15, []),
        (14, ["due_soon"]),
        (1, ["due_soon"]),
        (0, ["due_soon", "due_today"]),
        (-6, ["due_soon", "due_today"]),
        (-7, ["due_soon", "due_today", "overdue"]),
    ],
)
def test_thresholds_and_their_boundaries(days_until_due, expected):
    reached = thresholds_reached(due_on=TODAY + dt.timedelta(days=days_until_due), today=TODAY,
                                 due_soon_days=14, overdue_days=7)
    assert [str(r) for r in reached] == expected


def test_a_sweep_tells_coordinator_and_service_user_once(
    world, django_capture_on_commit_callbacks
):
    plan = care_plan_due(world, TODAY + dt.timedelta(days=10))
    mail.outbox.clear()
    with django_capture_on_commit_callbacks(execute=True):
        first = review_reminders_send(today=TODAY)
        second = review_reminders_send(today=TODAY)
    assert (first.sent, second.sent, second.already_sent) == (1, 0, 1)
    assert list(ReviewReminder.objects.values_list("threshold", flat=True)) == ["due_soon"]
    coordinator_note = Notification.objects.get(user=world.coordinator)
    own_note = Notification.objects.get(user=world.service_user_account)
    assert "review is due on" in coordinator_note.text
    assert own_note.text.startswith("Your care plan review is due on")
    assert coordinator_note.url == f"/plans/{plan.pk}/"
    assert sorted(m.to[0] for m in mail.outbox) == sorted(
        [world.coordinator.email, world.service_user_account.email])
    for message in mail.outbox:
        assert "SECRET-CLINICAL-TEXT" not in message.body
        assert world.service_user.name not in message.body + message.subject


def test_each_threshold_is_sent_once_as_time_passes(world):
    care_plan_due(world, TODAY)
    for days in (-10, -10, 0, 0, 7, 7, 30):
        review_reminders_send(today=TODAY + dt.timedelta(days=days))
    assert sorted(ReviewReminder.objects.values_list("threshold", flat=True)) == [
        "due_soon", "due_today", "overdue"]
    assert Notification.objects.filter(user=world.coordinator).count() == 3


def test_reminders_missed_while_the_worker_was_down_are_sent_once(world):
    care_plan_due(world, TODAY)
    review_reminders_send(today=TODAY + dt.timedelta(days=9))  # first run after downtime
    review_reminders_send(today=TODAY + dt.timedelta(days=9))
    assert ReviewReminder.objects.count() == 3
    assert ReviewReminder.objects.filter(notified=True).get().threshold == "overdue"
    assert Notification.objects.filter(user=world.coordinator).count() == 1


def test_a_new_review_date_gets_its_own_reminders(world):
    plan = care_plan_due(world, TODAY)
    review_reminders_send(today=TODAY)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=TODAY + dt.timedelta(days=5))
    review_reminders_send(today=TODAY)
    assert ReviewReminder.objects.filter(review_due_on=TODAY + dt.timedelta(days=5)).count() == 1


def test_team_windows_are_honoured(world):
    care_plan_due(world, TODAY + dt.timedelta(days=20))
    assert review_reminders_send(today=TODAY).sent == 0
    world.team.reminder_due_soon_days = 21
    world.team.save()
    assert review_reminders_send(today=TODAY).sent == 1


def test_no_reminders_after_discharge(world):
    care_plan_due(world, TODAY)
    world.service_user.episodes.update(discharged_on=TODAY - dt.timedelta(days=1))
    assert review_reminders_send(today=TODAY).sent == 0


def test_the_task_calls_the_sweep(world):
    care_plan_due(world, TODAY)
    assert review_reminders_sweep.apply().get() == {"sent": 1, "already_sent": 0, "failed": []}


@pytest.mark.postgresql_only  # SQLite has one writer at a time; the race is PostgreSQL's
@pytest.mark.django_db(transaction=True)
def test_two_sweeps_at_once_send_one_reminder(world):
    care_plan_due(world, TODAY)
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
    assert sorted(r.sent for r in results) == [0, 1]
    assert ReviewReminder.objects.filter(notified=True).count() == 1
    assert Notification.objects.filter(user=world.coordinator).count() == 1
