"""Review reminders: tell the care coordinators, the service user and the carers involved
in reviews when a care plan review is due soon, due today, or overdue — once per review
date and threshold, and for carers once per review date, threshold and carer.

Which carers are involved is the access policy's to say (consent.policy.reviews), above
this layer: consent registers it here with `review_reminder_carers_source`
(consent/reviews/services.py, imported by consent's AppConfig.ready)."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from django.db import transaction
from django.utils import timezone

from carecoord.notifications.services import notification_send
from carecoord.records.models import User
from carers.models import CarerRelationship
from plans.models import CarerReviewReminder, Plan, ReviewReminder
from plans.sections import PlanKind

logger = logging.getLogger(__name__)

Threshold = ReviewReminder.Threshold
# Most advanced last: when several are reached at once, only the last is sent.
ORDER = [Threshold.DUE_SOON, Threshold.DUE_TODAY, Threshold.OVERDUE]


def thresholds_reached(*, due_on: dt.date, today: dt.date, due_soon_days: int,
                       overdue_days: int) -> list[str]:
    """Every threshold this review has reached by `today`, in order."""
    reached = []
    if today >= due_on - dt.timedelta(days=due_soon_days):
        reached.append(Threshold.DUE_SOON)
    if today >= due_on:
        reached.append(Threshold.DUE_TODAY)
    if today >= due_on + dt.timedelta(days=overdue_days):
        reached.append(Threshold.OVERDUE)
    return reached


@dataclass(frozen=True)
class SweepResult:
    sent: int
    already_sent: int
    # Plans whose reminder could not be worked out or sent (logged; the rest still get theirs).
    failed: tuple[int, ...] = field(default=())
    carers_sent: int = 0


CarersSource = Callable[[Plan], Iterable[CarerRelationship]]
_CARER_SOURCES: list[CarersSource] = []


def review_reminder_carers_source(source: CarersSource) -> CarersSource:
    """Register who, besides staff and the service user, is reminded of a plan's review:
    the carer relationships the policy says are involved in it."""
    if source not in _CARER_SOURCES:
        _CARER_SOURCES.append(source)
    return source


def review_reminders_send(*, today: dt.date | None = None) -> SweepResult:
    """One pass over every care plan with a review date whose service user is in care
    coordination. Safe to run as often as you like, on as many workers as you like."""
    today = today or timezone.localdate()
    plans = (
        Plan.objects.filter(kind=PlanKind.CARE_PLAN, next_review_on__isnull=False,
                            service_user__episodes__discharged_on__isnull=True)
        .select_related("service_user__team", "service_user__user")
        .distinct()
    )
    sent = already = carers_sent = 0
    failed = []
    for plan in plans.iterator(chunk_size=500):
        # One plan's bad data (a review date nobody could reach) must not stop everybody
        # else's reminders: it is logged, by id only, and reported in the result.
        try:
            outcome, carers = _remind_if_due(plan, today)
        except Exception:
            logger.exception("Review reminder failed for plan %s", plan.pk)
            failed.append(plan.pk)
            continue
        carers_sent += carers
        if outcome is True:
            sent += 1
        elif outcome is False:
            already += 1
    if failed:
        logger.error("Review reminder sweep: %d plan(s) failed: %s", len(failed),
                     ", ".join(str(pk) for pk in failed))
    return SweepResult(sent=sent, already_sent=already, failed=tuple(failed),
                       carers_sent=carers_sent)


def _remind_if_due(plan: Plan, today: dt.date) -> tuple[bool | None, int]:
    """(True: a reminder was sent; False: already sent; None: nothing due) and how many
    carers involved in the review were reminded."""
    team = plan.service_user.team
    reached = thresholds_reached(
        due_on=plan.next_review_on, today=today,
        due_soon_days=team.reminder_due_soon_days, overdue_days=team.reminder_overdue_days,
    )
    if not reached:
        return None, 0
    outcome = _remind(plan, reached)
    carers = 0
    for source in _CARER_SOURCES:
        for relationship in source(plan):
            if relationship.carer.user_id and _remind_carer(plan, relationship, reached):
                carers += 1
    return outcome, carers


@transaction.atomic
def _remind(plan: Plan, reached: list[str]) -> bool:
    """Record every threshold reached; notify for the most advanced new one. The insert
    is the lock: a concurrent sweep that loses the race on the unique constraint finds
    the row and sends nothing."""
    new = []
    for threshold in reached:
        with transaction.atomic():  # a savepoint, so a lost race leaves the rest intact
            _, created = ReviewReminder.objects.get_or_create(
                plan=plan, review_due_on=plan.next_review_on, threshold=threshold,
                defaults={"notified": threshold == reached[-1]},
            )
        if created:
            new.append(threshold)
    if not new or new[-1] != reached[-1]:
        return False
    _notify(plan, reached[-1])
    return True


def _notify(plan: Plan, threshold: str) -> None:
    service_user = plan.service_user
    due = f"{plan.next_review_on:%-d %B %Y}"
    coordinator_text = {
        Threshold.DUE_SOON: f"{service_user.name}'s care plan review is due on {due}.",
        Threshold.DUE_TODAY: f"{service_user.name}'s care plan review is due today.",
        Threshold.OVERDUE: f"{service_user.name}'s care plan review was due on {due} and "
                           "has not been recorded.",
    }[threshold]
    own_text = {
        Threshold.DUE_SOON: f"Your care plan review is due on {due}.",
        Threshold.DUE_TODAY: "Your care plan review is due today.",
        Threshold.OVERDUE: f"Your care plan review was due on {due}. You can ask your care "
                           "coordinator when it will be.",
    }[threshold]
    for coordinator in User.objects.coordinating(service_user):
        notification_send(user=coordinator, text=coordinator_text, url_name="plan_detail",
                          url_args=[plan.pk])
    if service_user.user_id:
        notification_send(user=service_user.user, text=own_text, url_name="plan_detail",
                          url_args=[plan.pk])


@transaction.atomic
def _remind_carer(plan: Plan, relationship: CarerRelationship, reached: list[str]) -> bool:
    """As `_remind`, per carer: a carer involved later still gets the next threshold
    once, and never one twice."""
    new = []
    for threshold in reached:
        with transaction.atomic():
            _, created = CarerReviewReminder.objects.get_or_create(
                plan=plan, review_due_on=plan.next_review_on, threshold=threshold,
                carer_id=relationship.carer_id,
                defaults={"notified": threshold == reached[-1]},
            )
        if created:
            new.append(threshold)
    if not new or new[-1] != reached[-1]:
        return False
    name = plan.service_user.name
    due = f"{plan.next_review_on:%-d %B %Y}"
    text = {
        Threshold.DUE_SOON: f"{name}'s care plan review is due on {due}. You can give your "
                            "views before it.",
        Threshold.DUE_TODAY: f"{name}'s care plan review is due today. You can still give "
                             "your views.",
        Threshold.OVERDUE: f"{name}'s care plan review was due on {due}. You can still give "
                           "your views before it happens.",
    }[reached[-1]]
    notification_send(user=relationship.carer.user, text=text, url_name="carer_review_views",
                      url_args=[relationship.pk])
    return True
