"""Carers heard at reviews: the writes that must first ask the policy which carers the
service user involves (consent.policy.reviews.involved_in_reviews) — inviting them when a
review is scheduled, and when they are newly involved before one; and the reminders'
source of carers. Above the policy and the consent services, so it may use both; its
receiver and hook are wired in consent's AppConfig.ready."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models import QuerySet

from carecoord.notifications.services import notification_send
from carecoord.records.models import User
from carers.models import CarerRelationship
from consent import policy
from consent.models import ReviewInvolvementDecision
from consent.services import consent_decide_review_involvement
from plans.models import Plan
from plans.reminders import review_reminder_carers_source
from plans.sections import PlanKind


def _possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") and not name.endswith("ss") else f"{name}'s"


def carers_involved_in_review(plan: Plan) -> QuerySet[CarerRelationship]:
    """The relationships whose carer is heard at this care plan's reviews."""
    return carers_involved_in_reviews([plan])


def carers_involved_in_reviews(plans: list[Plan]) -> QuerySet[CarerRelationship]:
    """The same, set-wise: the relationships whose carer is heard at the reviews of any of
    these care plans (one query, for the reminder sweep)."""
    service_user_ids = {plan.service_user_id for plan in plans
                        if plan.kind == PlanKind.CARE_PLAN}
    if not service_user_ids:
        return CarerRelationship.objects.none()
    return policy.involved_in_reviews(
        CarerRelationship.objects.filter(service_user_id__in=service_user_ids)
    ).select_related("carer__user")


review_reminder_carers_source(carers_involved_in_reviews)


def _invite(plan: Plan, relationship: CarerRelationship) -> None:
    """A notification (and the content-free email) asking for the carer's views. The
    things to do entry is worked out from the same predicate (carecoord.todo)."""
    if relationship.carer.user_id is None:
        return
    name = plan.service_user.name
    notification_send(
        user=relationship.carer.user,
        text=f"{name} would like you to give your views before {_possessive(name)} care "
             f"plan review on {plan.next_review_on:%-d %B %Y}.",
        url_name="carer_review_views", url_args=[relationship.pk],
        group=f"review_views:{relationship.pk}")


def review_views_invite(*, plan: Plan) -> int:
    """Every carer involved in this plan's reviews is invited to give views before the
    one now scheduled. Returns how many were invited."""
    if plan.next_review_on is None:
        return 0
    invited = 0
    for relationship in carers_involved_in_review(plan):
        _invite(plan, relationship)
        invited += 1
    return invited


def review_scheduled(*, plan: Plan, **_: Any) -> None:
    """Receiver of plans.signals.review_scheduled, in the transaction that set the date."""
    review_views_invite(plan=Plan.objects.select_related("service_user").get(pk=plan.pk))


@transaction.atomic
def review_involvement_decide(
    *, relationship: CarerRelationship, involved: bool, decided_by: User, basis: str = "",
    note: str = "",
) -> ReviewInvolvementDecision:
    """Record the decision (consent.services), then, read back through the predicate: a
    carer newly involved while a review is already scheduled is invited to it now."""
    was_involved = policy.is_involved_in_reviews(relationship)
    decision = consent_decide_review_involvement(
        relationship=relationship, involved=involved, decided_by=decided_by, basis=basis,
        note=note)
    if involved and not was_involved and policy.is_involved_in_reviews(relationship):
        plan = (Plan.objects.select_related("service_user")
                .filter(service_user_id=relationship.service_user_id, kind=PlanKind.CARE_PLAN,
                        next_review_on__isnull=False).first())
        if plan is not None:
            _invite(plan, CarerRelationship.objects.select_related("carer__user")
                    .get(pk=relationship.pk))
    return decision
