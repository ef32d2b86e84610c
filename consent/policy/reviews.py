"""Carers heard at reviews: which carers a service user involves in their care plan reviews
(one predicate, `involved_in_reviews`), who may write a carer's views for the upcoming
review, and who may read them.

A carer is involved when their relationship with the service user is active AND the
latest `ReviewInvolvementDecision` for that carer and service user says so (the default,
with none, is not). Ending the relationship withdraws it in the history too
(consent.services.consent_relationship_ended), so a carer linked again starts afresh.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import OuterRef, QuerySet, Subquery
from django.http import Http404

from carecoord.records.models import ServiceUser
from carers.models import CarerRelationship
from consent.models import ReviewInvolvementDecision
from consent.policy.base import Basis, _coordinated_service_user_ids, _signed_in
from consent.policy.records import record_basis
from plans.models import CarerReviewViews, Plan
from plans.sections import PlanKind

if TYPE_CHECKING:
    from consent.policy.base import Viewer


def involved_in_reviews(
    queryset: QuerySet[CarerRelationship] | None = None,
) -> QuerySet[CarerRelationship]:
    """THE predicate: the active carer relationships whose service user's latest decision
    involves that carer in reviews. Every other rule here, the invitation, the reminders
    and the things to do are built on it."""
    queryset = CarerRelationship.objects.all() if queryset is None else queryset
    latest = (ReviewInvolvementDecision.objects
              .filter(carer_id=OuterRef("carer_id"), service_user_id=OuterRef("service_user_id"))
              .order_by("-decided_at", "-pk").values("involved")[:1])
    return queryset.active().annotate(involved_now=Subquery(latest)).filter(involved_now=True)


def is_involved_in_reviews(relationship: CarerRelationship) -> bool:
    return involved_in_reviews(CarerRelationship.objects.filter(pk=relationship.pk)).exists()


def involvement_decision(relationship: CarerRelationship) -> ReviewInvolvementDecision | None:
    """The decision in force for this relationship (the latest), for the consent page."""
    return (ReviewInvolvementDecision.objects
            .filter(carer_id=relationship.carer_id, service_user_id=relationship.service_user_id)
            .order_by("-decided_at", "-pk").first())


def review_views_relationships(viewer: Viewer) -> QuerySet[CarerRelationship]:
    """The viewer's own relationships as a carer in which they are involved in reviews."""
    if not _signed_in(viewer):
        return CarerRelationship.objects.none()
    return involved_in_reviews(CarerRelationship.objects.filter(carer__user_id=viewer.pk))


def review_views_for_carer(viewer: Viewer, relationship_id: int
                           ) -> tuple[CarerRelationship, Plan]:
    """The relationship and the care plan whose upcoming review the viewer, as a carer,
    may give views for. Not involved, not theirs, no review scheduled: 404."""
    relationship = (review_views_relationships(viewer)
                    .select_related("carer", "service_user").filter(pk=relationship_id).first())
    plan = (Plan.objects.filter(service_user_id=relationship.service_user_id,
                                kind=PlanKind.CARE_PLAN, next_review_on__isnull=False).first()
            if relationship is not None else None)
    if relationship is None or plan is None:
        raise Http404("No such review.")
    return relationship, plan


def can_read_carer_views(viewer: Viewer, service_user: ServiceUser) -> bool:
    """Carers' views for a review are for the service user's allocated coordinators (who
    hold the review); the service user and others see only whose views came."""
    return record_basis(viewer, service_user) is Basis.ALLOCATED_COORDINATOR


def carer_views_visible_to(viewer: Viewer, queryset: QuerySet[CarerReviewViews] | None = None
                           ) -> QuerySet[CarerReviewViews]:
    """The queryset form of `can_read_carer_views`: views on the viewer's caseload."""
    queryset = CarerReviewViews.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(plan__service_user_id__in=_coordinated_service_user_ids(viewer))
