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
from django.db.models import Max
from django.utils import timezone

from carecoord.notifications.services import notifications_send_many
from carecoord.records.models import Team, User
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


# The carers a source returns for a batch of plans: their relationships, each with
# `service_user_id` and `carer.user` loaded; the sweep groups them by service user.
CarersSource = Callable[[list[Plan]], Iterable[CarerRelationship]]
_CARER_SOURCES: list[CarersSource] = []

# Plans per batch: one lock, one read of the reminders already sent, one insert of the new
# ones and one of the notifications, whatever the number of plans in it.
CHUNK = 500


def review_reminder_carers_source(source: CarersSource) -> CarersSource:
    """Register who, besides staff and the service user, is reminded of a plan's review:
    the carer relationships the policy says are involved in it (set-wise, for a batch of
    plans)."""
    if source not in _CARER_SOURCES:
        _CARER_SOURCES.append(source)
    return source


def review_reminders_send(*, today: dt.date | None = None) -> SweepResult:
    """One pass over every care plan with a review date inside the widest reminder window
    whose service user is in care coordination. Safe to run as often as you like, on as
    many workers as you like.

    The number of queries does not grow with the number of plans (ADR 0023): the plans
    that can have reached a threshold are chosen in SQL, then handled in batches of
    `CHUNK`. A batch locks its plans (so a concurrent sweep waits, then finds what this
    one recorded), reads the reminders already recorded, inserts the missing ones in one
    statement (ON CONFLICT DO NOTHING on the unique constraint) and notifies in one. If
    anything in a batch fails, the batch is rolled back and done again plan by plan, so
    one plan's bad data cannot stop everybody else's reminders."""
    today = today or timezone.localdate()
    widest = Team.objects.aggregate(days=Max("reminder_due_soon_days"))["days"] or 0
    plan_ids = list(
        Plan.objects.filter(kind=PlanKind.CARE_PLAN, next_review_on__isnull=False,
                            next_review_on__lte=today + dt.timedelta(days=widest),
                            service_user__episodes__discharged_on__isnull=True)
        .order_by("pk").values_list("pk", flat=True).distinct()
    )
    total = _Tally()
    for start in range(0, len(plan_ids), CHUNK):
        chunk = plan_ids[start:start + CHUNK]
        try:
            with transaction.atomic():
                tally = _Tally()
                _remind_batch(chunk, today, tally)
        except Exception:
            logger.warning("Review reminder batch failed; retrying its %d plans one by one",
                           len(chunk), exc_info=True)
            tally = _Tally()
            for plan_id in chunk:
                try:
                    with transaction.atomic():
                        _remind_batch([plan_id], today, tally)
                except Exception:
                    # Logged by id only, and reported in the result.
                    logger.exception("Review reminder failed for plan %s", plan_id)
                    tally.failed.append(plan_id)
        total.add(tally)
    if total.failed:
        logger.error("Review reminder sweep: %d plan(s) failed: %s", len(total.failed),
                     ", ".join(str(pk) for pk in total.failed))
    return SweepResult(sent=total.sent, already_sent=total.already,
                       failed=tuple(total.failed), carers_sent=total.carers)


@dataclass
class _Tally:
    sent: int = 0
    already: int = 0
    carers: int = 0
    failed: list[int] = field(default_factory=list)

    def add(self, other: _Tally) -> None:
        self.sent += other.sent
        self.already += other.already
        self.carers += other.carers
        self.failed.extend(other.failed)


def _remind_batch(plan_ids: list[int], today: dt.date, tally: _Tally) -> None:
    """Inside the caller's transaction: remind for these plans (see review_reminders_send).
    Raises on anything wrong; the caller rolls the batch back."""
    # The lock is what keeps "exactly once" under concurrent sweeps: the loser waits here,
    # and the rows it reads next were committed by the winner. Locked in pk order, so two
    # sweeps cannot deadlock; the locked rows are re-read, so a review date changed
    # meanwhile is the one used.
    plans = list(
        Plan.objects.select_for_update(of=("self",)).filter(pk__in=plan_ids)
        .select_related("service_user__team", "service_user__user").order_by("pk")
    )
    due: dict[int, tuple[Plan, list[str]]] = {}
    for plan in plans:
        team = plan.service_user.team
        reached = thresholds_reached(
            due_on=plan.next_review_on, today=today,
            due_soon_days=team.reminder_due_soon_days, overdue_days=team.reminder_overdue_days,
        )
        if reached:
            due[plan.pk] = (plan, reached)
    if not due:
        return
    recorded = set(
        ReviewReminder.objects.filter(plan_id__in=due)
        .values_list("plan_id", "review_due_on", "threshold")
    )
    new_rows: list[ReviewReminder] = []
    to_notify: list[tuple[Plan, str]] = []
    for plan, reached in due.values():
        new = [t for t in reached if (plan.pk, plan.next_review_on, t) not in recorded]
        new_rows += [ReviewReminder(plan=plan, review_due_on=plan.next_review_on, threshold=t,
                                    notified=t == reached[-1]) for t in new]
        # Notify only when the most advanced threshold reached is new (ORDER).
        if new and new[-1] == reached[-1]:
            to_notify.append((plan, reached[-1]))
            tally.sent += 1
        else:
            tally.already += 1
    ReviewReminder.objects.bulk_create(new_rows, ignore_conflicts=True)
    messages = _staff_messages(to_notify)
    messages += _carer_messages([plan for plan, _ in due.values()], due, tally)
    notifications_send_many(messages=messages)


def _staff_messages(to_notify: list[tuple[Plan, str]]) -> list[tuple]:
    coordinators = User.objects.coordinating_each(
        sorted({plan.service_user_id for plan, _ in to_notify}))
    messages: list[tuple] = []
    for plan, threshold in to_notify:
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
            Threshold.OVERDUE: f"Your care plan review was due on {due}. You can ask your "
                               "care coordinator when it will be.",
        }[threshold]
        messages += [(coordinator, coordinator_text, "plan_detail", [plan.pk])
                     for coordinator in coordinators[service_user.pk]]
        if service_user.user_id:
            messages.append((service_user.user, own_text, "plan_detail", [plan.pk]))
    return messages


def _carer_messages(plans: list[Plan], due: dict[int, tuple[Plan, list[str]]],
                    tally: _Tally) -> list[tuple]:
    """As for staff, per carer involved: a carer involved later still gets the next
    threshold once, and never one twice."""
    by_service_user: dict[int, list[CarerRelationship]] = {}
    for source in _CARER_SOURCES:
        for relationship in source(plans):
            if relationship.carer.user_id:
                by_service_user.setdefault(relationship.service_user_id, []).append(
                    relationship)
    if not by_service_user:
        return []
    recorded = set(
        CarerReviewReminder.objects.filter(plan_id__in=due)
        .values_list("plan_id", "review_due_on", "threshold", "carer_id")
    )
    new_rows: list[CarerReviewReminder] = []
    messages: list[tuple] = []
    for plan, reached in due.values():
        for relationship in by_service_user.get(plan.service_user_id, []):
            key = (plan.pk, plan.next_review_on)
            new = [t for t in reached if (*key, t, relationship.carer_id) not in recorded]
            new_rows += [CarerReviewReminder(plan=plan, review_due_on=plan.next_review_on,
                                             threshold=t, carer_id=relationship.carer_id,
                                             notified=t == reached[-1]) for t in new]
            if not new or new[-1] != reached[-1]:
                continue
            tally.carers += 1
            name = plan.service_user.name
            due_on = f"{plan.next_review_on:%-d %B %Y}"
            text = {
                Threshold.DUE_SOON: f"{name}'s care plan review is due on {due_on}. You can "
                                    "give your views before it.",
                Threshold.DUE_TODAY: f"{name}'s care plan review is due today. You can still "
                                     "give your views.",
                Threshold.OVERDUE: f"{name}'s care plan review was due on {due_on}. You can "
                                   "still give your views before it happens.",
            }[reached[-1]]
            messages.append((relationship.carer.user, text, "carer_review_views",
                             [relationship.pk]))
    CarerReviewReminder.objects.bulk_create(new_rows, ignore_conflicts=True)
    return messages
