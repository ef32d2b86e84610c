"""What every rule of the policy stands on: who is asking (`Viewer`), the basis written
into the audit trail (`Basis`), and the predicates the rules share. Nothing outside
`consent/policy/` imports this module directly: `consent.policy` re-exports what others need.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, Lookup, OuterRef, Q, QuerySet

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


class _AnyOfArray(Lookup):
    """`lhs = ANY(ARRAY(sub-query))` on PostgreSQL (see `_one_of`); `lhs IN (sub-query)`,
    the same rows, on the demo's SQLite, which has no arrays."""

    lookup_name = "any_of_array"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        subquery, subquery_params = self.rhs.query.as_sql(compiler, connection)
        return f"{lhs} IN {subquery}", (*lhs_params, *subquery_params)

    def as_postgresql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


def _one_of(lookup: str, ids: QuerySet) -> Q:
    """`lookup` is one of `ids` (a one-column queryset of the viewer's own rows): the same
    rows as `Q(lookup__in=ids)`, written `= ANY(ARRAY(sub-query))`. PostgreSQL then runs
    the sub-query once, first (an InitPlan), and looks its few values up in the column's
    index, even when this is one side of an OR (a BitmapOr of index scans). `IN (sub-query)`
    inside an OR becomes a hashed sub-plan tested against every row of the table: a
    carer's 25 shared items were found by reading all 500,000 plan items (issue 15)."""
    return Q(_AnyOfArray(F(lookup), ArraySubquery(ids.order_by())))


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
    # The allocated ids as `= ANY(ARRAY(...))` (`_one_of`), not a correlated EXISTS:
    # inside an OR PostgreSQL costs an EXISTS as if run once a row (75,000 instead of 350
    # over a trust's 6,000 records), and every rule built on this one then crossed the JIT
    # threshold and read whole tables (issue 15).
    return Q(user_id=viewer.pk) | _one_of("pk", _coordinated_service_user_ids(viewer))


def _full_record_ids(viewer: Viewer) -> QuerySet:
    """The ids of the records this viewer reads in full: their own, or those they are
    allocated to (not those they see part of as a care-team member). `_record_predicate`
    as a UNION of its two sides, each an index lookup on the viewer's own rows (the OR
    of them tests every service user of the trust)."""
    own = ServiceUser.objects.filter(user_id=viewer.pk).order_by().values("pk")
    return own.union(_coordinated_service_user_ids(viewer).order_by())


def coordinators_of(service_user: ServiceUser | int) -> QuerySet[User]:
    """The care coordinators actively allocated to this service user: the same
    allocations that `_allocated_to` reads, seen from the other side."""
    return User.objects.coordinating(service_user)
