"""The one access policy: the only code that decides who may see or change what.

Each rule comes in two forms built on one predicate — a queryset filter ("which may
this person see?") and a check on one object ("may they see this one?") — so list and
detail pages can never disagree. Anything not allowed is reported as not found (404),
the same answer as for something that does not exist, so existence never leaks.

Until the consent issue lands, carers see only that a relationship exists: no record
content. Managers see team metadata (caseloads), never a record's content unless they
are also allocated to it. Administrators get no special access to records.
"""

from __future__ import annotations

from enum import StrEnum
from typing import TYPE_CHECKING

from django.db.models import Exists, OuterRef, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from carecoord.models import Allocation, Export, Role, ServiceUser, Team
from carers.models import Carer, CarerRelationship
from consent.models import PlanItemUserObjectPermission
from plans.models import Plan, PlanItem, PlanVersion, RequiredSigner
from plans.sections import ItemType, PlanKind
from plans.sections import section as section_for

if TYPE_CHECKING:
    from django.contrib.auth.models import AnonymousUser

    from carecoord.models import User

    Viewer = User | AnonymousUser


class Basis(StrEnum):
    """Why the policy allowed a read. Written into every access event."""

    SELF = "own record"
    ALLOCATED_COORDINATOR = "allocated care coordinator"
    TEAM_MANAGER = "team manager: caseload details only"
    CARER = "carer relationship: existence only"
    CARER_CONSENT = "shared with them by the service user"


def _signed_in(viewer: Viewer) -> bool:
    return bool(viewer and viewer.is_authenticated and viewer.is_active)


def _allocated_to(viewer: Viewer) -> Exists:
    return Exists(
        Allocation.objects.active().filter(
            episode__service_user=OuterRef("pk"), coordinator_id=viewer.pk
        )
    )


def _record_predicate(viewer: Viewer) -> Q:
    """Who may read a service user's record: the person themselves, or an actively
    allocated care coordinator."""
    return Q(user_id=viewer.pk) | Q(_allocated_to(viewer))


# --- Service-user records -------------------------------------------------------------


def records_visible_to(
    viewer: Viewer, queryset: QuerySet[ServiceUser] | None = None
) -> QuerySet[ServiceUser]:
    queryset = ServiceUser.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_record_predicate(viewer))


def record_basis(viewer: Viewer, service_user: ServiceUser) -> Basis | None:
    """The basis on which `viewer` may read this record, or None if they may not."""
    if not _signed_in(viewer):
        return None
    if service_user.user_id is not None and service_user.user_id == viewer.pk:
        return Basis.SELF
    if Allocation.objects.active().filter(
        episode__service_user=service_user, coordinator_id=viewer.pk
    ).exists():
        return Basis.ALLOCATED_COORDINATOR
    return None


def can_view_record(viewer: Viewer, service_user: ServiceUser) -> bool:
    return record_basis(viewer, service_user) is not None


def record_for_viewer(viewer: Viewer, service_user_id: int) -> tuple[ServiceUser, Basis]:
    service_user = (
        records_visible_to(viewer, ServiceUser.objects.select_related("team", "user"))
        .filter(pk=service_user_id)
        .first()
    )
    basis = record_basis(viewer, service_user) if service_user else None
    if service_user is None or basis is None:
        raise Http404("No such record.")
    return service_user, basis


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


def team_for_manager(viewer: Viewer, team_id: int) -> Team:
    team = teams_managed_by(viewer).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team


def can_allocate(viewer: Viewer, service_user: ServiceUser) -> bool:
    """Allocating or ending a care coordinator's allocation: the team's manager, or a
    care coordinator already allocated (to hand over or to share the work)."""
    return (
        teams_managed_by(viewer).filter(pk=service_user.team_id).exists()
        or can_manage_care(viewer, service_user)
    )


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


# --- Carers ---------------------------------------------------------------------------


def carer_relationships_visible_to(
    viewer: Viewer, queryset: QuerySet[CarerRelationship] | None = None
) -> QuerySet[CarerRelationship]:
    """A carer sees their own relationships; the service user and their allocated
    coordinators see the service user's carers."""
    queryset = CarerRelationship.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    visible_records = records_visible_to(viewer).values("pk")
    return queryset.filter(Q(carer__user_id=viewer.pk) | Q(service_user__in=visible_records))


def carer_relationship_for_care_manager(viewer: Viewer, relationship_id: int) -> CarerRelationship:
    relationship = (
        CarerRelationship.objects.select_related("carer", "service_user")
        .filter(pk=relationship_id)
        .first()
    )
    if relationship is None or not can_manage_care(viewer, relationship.service_user):
        raise Http404("No such carer.")
    return relationship


# --- Plans ----------------------------------------------------------------------------
# Until the consent issue lands, plan content is open to the record's readers (the
# service user and their allocated care coordinators), and a version to the people named
# on it as signers (a carer who holds a responsibility signs the agreement).


def plans_visible_to(viewer: Viewer, queryset: QuerySet[Plan] | None = None) -> QuerySet[Plan]:
    queryset = Plan.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(service_user__in=records_visible_to(viewer).values("pk"))


def plan_for_viewer(viewer: Viewer, plan_id: int) -> tuple[Plan, Basis]:
    plan = (
        plans_visible_to(viewer, Plan.objects.select_related("service_user__team"))
        .filter(pk=plan_id)
        .first()
    )
    basis = record_basis(viewer, plan.service_user) if plan else None
    if plan is None or basis is None:
        raise Http404("No such plan.")
    return plan, basis


def _shared_with(viewer: Viewer) -> Q:
    """Items the service user shared with this carer: a live grant (not expired) in the
    direct permission table, while the carer relationship is active. One indexed query."""
    today = timezone.localdate()
    grant = PlanItemUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user_id=viewer.pk,
        permission__codename="view_planitem", permission__content_type__app_label="plans",
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    relationship = CarerRelationship.objects.active().filter(
        carer__user_id=viewer.pk, service_user=OuterRef("plan__service_user")
    )
    return Q(Exists(grant)) & Q(Exists(relationship)) & Q(removed_at__isnull=True)


def items_visible_to(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Items of plans the viewer may read as a whole, plus items shared with them."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(
        Q(plan__in=plans_visible_to(viewer).values("pk")) | _shared_with(viewer)
    )


def items_shared_with(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Only the items shared with `viewer` as a carer (the carer's view, and its preview)."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_shared_with(viewer))


def item_for_viewer(
    viewer: Viewer, item_id: int, *, include_removed: bool = False
) -> tuple[PlanItem, Basis]:
    items = items_visible_to(viewer, PlanItem.objects.select_related("plan__service_user__team"))
    if not include_removed:
        items = items.filter(removed_at__isnull=True)
    item = items.filter(pk=item_id).first()
    basis = None
    if item is not None:
        basis = record_basis(viewer, item.plan.service_user)
        if basis is None and items_shared_with(viewer).filter(pk=item.pk).exists():
            basis = Basis.CARER_CONSENT
    if item is None or basis is None:
        raise Http404("No such item.")
    return item, basis


def sharing_decision_id(viewer: Viewer, item: PlanItem) -> int | None:
    """The consent decision that lets this carer read this item (for the audit trail)."""
    grant = PlanItemUserObjectPermission.objects.filter(
        content_object=item, user_id=viewer.pk
    ).values_list("decision_id", flat=True).first()
    return grant


def _carer_ids_for(viewer: Viewer, service_user_id: int | None = None) -> list[int]:
    """The viewer's carer records with an active relationship (to this service user)."""
    relationships = CarerRelationship.objects.active().filter(carer__user_id=viewer.pk)
    if service_user_id is not None:
        relationships = relationships.filter(service_user_id=service_user_id)
    return list(relationships.values_list("carer_id", flat=True))


def versions_visible_to(
    viewer: Viewer, queryset: QuerySet[PlanVersion] | None = None
) -> QuerySet[PlanVersion]:
    """Versions of plans the viewer may read; responsibility agreements that name the
    viewer as a carer who must sign, while they still care for that person; and, for a
    carer, versions of plans with something shared with them (they read only the shared
    entries: version_entries_visible_to)."""
    queryset = PlanVersion.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    named_signer = RequiredSigner.objects.filter(
        version=OuterRef("pk"), role=RequiredSigner.Role.CARER, carer__user_id=viewer.pk,
    )
    still_caring = CarerRelationship.objects.active().filter(
        carer__user_id=viewer.pk, service_user=OuterRef("plan__service_user")
    )
    something_shared = PlanItem.objects.filter(plan=OuterRef("plan")).filter(
        _shared_with(viewer))
    return queryset.filter(
        Q(plan__in=plans_visible_to(viewer).values("pk"))
        | (Q(Exists(named_signer)) & Q(Exists(still_caring)))
        | Q(Exists(something_shared))
    )


def version_entries_visible_to(viewer: Viewer, version: PlanVersion) -> list[dict]:
    """The entries of a version's frozen snapshot this viewer may read: all of them for
    the record's readers; for a carer named on a responsibility agreement, the
    responsibilities they hold and what is shared with them now — nothing else."""
    if can_view_record(viewer, version.plan.service_user):
        return list(version.snapshot)
    relationship_ids = set(
        CarerRelationship.objects.active()
        .filter(carer__user_id=viewer.pk, service_user_id=version.plan.service_user_id)
        .values_list("pk", flat=True)
    )
    if not relationship_ids:
        return []
    shared = set(items_shared_with(viewer, PlanItem.objects.filter(plan_id=version.plan_id))
                 .values_list("pk", flat=True))
    return [
        entry for entry in version.snapshot
        if entry["id"] in shared
        or ((entry.get("details") or {}).get("holder") == "carer"
            and (entry.get("details") or {}).get("holder_relationship") in relationship_ids)
    ]


def version_basis_for_carer(viewer: Viewer, version: PlanVersion) -> str:
    """Why a carer may open this version, for the audit trail."""
    if RequiredSigner.objects.filter(version=version, role=RequiredSigner.Role.CARER,
                                     carer__user_id=viewer.pk).exists():
        return "carer named as holding a responsibility"
    return str(Basis.CARER_CONSENT)


def can_read_signature_reasons(viewer: Viewer, version: PlanVersion) -> bool:
    """Why someone did not sign is their own words about the whole plan: for the
    record's readers only, never for a carer who sees part of it."""
    return can_view_record(viewer, version.plan.service_user)


def version_for_viewer(viewer: Viewer, version_id: int) -> PlanVersion:
    version = (
        versions_visible_to(viewer, PlanVersion.objects.select_related("plan__service_user"))
        .filter(pk=version_id)
        .first()
    )
    if version is None:
        raise Http404("No such version.")
    return version


def can_edit_item(viewer: Viewer, item: PlanItem) -> bool:
    """WRAP content is the service user's alone. On a care plan the service user edits
    their own-words sections and their goals; the care coordinator edits everything.
    A responsibility agreement is negotiated: both edit it."""
    return can_edit_section(viewer, item.plan, item.section)


def can_edit_section(viewer: Viewer, plan: Plan, section_code: str) -> bool:
    basis = record_basis(viewer, plan.service_user)
    if basis is None:
        return False
    if plan.kind == PlanKind.WRAP:
        return basis is Basis.SELF
    if plan.kind == PlanKind.RESPONSIBILITY_AGREEMENT:
        return basis in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)
    if basis is Basis.ALLOCATED_COORDINATOR:
        return True
    section = section_for(plan.kind, section_code)
    return basis is Basis.SELF and (section.own_words or section.item_type == ItemType.GOAL)


def can_suggest(viewer: Viewer, plan: Plan) -> bool:
    """A care coordinator may suggest changes to a WRAP; only its owner applies them."""
    return (
        plan.kind == PlanKind.WRAP
        and record_basis(viewer, plan.service_user) is Basis.ALLOCATED_COORDINATOR
    )


def can_start_plan(viewer: Viewer, service_user: ServiceUser) -> bool:
    """The service user and their allocated care coordinators may start any plan kind
    (a coordinator may start an empty WRAP for its owner to write)."""
    return record_basis(viewer, service_user) in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_propose_version(viewer: Viewer, plan: Plan) -> bool:
    return record_basis(viewer, plan.service_user) in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_record_review(viewer: Viewer, plan: Plan) -> bool:
    return (
        plan.kind == PlanKind.CARE_PLAN
        and record_basis(viewer, plan.service_user) is Basis.ALLOCATED_COORDINATOR
    )


def goal_party(viewer: Viewer, item: PlanItem) -> str | None:
    """Which side of a goal's agreement this viewer speaks for, if any."""
    return goal_party_for_basis(record_basis(viewer, item.plan.service_user))


def goal_party_for_basis(basis: Basis | None) -> str | None:
    """The same answer from a basis already known (one plan: one answer for every goal)."""
    if basis is Basis.SELF:
        return "service_user"
    if basis is Basis.ALLOCATED_COORDINATOR:
        return "coordinator"
    return None


def signer_role(viewer: Viewer, version: PlanVersion) -> str | None:
    """The role in which `viewer` may sign this version, if they are one of its signers:
    the service user, an actively allocated care coordinator, or a named carer."""
    if not _signed_in(viewer):
        return None
    signers = list(version.required_signers.all())
    roles = {signer.role for signer in signers}
    basis = record_basis(viewer, version.plan.service_user)
    if basis is Basis.SELF and RequiredSigner.Role.SERVICE_USER in roles:
        return RequiredSigner.Role.SERVICE_USER
    if basis is Basis.ALLOCATED_COORDINATOR and RequiredSigner.Role.COORDINATOR in roles:
        return RequiredSigner.Role.COORDINATOR
    carer_ids = set(_carer_ids_for(viewer, version.plan.service_user_id))
    if any(s.role == RequiredSigner.Role.CARER and s.carer_id in carer_ids for s in signers):
        return RequiredSigner.Role.CARER
    return None


# --- Consent ----------------------------------------------------------------------------


def can_decide_consent(viewer: Viewer, service_user: ServiceUser) -> bool:
    """The service user decides; an allocated care coordinator may record a decision on
    their behalf, with the basis, which the service user sees and can change."""
    return record_basis(viewer, service_user) in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_change_consent_by_api(viewer: Viewer, service_user: ServiceUser) -> bool:
    """Through the API, consent is the service user's to change; their coordinator reads."""
    return record_basis(viewer, service_user) is Basis.SELF


def carer_of_record(viewer: Viewer, service_user: ServiceUser, relationship_id: int
                    ) -> CarerRelationship:
    """An active carer relationship of a record the viewer may decide consent for."""
    relationship = (
        CarerRelationship.objects.active().select_related("carer__user")
        .filter(pk=relationship_id, service_user=service_user).first()
    )
    if relationship is None or not can_decide_consent(viewer, service_user):
        raise Http404("No such carer.")
    return relationship


def relationship_of_carer(viewer: Viewer, relationship_id: int) -> CarerRelationship:
    """One of the viewer's own active relationships as a carer."""
    relationship = (
        CarerRelationship.objects.active().select_related("service_user", "carer")
        .filter(pk=relationship_id, carer__user_id=viewer.pk).first()
        if _signed_in(viewer) else None
    )
    if relationship is None:
        raise Http404("No such person.")
    return relationship


def carer_for_viewer(viewer: Viewer) -> Carer | None:
    return Carer.objects.filter(user_id=viewer.pk).first() if _signed_in(viewer) else None


# --- The carer's own space (consent/policy/carer_space.py) ------------------------------
from consent.policy.carer_space import (  # noqa: E402, F401 (re-exported)
    CarerSpaceBasis,
    assessment_request_for_coordinator,
    assessment_requests_managed_by,
    assessment_requests_visible_to,
    can_manage_assessment_request,
    can_view_assessment_request,
    can_view_carer_needs,
    can_view_carer_space_of,
    can_view_check_in,
    can_view_insight,
    carer_needs_visible_to,
    carer_space_basis,
    carers_with_space_visible_to,
    check_ins_visible_to,
    insight_for_service_user,
    insight_for_viewer,
    insights_visible_to,
    own_carer_space,
    own_check_in,
)

# --- Peer support, signposting and stories (consent/policy/peersupport.py) ------------
from consent.policy.peersupport import (  # noqa: E402, F401 (re-exported)
    can_edit_story,
    can_manage_offers,
    can_moderate_story,
    can_record_signposting,
    can_submit_story,
    can_view_story,
    can_withdraw_story,
    can_write_story,
    is_story_moderator,
    offer_for_editor,
    offer_for_viewer,
    offers_visible_to,
    signposting_for_viewer,
    signposting_record_for_viewer,
    signposting_visible_to,
    stories_to_moderate,
    stories_visible_to,
    story_for_moderator,
    story_for_viewer,
)

# --- Exports ------------------------------------------------------------------------------


def exports_visible_to(viewer: Viewer) -> QuerySet[Export]:
    """A person sees only the exports they asked for."""
    if not _signed_in(viewer):
        return Export.objects.none()
    return Export.objects.filter(requested_by_id=viewer.pk)


def export_for_viewer(viewer: Viewer, export_id: int) -> Export:
    export = exports_visible_to(viewer).filter(pk=export_id).first()
    if export is None:
        raise Http404("No such file.")
    return export


def export_downloadable(viewer: Viewer, export_id: int) -> Export:
    """A ready export whose contents the viewer may still see, all of it, now."""
    from carecoord.exports import STILL_ALLOWED  # registered by the apps that render

    export = export_for_viewer(viewer, export_id)
    check = STILL_ALLOWED.get(export.kind)
    if export.status != Export.Status.READY or check is None or not check(export, viewer):
        raise Http404("No such file.")
    return export
