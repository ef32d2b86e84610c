"""Who may read or manage a service user's record, a team's caseload metadata, and a
service user's carers.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import BooleanField, ExpressionWrapper, Q, QuerySet
from django.http import Http404

from carecoord.audit.request_context import current_request_reads
from carecoord.records.models import PossibleDuplicate, Role, ServiceUser, Team
from carers.models import CarerRelationship
from consent.policy.base import (
    FULL_BASES,
    Basis,
    _allocated_to,
    _full_record_ids,
    _record_predicate,
    _signed_in,
)
from consent.policy.care_team import care_team_records_q

if TYPE_CHECKING:
    from carecoord.records.models import User
    from consent.policy.base import Viewer


# --- Service-user records -------------------------------------------------------------


def records_visible_to(
    viewer: Viewer, queryset: QuerySet[ServiceUser] | None = None
) -> QuerySet[ServiceUser]:
    queryset = ServiceUser.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    # The record's page: its readers in full, and care-team members whose role's row in
    # the table (consent/policy/care_team.py) includes its contact details.
    return queryset.filter(_record_predicate(viewer) | care_team_records_q(viewer))


def records_read_in_full(
    viewer: Viewer, queryset: QuerySet[ServiceUser] | None = None
) -> QuerySet[ServiceUser]:
    """Records the viewer reads as a whole: their own, or those they are allocated to.
    What hangs off a record beyond its page (carers, signposting) is for them only."""
    queryset = ServiceUser.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(pk__in=_full_record_ids(viewer))


def _with_basis(viewer: Viewer, queryset: QuerySet[ServiceUser]) -> QuerySet[ServiceUser]:
    """`records_visible_to`, each row carrying what its basis is worked out from."""
    return records_visible_to(viewer, queryset).annotate(
        basis_own=ExpressionWrapper(Q(user_id=viewer.pk), output_field=BooleanField()),
        basis_allocated=ExpressionWrapper(
            Q(_allocated_to(viewer)), output_field=BooleanField()
        ),
    )


def _basis(own: bool, allocated: bool) -> Basis:
    if own:
        return Basis.SELF
    return Basis.ALLOCATED_COORDINATOR if allocated else Basis.CARE_TEAM


def record_basis(viewer: Viewer, service_user: ServiceUser) -> Basis | None:
    """The basis on which `viewer` may read this record, or None if they may not: the
    queryset rule asked about this one record, so the two can never disagree."""
    if not _signed_in(viewer):
        return None
    row = (
        _with_basis(viewer, ServiceUser.objects.filter(pk=service_user.pk))
        .values_list("basis_own", "basis_allocated")
        .first()
    )
    return None if row is None else _basis(*row)


def reads_in_full(viewer: Viewer, service_user: ServiceUser) -> bool:
    return record_basis(viewer, service_user) in FULL_BASES


def can_view_record(viewer: Viewer, service_user: ServiceUser) -> bool:
    return record_basis(viewer, service_user) is not None


def record_for_viewer(viewer: Viewer, service_user_id: int) -> tuple[ServiceUser, Basis]:
    """The record and the basis it is read on, asked in one query: a record page passes
    the basis on to each part of the page rather than asking again (issue 15)."""
    if not _signed_in(viewer):
        raise Http404("No such record.")
    service_user = _with_basis(
        viewer, ServiceUser.objects.select_related("team", "user").filter(pk=service_user_id)
    ).first()
    if service_user is None:
        raise Http404("No such record.")
    return service_user, _basis(service_user.basis_own, service_user.basis_allocated)


def can_manage_care(viewer: Viewer, service_user: ServiceUser) -> bool:
    """Change the record's details, episodes, carers and invitations: allocated
    coordinators only."""
    return record_basis(viewer, service_user) is Basis.ALLOCATED_COORDINATOR


def record_for_care_manager(viewer: Viewer, service_user_id: int) -> ServiceUser:
    service_user, basis = record_for_viewer(viewer, service_user_id)
    if basis is not Basis.ALLOCATED_COORDINATOR:
        raise Http404("No such record.")
    return service_user


def can_edit_own_details(viewer: Viewer, service_user: ServiceUser) -> bool:
    """A service user may change how they are named and contacted."""
    return record_basis(viewer, service_user) is Basis.SELF


# --- Teams and allocation (metadata) --------------------------------------------------


def teams_managed_by(viewer: Viewer) -> QuerySet[Team]:
    if not _signed_in(viewer) or not viewer.has_role(Role.MANAGER):
        return Team.objects.none()
    return Team.objects.filter(managers=viewer)


def managed_teams(viewer: Viewer) -> dict[int, Team]:
    """The teams `viewer` manages, by id: `teams_managed_by`, read once a request.

    A manager's page asks "is this their team?" five or six times (the view, then each
    part of the page that takes the team and checks it again, issue 15); the answer is
    the same row each time. Kept for the rest of the request only (None outside one: a
    task, a test or the shell reads it again every time)."""
    reads = current_request_reads.get()
    key = ("managed_teams", getattr(viewer, "pk", None))
    if reads is not None and key in reads:
        return reads[key]
    teams = {team.pk: team for team in teams_managed_by(viewer)}
    if reads is not None:
        reads[key] = teams
    return teams


def _team_id(team_id: object) -> int | None:
    try:
        return int(team_id)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return None


def manages_team(viewer: Viewer, team_id: object) -> bool:
    """Whether `viewer` manages the team (the same rule as `teams_managed_by`)."""
    return _team_id(team_id) in managed_teams(viewer)


def can_read_team_reports(viewer: Viewer, team_id: object) -> bool:
    """A team's managers read its reports (metadata only: counts, dates, people's names,
    the basis of each access; never clinical free text), on every surface: the page,
    the CSV and the PDF file."""
    return manages_team(viewer, team_id)


def team_for_manager(viewer: Viewer, team_id: int) -> Team:
    team = managed_teams(viewer).get(_team_id(team_id))
    if team is None:
        raise Http404("No such team.")
    return team


def can_allocate(
    viewer: Viewer, service_user: ServiceUser, basis: Basis | None = None
) -> bool:
    """Allocating or ending a care coordinator's allocation: the team's manager, or a
    care coordinator already allocated (to hand over or to share the work). `basis`:
    the viewer's basis on this record, when the caller has just asked the policy it
    (`record_for_viewer`); otherwise it is asked here."""
    if service_user.team_id in managed_teams(viewer):
        return True
    if basis is None:
        return can_manage_care(viewer, service_user)
    return basis is Basis.ALLOCATED_COORDINATOR


def service_user_for_allocation(viewer: Viewer, service_user_id: int) -> ServiceUser:
    service_user = ServiceUser.objects.select_related("team").filter(pk=service_user_id).first()
    if service_user is None or not can_allocate(viewer, service_user):
        raise Http404("No such record.")
    return service_user


def service_users_in_managed_teams(viewer: Viewer) -> QuerySet[ServiceUser]:
    """Caseload metadata for managers: names and episode dates, never record content."""
    return ServiceUser.objects.filter(team__in=teams_managed_by(viewer))


def may_allocate_coordinator(viewer: Viewer, service_user: ServiceUser, coordinator: User) -> bool:
    """Only coordinators of the service user's team can be allocated."""
    return (
        can_allocate(viewer, service_user)
        and coordinator.has_role(Role.COORDINATOR)
        and service_user.team.coordinators.filter(pk=coordinator.pk).exists()
    )


def can_add_service_user(viewer: Viewer, team: Team) -> bool:
    return (
        _signed_in(viewer)
        and viewer.has_role(Role.COORDINATOR)
        and team.coordinators.filter(pk=viewer.pk).exists()
    )


# --- Possible duplicates (an NHS number on two records) ------------------------------


def possible_duplicates_visible_to(
    viewer: Viewer, queryset: QuerySet[PossibleDuplicate] | None = None
) -> QuerySet[PossibleDuplicate]:
    """The managers of either record's team: they resolve it. Nobody else, not even the
    coordinator whose save found it (that is what keeps the form from telling)."""
    queryset = PossibleDuplicate.objects.all() if queryset is None else queryset
    teams = teams_managed_by(viewer)
    return queryset.filter(Q(service_user__team__in=teams) | Q(other__team__in=teams))


def possible_duplicate_for_manager(viewer: Viewer, duplicate_id: int) -> PossibleDuplicate:
    duplicate = possible_duplicates_visible_to(
        viewer, PossibleDuplicate.objects.select_related("service_user", "other")
    ).filter(pk=duplicate_id).first()
    if duplicate is None:
        raise Http404("No such record.")
    return duplicate


# --- Carers ---------------------------------------------------------------------------


def carer_relationships_visible_to(
    viewer: Viewer, queryset: QuerySet[CarerRelationship] | None = None
) -> QuerySet[CarerRelationship]:
    """A carer sees their own relationships; the service user and their allocated
    coordinators see the service user's carers."""
    queryset = CarerRelationship.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    visible_records = _full_record_ids(viewer)
    return queryset.filter(Q(carer__user_id=viewer.pk) | Q(service_user__in=visible_records))


def carer_relationships_visible_on_basis(
    viewer: Viewer, basis: Basis | None, queryset: QuerySet[CarerRelationship]
) -> QuerySet[CarerRelationship]:
    """`carer_relationships_visible_to` for the relationships of one record (`queryset`)
    the viewer opened on `basis` (`record_for_viewer`). A reader of the whole record sees
    all its carers (the rule's second side, `_full_record_ids`, is what the record's basis
    was found by), so the predicate is not built and asked again; anyone else gets the
    rule itself."""
    if basis in FULL_BASES:
        return queryset
    return carer_relationships_visible_to(viewer, queryset)


def carer_relationship_for_care_manager(viewer: Viewer, relationship_id: int) -> CarerRelationship:
    relationship = (
        CarerRelationship.objects.select_related("carer", "service_user")
        .filter(pk=relationship_id)
        .first()
    )
    if relationship is None or not can_manage_care(viewer, relationship.service_user):
        raise Http404("No such carer.")
    return relationship
