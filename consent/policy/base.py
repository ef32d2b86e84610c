"""What every rule of the policy stands on: who is asking (`Viewer`), the basis written
into the audit trail (`Basis`), and the predicates the rules share. Nothing outside
`consent/policy/` imports this module directly: `consent.policy` re-exports what others need.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet

from carecoord.records.models import Allocation, ServiceUser, User

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    Viewer = User | AnonymousUser


class Basis(StrEnum):
    """Why the policy allowed a read. Written into every access event."""

    SELF = "own record"
    ALLOCATED_COORDINATOR = "allocated care coordinator"
    TEAM_MANAGER = "team manager: caseload details only"
    CARER = "carer relationship: existence only"
    CARER_CONSENT = "shared with them by the service user"
    CARE_TEAM = "care team member: the parts their care-team role allows"
    BREAK_GLASS = "emergency access (break-glass): crisis plan and advance statement"


# The bases on which someone reads a whole record (and may act on it).
FULL_BASES = (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def _signed_in(viewer: Viewer) -> bool:
    return bool(viewer and viewer.is_authenticated and viewer.is_active)


def _active_allocations_of(viewer: Viewer) -> QuerySet[Allocation]:
    return Allocation.objects.active().filter(coordinator_id=viewer.pk)


def _allocated_to(viewer: Viewer, service_user_ref: str = "pk") -> Exists:
    """For a ServiceUser queryset: the viewer is actively allocated to them (for another
    model's queryset, `service_user_ref` names its service user's id)."""
    return Exists(_active_allocations_of(viewer).filter(
        episode__service_user=OuterRef(service_user_ref)))


def _coordinated_service_user_ids(viewer: Viewer) -> QuerySet:
    """The ids of the service users this viewer is actively allocated to."""
    return _active_allocations_of(viewer).values("episode__service_user_id")


def _record_predicate(viewer: Viewer) -> Q:
    """Who may read a service user's record: the person themselves, or an actively
    allocated care coordinator."""
    # `pk IN (the viewer's allocated ids)`, not a correlated EXISTS: the same rows and
    # the same hashed plan, but inside an OR PostgreSQL costs an EXISTS as if run once a
    # row (75,000 instead of 350 over a trust's 6,000 records), and every rule built on
    # this one then crossed the JIT threshold and spent seconds compiling (issue 15).
    return Q(user_id=viewer.pk) | Q(pk__in=_coordinated_service_user_ids(viewer))


def _full_record_ids(viewer: Viewer) -> QuerySet:
    """The ids of the records this viewer reads in full: their own, or those they are
    allocated to (not those they see part of as a care-team member)."""
    return ServiceUser.objects.filter(_record_predicate(viewer)).values("pk")


def coordinators_of(service_user: ServiceUser | int) -> QuerySet[User]:
    """The care coordinators actively allocated to this service user: the same
    allocations that `_allocated_to` reads, seen from the other side."""
    return User.objects.coordinating(service_user)
