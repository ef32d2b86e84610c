"""A care team beyond one coordinator, and emergency ("break-glass") access.

One table says which parts of a record each care-team role may read (`AREAS_BY_ROLE`);
break-glass opens a fixed, smaller set (`BREAK_GLASS_AREAS`). One predicate,
`_granted(viewer, area, field)`, says for which service users the viewer holds an area now
(a current care-team place whose role the table allows, or an unexpired break-glass
access). Every other rule is built on it: the queryset forms the record and plan rules
fold in (`care_team_records_q`, `scoped_plans_q`, `scoped_items_q`) and the one-object
forms (`scoped_basis`, `areas_granted`), so a list and a detail page cannot disagree.
Anything outside the table is not found (404); after a place's end date, or a
break-glass access's expiry, nothing is.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from carecoord.records.models import (
    CARE_TEAM_ROLES,
    Allocation,
    BreakGlassAccess,
    CareTeamMember,
    CareTeamRole,
    ServiceUser,
)
from consent.policy.base import FULL_BASES, Basis, _one_of, _signed_in
from plans.sections import PlanKind

if TYPE_CHECKING:
    from carecoord.records.models import User
    from consent.policy.base import Viewer


class Area(StrEnum):
    """A part of a record the care-team table hands out."""

    CONTACTS = "contacts"  # the record's page: name, contact details, episodes, care team
    CARE_PLAN = "care_plan"  # the care plan, outside its crisis section
    CRISIS_PLAN = "crisis_plan"  # the crisis and contingency plan, but its advance statement
    ADVANCE_STATEMENT = "advance_statement"  # treatment preferences and refusals


# The table. A role not listed sees nothing; an area not in a role's set is a 404 for it.
AREAS_BY_ROLE: dict[str, frozenset[Area]] = {
    CareTeamRole.PSYCHIATRIST: frozenset(
        {Area.CONTACTS, Area.CARE_PLAN, Area.CRISIS_PLAN, Area.ADVANCE_STATEMENT}),
    CareTeamRole.DUTY_WORKER: frozenset({Area.CONTACTS, Area.CRISIS_PLAN}),
    CareTeamRole.CRISIS_TEAM: frozenset(
        {Area.CONTACTS, Area.CRISIS_PLAN, Area.ADVANCE_STATEMENT}),
    CareTeamRole.PSYCHOLOGIST: frozenset({Area.CONTACTS, Area.CARE_PLAN}),
    CareTeamRole.OTHER: frozenset({Area.CONTACTS}),
}

# Emergency access opens the crisis plan and the advance statement, nothing else (not
# even the record's page).
BREAK_GLASS_AREAS: frozenset[Area] = frozenset({Area.CRISIS_PLAN, Area.ADVANCE_STATEMENT})

CRISIS_SECTION = "crisis"
ADVANCE_STATEMENT_PROMPT = "advance_statement"


@dataclass(frozen=True)
class ItemArea:
    """Which plan items make up an area: one description, read both as a query (lists)
    and against a frozen version's entry (PDFs, version pages)."""

    kind: str
    section: str | None = None
    not_section: str | None = None
    prompt: str | None = None
    not_prompt: str | None = None

    def q(self, plan: str = "plan__") -> Q:
        condition = Q(**{f"{plan}kind": self.kind})
        if self.section is not None:
            condition &= Q(section=self.section)
        if self.not_section is not None:
            condition &= ~Q(section=self.not_section)
        if self.prompt is not None:
            condition &= Q(prompt=self.prompt)
        if self.not_prompt is not None:
            condition &= ~Q(prompt=self.not_prompt)
        return condition

    def matches(self, *, kind: str, section: str, prompt: str) -> bool:
        return (
            kind == self.kind
            and (self.section is None or section == self.section)
            and (self.not_section is None or section != self.not_section)
            and (self.prompt is None or prompt == self.prompt)
            and (self.not_prompt is None or prompt != self.not_prompt)
        )


ITEM_AREAS: dict[Area, ItemArea] = {
    Area.CARE_PLAN: ItemArea(kind=PlanKind.CARE_PLAN, not_section=CRISIS_SECTION),
    Area.CRISIS_PLAN: ItemArea(kind=PlanKind.CARE_PLAN, section=CRISIS_SECTION,
                               not_prompt=ADVANCE_STATEMENT_PROMPT),
    Area.ADVANCE_STATEMENT: ItemArea(kind=PlanKind.CARE_PLAN, section=CRISIS_SECTION,
                                     prompt=ADVANCE_STATEMENT_PROMPT),
}


def roles_seeing(area: Area) -> list[str]:
    return [role for role, areas in AREAS_BY_ROLE.items() if area in areas]


def _is_staff(viewer: Viewer) -> bool:
    return _signed_in(viewer) and any(viewer.has_role(role) for role in CARE_TEAM_ROLES)


# --- The one predicate ----------------------------------------------------------------


def _care_team_places(viewer: Viewer, area: Area) -> QuerySet[CareTeamMember]:
    """The viewer's care-team places in force today whose role the table lets see `area`."""
    return CareTeamMember.objects.current().filter(
        member_id=viewer.pk, care_team_role__in=roles_seeing(area))


def _break_glass(viewer: Viewer, area: Area) -> QuerySet[BreakGlassAccess]:
    if area not in BREAK_GLASS_AREAS:
        return BreakGlassAccess.objects.none()
    return BreakGlassAccess.objects.active().filter(professional_id=viewer.pk)


def _granted(viewer: Viewer, area: Area, field: str, *,
             basis: Basis | None = None) -> Q:
    """For a queryset whose `field` is a service user: the viewer holds `area` of that
    service user's record now (by `basis`: the care team, break-glass, or either)."""
    if not _is_staff(viewer):
        return Q(pk__in=[])
    condition = Q(pk__in=[])
    if basis in (None, Basis.CARE_TEAM):
        places = _care_team_places(viewer, area).values("service_user_id")
        condition |= _one_of(field, places)
    if basis in (None, Basis.BREAK_GLASS):
        accesses = _break_glass(viewer, area).values("service_user_id")
        condition |= _one_of(field, accesses)
    return condition


# --- Queryset forms (folded into the record and plan rules) ----------------------------


def care_team_records_q(viewer: Viewer) -> Q:
    """For a ServiceUser queryset: records whose page (contact details) the viewer's
    care-team place lets them open."""
    return _granted(viewer, Area.CONTACTS, "pk")


def scoped_plans_q(viewer: Viewer) -> Q:
    """For a Plan queryset: plans holding an area the viewer holds (the page then shows
    only the items of those areas)."""
    condition = Q(pk__in=[])
    for area, item_area in ITEM_AREAS.items():
        condition |= Q(kind=item_area.kind) & _granted(viewer, area, "service_user")
    return condition


def scoped_items_q(viewer: Viewer) -> Q:
    """For a PlanItem queryset: items in an area the viewer holds."""
    condition = Q(pk__in=[])
    for area, item_area in ITEM_AREAS.items():
        condition |= item_area.q() & _granted(viewer, area, "plan__service_user")
    return condition


# --- One-object forms, from the same predicate ----------------------------------------


def areas_granted(viewer: Viewer, service_user_id: int,
                  *, basis: Basis | None = None) -> set[Area]:
    one = ServiceUser.objects.filter(pk=service_user_id)
    return {area for area in Area
            if one.filter(_granted(viewer, area, "pk", basis=basis)).exists()}


def scoped_basis(viewer: Viewer, service_user_id: int,
                 areas: frozenset[Area] | set[Area]) -> Basis | None:
    """CARE_TEAM if a care-team place gives the viewer one of `areas` of this record now,
    else BREAK_GLASS if an emergency access does, else None."""
    one = ServiceUser.objects.filter(pk=service_user_id)
    for basis in (Basis.CARE_TEAM, Basis.BREAK_GLASS):
        condition = Q(pk__in=[])
        for area in areas:
            condition |= _granted(viewer, area, "pk", basis=basis)
        if one.filter(condition).exists():
            return basis
    return None


def plan_areas(kind: str) -> frozenset[Area]:
    return frozenset(area for area, item_area in ITEM_AREAS.items() if item_area.kind == kind)


def area_of_entry(*, kind: str, entry: dict) -> Area | None:
    """The area a frozen version's entry (or an item) belongs to, if any."""
    for area, item_area in ITEM_AREAS.items():
        if item_area.matches(kind=kind, section=entry.get("section", ""),
                             prompt=entry.get("prompt", "")):
            return area
    return None


# --- Who manages a care team, and who may join it -------------------------------------


def _allocated(viewer: Viewer, service_user: ServiceUser) -> bool:
    return Allocation.objects.active().filter(
        coordinator_id=viewer.pk, episode__service_user=service_user).exists()


def can_manage_care_team(
    viewer: Viewer, service_user: ServiceUser, basis: Basis | None = None
) -> bool:
    """Adding and ending care-team places: an allocated care coordinator, or the team's
    manager. Never a care-team member (they are neither). `basis`: the viewer's basis
    on this record when the caller has just asked the policy it (`record_for_viewer`),
    so that whether they are allocated is not asked twice."""
    if not _signed_in(viewer):
        return False
    allocated = (
        _allocated(viewer, service_user) if basis is None
        else basis is Basis.ALLOCATED_COORDINATOR
    )
    return allocated or service_user.team.managers.filter(pk=viewer.pk).exists()


def service_user_for_care_team(viewer: Viewer, service_user_id: int) -> ServiceUser:
    service_user = ServiceUser.objects.select_related("team").filter(pk=service_user_id).first()
    if service_user is None or not can_manage_care_team(viewer, service_user):
        raise Http404("No such record.")
    return service_user


def may_join_care_team(viewer: Viewer, service_user: ServiceUser, member: User) -> bool:
    """Who may be named: an active professional or care coordinator, not the person
    adding them (nobody adds themselves to a record's care team), not the service user."""
    return (
        can_manage_care_team(viewer, service_user)
        and member.pk != viewer.pk
        and member.is_active
        and any(member.has_role(role) for role in CARE_TEAM_ROLES)
        and member.pk != service_user.user_id
    )


def care_team_place_for_change(viewer: Viewer, place_id: int) -> CareTeamMember:
    place = (CareTeamMember.objects.select_related("service_user__team", "member")
             .open().filter(pk=place_id).first())
    if place is None or not can_manage_care_team(viewer, place.service_user):
        raise Http404("No such care team member.")
    return place


def can_see_care_team(viewer: Viewer, service_user: ServiceUser,
                      basis: Basis | None = None) -> bool:
    """Who is on someone's care team: the person themselves, whoever manages the care
    team, and the care team's own members while they are on it. `basis`: the viewer's
    basis on this record when the caller has just asked the policy it
    (`record_for_viewer`): the person and their allocated coordinators (who manage the
    care team) are then not asked again."""
    if not _signed_in(viewer):
        return False
    if basis in FULL_BASES:
        return True
    return (
        service_user.user_id == viewer.pk
        or can_manage_care_team(viewer, service_user)
        or CareTeamMember.objects.current().filter(
            member_id=viewer.pk, service_user=service_user).exists()
    )


# --- Break-glass ----------------------------------------------------------------------


def can_use_break_glass(viewer: Viewer) -> bool:
    """The emergency access form: professionals and care coordinators only."""
    return _is_staff(viewer)


def break_glass_refusal(viewer: Viewer, service_user: ServiceUser) -> str | None:
    """Why this viewer may not use emergency access to this record (None if they may):
    it is for staff who are not already in the person's care."""
    if not _is_staff(viewer):
        return "Emergency access is for care coordinators and care team professionals."
    if service_user.user_id == viewer.pk:
        return "This is your own record."
    if _allocated(viewer, service_user):
        return "You are this person's care coordinator: open their record from your caseload."
    if CareTeamMember.objects.current().filter(member_id=viewer.pk,
                                              service_user=service_user).exists():
        return "You are on this person's care team: open their record from your home page."
    return None
