"""Access rules for the carer's own space: their needs, wellbeing check-ins, carer's
assessment requests and "What I know helps".

Part of the one access policy (re-exported by `consent.policy`). Each rule has a
queryset form and a single-object form built on the same predicate. Who sees what:

- the carer: everything in their own space, and nobody else's;
- an allocated care coordinator of a person the carer actively cares for: the needs,
  check-ins and assessment requests the carer shared through THAT relationship (nothing
  shared through another relationship, not even that it exists), and the insights
  about the people they coordinate. A relationship only offered to the carer (not yet
  accepted) gives nothing;
- the service user: the insights about themselves (they are told a carer contributed);
- anyone else (other carers, other coordinators, managers, administrators): nothing,
  answered as 404.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404

from carers.models import (
    AssessmentRequest,
    Carer,
    CarerInsight,
    CarerNeeds,
    CarerRelationship,
    CarerSpaceBasis,
    WellbeingCheckIn,
)
from consent.policy.base import Basis, _coordinated_service_user_ids, _signed_in

if TYPE_CHECKING:
    from consent.policy.base import Viewer

__all__ = [
    "CarerSpaceBasis",
    "assessment_request_for_coordinator",
    "assessment_requests_managed_by",
    "assessment_requests_visible_to",
    "can_manage_assessment_request",
    "can_view_assessment_request",
    "can_view_carer_needs",
    "can_view_carer_space_of",
    "can_view_check_in",
    "can_view_insight",
    "carer_needs_visible_to",
    "carer_space_basis",
    "carer_space_shared_on_record",
    "carers_with_space_visible_to",
    "check_ins_visible_to",
    "insight_for_service_user",
    "insight_for_viewer",
    "insights_visible_to",
    "own_carer_space",
    "own_check_in",
    "shared_with_coordinators",
]


# --- Predicates -------------------------------------------------------------------------


def _cares_for_someone_coordinated(viewer: Viewer, carer_ref: str) -> Exists:
    """The carer (at `carer_ref`) actively cares for someone this viewer coordinates."""
    return Exists(
        CarerRelationship.objects.active().filter(
            carer_id=OuterRef(carer_ref),
            service_user_id__in=_coordinated_service_user_ids(viewer),
        )
    )


def _own(viewer: Viewer, carer_path: str) -> Q:
    return Q(**{f"{carer_path}__user_id": viewer.pk})


def _relationships_coordinated_by(viewer: Viewer, service_user_id: int | None = None
                                  ) -> QuerySet[CarerRelationship]:
    """Active relationships with the people this viewer is allocated to."""
    service_users = _coordinated_service_user_ids(viewer)
    if service_user_id is not None:
        service_users = service_users.filter(episode__service_user_id=service_user_id)
    return CarerRelationship.objects.active().filter(service_user_id__in=service_users)


def shared_with_coordinators(
    model: type[CarerNeeds | WellbeingCheckIn | AssessmentRequest], viewer: Viewer,
    service_user_id: int | None = None,
) -> Q:
    """For a queryset of `model`: what the carer shared through a relationship with
    someone this viewer coordinates (with that person, when `service_user_id` is given).
    The one form of that choice: the coordinators' view of a carer's space and the
    "carer may be struggling" prompt both read it."""
    through = model.shared_with.through
    return Q(Exists(through.objects.filter(
        **{f"{model._meta.model_name}_id": OuterRef("pk")},
        carerrelationship_id__in=_relationships_coordinated_by(
            viewer, service_user_id).values("pk"),
    )))


def _shared_space_predicate(model: type[CarerNeeds | WellbeingCheckIn | AssessmentRequest]
                            ) -> Callable[[Viewer], Q]:
    """Needs, check-ins and assessment requests: the carer's own; or shared by the carer
    through a relationship with someone the viewer coordinates."""
    return lambda viewer: _own(viewer, "carer") | shared_with_coordinators(model, viewer)


def _insight_predicate(viewer: Viewer) -> Q:
    """The carer who wrote it; the allocated coordinator of the person it is about, while
    the carer still cares for them; and that person themselves."""
    return (
        _own(viewer, "relationship__carer")
        | Q(
            relationship__in=CarerRelationship.objects.active(),
            relationship__service_user_id__in=_coordinated_service_user_ids(viewer),
        )
        | Q(relationship__service_user__user_id=viewer.pk)
    )


def _filtered(viewer: Viewer, queryset: QuerySet, predicate) -> QuerySet:
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(predicate(viewer))


# --- The carer's own space --------------------------------------------------------------


def own_carer_space(viewer: Viewer) -> Carer:
    """The viewer's own carer record, whose space this is. Anyone without one: 404."""
    carer = Carer.objects.filter(user_id=viewer.pk).first() if _signed_in(viewer) else None
    if carer is None:
        raise Http404("No such page.")
    return carer


def carers_with_space_visible_to(
    viewer: Viewer, queryset: QuerySet[Carer] | None = None
) -> QuerySet[Carer]:
    """Carers some of whose space the viewer may see: themselves, or the carers (by an
    active, accepted relationship) of the people they coordinate."""
    queryset = Carer.objects.all() if queryset is None else queryset
    return _filtered(
        viewer, queryset,
        lambda v: Q(user_id=v.pk) | Q(_cares_for_someone_coordinated(v, "pk")),
    )


def can_view_carer_space_of(viewer: Viewer, carer: Carer) -> bool:
    return carers_with_space_visible_to(viewer, Carer.objects.filter(pk=carer.pk)).exists()


def carer_space_basis(viewer: Viewer, carer: Carer) -> CarerSpaceBasis | None:
    """The basis on which the viewer reads this carer's space, or None."""
    if not _signed_in(viewer):
        return None
    if carer.user_id is not None and carer.user_id == viewer.pk:
        return CarerSpaceBasis.OWN
    if can_view_carer_space_of(viewer, carer):
        return CarerSpaceBasis.COORDINATOR
    return None


# --- Needs ------------------------------------------------------------------------------


def carer_needs_visible_to(
    viewer: Viewer, queryset: QuerySet[CarerNeeds] | None = None
) -> QuerySet[CarerNeeds]:
    queryset = CarerNeeds.objects.all() if queryset is None else queryset
    return _filtered(viewer, queryset, _shared_space_predicate(CarerNeeds))


def can_view_carer_needs(viewer: Viewer, needs: CarerNeeds) -> bool:
    return carer_needs_visible_to(viewer, CarerNeeds.objects.filter(pk=needs.pk)).exists()


# --- Wellbeing check-ins ----------------------------------------------------------------


def check_ins_visible_to(
    viewer: Viewer, queryset: QuerySet[WellbeingCheckIn] | None = None
) -> QuerySet[WellbeingCheckIn]:
    queryset = WellbeingCheckIn.objects.all() if queryset is None else queryset
    return _filtered(viewer, queryset, _shared_space_predicate(WellbeingCheckIn))


def can_view_check_in(viewer: Viewer, check_in: WellbeingCheckIn) -> bool:
    return check_ins_visible_to(
        viewer, WellbeingCheckIn.objects.filter(pk=check_in.pk)
    ).exists()


def own_check_in(viewer: Viewer, check_in_id: int) -> WellbeingCheckIn:
    """One of the viewer's own check-ins (to change whether it is shared)."""
    check_in = (
        WellbeingCheckIn.objects.filter(pk=check_in_id, carer__user_id=viewer.pk).first()
        if _signed_in(viewer) else None
    )
    if check_in is None:
        raise Http404("No such check-in.")
    return check_in


# --- Carer's assessment requests --------------------------------------------------------


def assessment_requests_visible_to(
    viewer: Viewer, queryset: QuerySet[AssessmentRequest] | None = None
) -> QuerySet[AssessmentRequest]:
    queryset = AssessmentRequest.objects.all() if queryset is None else queryset
    return _filtered(viewer, queryset, _shared_space_predicate(AssessmentRequest))


def can_view_assessment_request(viewer: Viewer, request: AssessmentRequest) -> bool:
    return assessment_requests_visible_to(
        viewer, AssessmentRequest.objects.filter(pk=request.pk)
    ).exists()


def _managed_assessment_predicate(viewer: Viewer, service_user_id: int | None = None) -> Q:
    """Moving a request on (offered, completed): a coordinator of someone the carer
    asked through — through this service user's record, when one is given. Not the
    carer."""
    return shared_with_coordinators(AssessmentRequest, viewer, service_user_id)


def assessment_requests_managed_by(
    viewer: Viewer, queryset: QuerySet[AssessmentRequest] | None = None,
    *, service_user_id: int | None = None,
) -> QuerySet[AssessmentRequest]:
    queryset = AssessmentRequest.objects.all() if queryset is None else queryset
    return _filtered(
        viewer, queryset, lambda v: _managed_assessment_predicate(v, service_user_id)
    )


def can_manage_assessment_request(viewer: Viewer, request: AssessmentRequest) -> bool:
    return assessment_requests_managed_by(
        viewer, AssessmentRequest.objects.filter(pk=request.pk)
    ).exists()


def assessment_request_for_coordinator(
    viewer: Viewer, request_id: int, service_user_id: int
) -> AssessmentRequest:
    """A request the viewer may move on from this service user's record: they are
    allocated to the service user, whom the request's carer actively cares for."""
    request = (
        assessment_requests_managed_by(
            viewer, AssessmentRequest.objects.select_related("carer__user"),
            service_user_id=service_user_id,
        )
        .filter(pk=request_id)
        .first()
    )
    if request is None:
        raise Http404("No such request.")
    return request


# --- "What I know helps" ----------------------------------------------------------------


def insights_visible_to(
    viewer: Viewer, queryset: QuerySet[CarerInsight] | None = None
) -> QuerySet[CarerInsight]:
    queryset = CarerInsight.objects.all() if queryset is None else queryset
    return _filtered(viewer, queryset, _insight_predicate)


def can_view_insight(viewer: Viewer, insight: CarerInsight) -> bool:
    return insights_visible_to(viewer, CarerInsight.objects.filter(pk=insight.pk)).exists()


def insight_for_viewer(viewer: Viewer, insight_id: int) -> tuple[CarerInsight, CarerSpaceBasis]:
    insight = (
        insights_visible_to(
            viewer,
            CarerInsight.objects.select_related(
                "relationship__carer", "relationship__service_user"
            ),
        )
        .filter(pk=insight_id)
        .first()
    )
    if insight is None:
        raise Http404("No such page.")
    relationship = insight.relationship
    if relationship.carer.user_id == viewer.pk:
        basis = CarerSpaceBasis.OWN
    elif relationship.service_user.user_id == viewer.pk:
        basis = CarerSpaceBasis.ABOUT_THEM
    else:
        basis = CarerSpaceBasis.COORDINATOR
    return insight, basis


def insight_for_service_user(viewer: Viewer, insight_id: int) -> CarerInsight:
    """An insight about the viewer themselves (to mark it read)."""
    insight, basis = insight_for_viewer(viewer, insight_id)
    if basis is not CarerSpaceBasis.ABOUT_THEM:
        raise Http404("No such page.")
    return insight


# --- A record's carers, on its record page ----------------------------------------------


def _active_relationships_of(service_user_id: int,
                             relationships: list[CarerRelationship]) -> bool:
    return all(r.service_user_id == service_user_id and r.is_active for r in relationships)


def carer_space_shared_on_record(
    viewer: Viewer, basis: Basis | None, service_user_id: int,
    relationships: list[CarerRelationship],
    model: type[CarerNeeds | WellbeingCheckIn | AssessmentRequest | CarerInsight],
) -> QuerySet:
    """What the carers shared through `relationships` (the needs, check-ins or assessment
    requests shared through them; the insights written through them), for the record of
    `service_user_id` that the viewer opened on `basis` (`record_for_viewer`): each rule's
    queryset form, narrowed to those relationships.

    When the viewer is the record's allocated coordinator and every relationship is an
    active one of that record, each such thing meets its rule through the rule's
    coordinator side (`shared_with_coordinators`; the insight rule's allocated
    coordinator), so the predicate is not built and asked again for the record page's
    carer panels (issue 15). Anyone else, or any other relationship, gets the rule
    itself. Tests check that the two agree (tests/carecoord/test_record_page_on_basis.py)."""
    ids = [r.pk for r in relationships]
    if model is CarerInsight:
        queryset = CarerInsight.objects.filter(relationship_id__in=ids)
        predicate = _insight_predicate
    else:
        queryset = model.objects.filter(shared_with__in=ids).distinct()
        predicate = _shared_space_predicate(model)
    if (basis is Basis.ALLOCATED_COORDINATOR
            and _active_relationships_of(service_user_id, relationships)):
        return queryset if _signed_in(viewer) else queryset.none()
    return _filtered(viewer, queryset, predicate)
