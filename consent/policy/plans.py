"""Who may read, edit, propose, sign and review plans, their items and versions; and which
items each carer may read (what the service user shared with them).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import (
    BooleanField,
    Case,
    CharField,
    Exists,
    ExpressionWrapper,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.http import Http404
from django.utils import timezone

from carecoord.records.models import ServiceUser
from carers.models import CarerRelationship
from consent.grants import PlanItemUserObjectPermission, view_item_permission_id
from consent.policy.base import (
    FULL_BASES,
    Basis,
    _allocated_to,
    _full_record_ids,
    _one_of,
    _signed_in,
)
from consent.policy.care_team import (
    area_of_entry,
    areas_granted,
    plan_areas,
    scoped_basis,
    scoped_items_q,
    scoped_plans_q,
)
from consent.policy.records import (
    reads_in_full,
    record_basis,
    record_for_care_manager,
)
from plans.models import Plan, PlanItem, PlanVersion, RequiredSigner, Signature
from plans.sections import ItemType, PlanKind
from plans.sections import section as section_for
from plans.services import version_open_for_answers

if TYPE_CHECKING:
    from consent.policy.base import Viewer


# --- Plans ----------------------------------------------------------------------------
# A plan and all its items are open to the record's readers (the service user and their
# allocated care coordinators). A care-team member, or a professional using emergency
# access, reads a care plan's items in the areas the table gives them (care_team.py),
# nothing else. A carer reads only the items shared with them (consent decisions,
# materialised as grants), and a version's entries that are shared with them or that
# name them as holding a responsibility (they sign the agreement).
#
# Every basis names its rows through ids the viewer's own rows give (their record and
# allocations, care-team places, emergency accesses, carer relationships, grants), each
# written `_one_of` (`= ANY(ARRAY(...))`, base.py): PostgreSQL works those few ids out
# first, then finds the plans of the people concerned through the service-user index (a
# BitmapOr, one index scan a basis) and their items through the plan index. Written as
# `IN (sub-query)` or correlated EXISTS inside an OR, each basis became a sub-plan tested
# against every row: a carer's 25 items were found by reading all 500,000 plan items of
# a trust (0.5 s, slower than django-guardian's generic query; issue 15).


def _cared_for_ids(viewer: Viewer) -> QuerySet:
    """The ids of the service users the viewer cares for now (an active relationship)."""
    return (CarerRelationship.objects.active().filter(carer__user_id=viewer.pk)
            .values("service_user_id"))


def plans_visible_to(viewer: Viewer, queryset: QuerySet[Plan] | None = None) -> QuerySet[Plan]:
    queryset = Plan.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(
        _one_of("service_user", _full_record_ids(viewer)) | scoped_plans_q(viewer))


def plans_visible_on_basis(
    viewer: Viewer, basis: Basis | None, queryset: QuerySet[Plan]
) -> QuerySet[Plan]:
    """`plans_visible_to` for the plans of one record (`queryset`) opened on `basis`
    (`record_for_viewer`). A reader of the whole record reads all its plans (the rule's
    first basis, `_full_record_ids`, is what the record's basis was found by), so the
    predicate is not built and asked again for them; anyone else gets the rule itself."""
    if basis in FULL_BASES:
        return queryset
    return plans_visible_to(viewer, queryset)


def plan_basis(viewer: Viewer, plan: Plan) -> Basis | None:
    """Why the viewer may open this plan: as one of the record's readers, or for the areas
    of it their care-team place or emergency access gives them."""
    basis = record_basis(viewer, plan.service_user)
    if basis in FULL_BASES:
        return basis
    return scoped_basis(viewer, plan.service_user_id, plan_areas(plan.kind))


def plan_for_viewer(viewer: Viewer, plan_id: int) -> tuple[Plan, Basis]:
    """The plan and `plan_basis` for it, in one query for the record's readers.

    `plans_visible_to` for one plan, asked side by side: the plan comes with whether the
    viewer is the person or allocated to them (the two sides of `_full_record_ids`, the
    rule's first basis, by the predicates `record_basis` asks); only if neither is asked
    the rule's other basis, `scoped_plans_q` for this plan, which is `scoped_basis` for
    the areas of its kind. Building the whole predicate (a care-team and an emergency
    sub-query for each area) for every coordinator's page was a sixth of it (issue 15);
    tests check that the two agree for every viewer (tests/plans/test_plan_page_scale.py)."""
    if not _signed_in(viewer):
        raise Http404("No such plan.")
    plan = (
        Plan.objects.select_related("service_user__team")
        .annotate(
            viewer_is_owner=ExpressionWrapper(Q(service_user__user_id=viewer.pk),
                                              output_field=BooleanField()),
            viewer_is_allocated=ExpressionWrapper(
                Q(_allocated_to(viewer, "service_user_id")), output_field=BooleanField()),
        )
        .filter(pk=plan_id)
        .first()
    )
    basis = None
    if plan is not None:
        if plan.viewer_is_owner:
            basis = Basis.SELF
        elif plan.viewer_is_allocated:
            basis = Basis.ALLOCATED_COORDINATOR
        else:
            basis = scoped_basis(viewer, plan.service_user_id, plan_areas(plan.kind))
    if plan is None or basis is None:
        raise Http404("No such plan.")
    return plan, basis


def _shared_with(viewer: Viewer, *, with_progress_notes: bool = False) -> Q:
    """Items the service user shared with this carer: a live grant (not expired) in the
    direct permission table, while the carer relationship is active. `with_progress_notes`:
    only those whose sharing decision also shares the progress notes (a separate choice:
    sharing an item shares what it says now, nothing more)."""
    today = timezone.localdate()
    grants = PlanItemUserObjectPermission.objects.filter(
        user_id=viewer.pk, permission_id=view_item_permission_id(),
    ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
    if with_progress_notes:
        grants = grants.filter(decision__include_progress_notes=True)
    return (_one_of("pk", grants.values("content_object_id"))
            & _one_of("plan__service_user", _cared_for_ids(viewer))
            & Q(removed_at__isnull=True))


def items_visible_to(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Items of plans the viewer may read as a whole, items in the areas their care-team
    place or emergency access gives them, plus items shared with them."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_read_as_record(viewer) | _shared_with(viewer))


def items_visible_on_basis(
    viewer: Viewer, basis: Basis | None, queryset: QuerySet[PlanItem]
) -> QuerySet[PlanItem]:
    """`items_visible_to` for the items of one plan (`queryset`) that `plan_for_viewer`
    opened on `basis`. A reader of the whole record reads every item of its plans (the
    rule's first basis, `_full_record_ids`, is what `plan_for_viewer` found the basis
    by), so the predicate is not built and asked again for them; anyone else (a care-team
    place, an emergency access) gets the rule itself."""
    if basis in FULL_BASES:
        return queryset
    return items_visible_to(viewer, queryset)


def items_shared_with(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Only the items shared with `viewer` as a carer (the carer's view, and its preview)."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_shared_with(viewer))


def items_shared_with_decisions(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """`items_shared_with`, each annotated with the consent decision that shares it
    (`sharing_decision_id`, for the audit trail) and when it was made (`shared_at`)."""
    grant = PlanItemUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user_id=viewer.pk
    )
    return items_shared_with(viewer, queryset).annotate(
        sharing_decision_id=Subquery(grant.values("decision_id")[:1]),
        shared_at=Subquery(grant.values("decision__decided_at")[:1]),
    )


def item_for_viewer(
    viewer: Viewer, item_id: int, *, include_removed: bool = False
) -> tuple[PlanItem, Basis]:
    items = items_visible_to(viewer, PlanItem.objects.select_related("plan__service_user__team"))
    if not include_removed:
        items = items.filter(removed_at__isnull=True)
    item = items.filter(pk=item_id).first()
    basis = None
    if item is not None:
        basis = _record_reader_basis(viewer, item)
        if basis is None and items_shared_with(viewer).filter(pk=item.pk).exists():
            basis = Basis.CARER_CONSENT
    if item is None or basis is None:
        raise Http404("No such item.")
    return item, basis


# --- What sharing does not share --------------------------------------------------------
# A carer sees a shared item's current words. Its edit history (earlier wordings,
# including words removed before it was shared) is the record's readers' alone; a goal's
# progress notes are shared only when the sharing decision says so too.


def items_with_history_visible_to(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Items whose edit history the viewer may read: those of records they read in full,
    and a care-team member's or emergency access's items of the areas they hold (never
    through a carer's share, never beyond the areas)."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_read_as_record(viewer))


def item_history_for_viewer(viewer: Viewer, item_id: int) -> tuple[PlanItem, Basis]:
    """An item (removed ones too) whose history the viewer may read; 404 otherwise."""
    item = (
        items_with_history_visible_to(
            viewer, PlanItem.objects.select_related("plan__service_user__team"))
        .filter(pk=item_id).first()
    )
    basis = _record_reader_basis(viewer, item) if item is not None else None
    if item is None or basis is None:
        raise Http404("No such item.")
    return item, basis


def _record_reader_basis(viewer: Viewer, item: PlanItem) -> Basis | None:
    """The basis on which the viewer reads this item as a reader of the record: the whole
    record, or the item's area through a care-team place or an emergency access."""
    basis = record_basis(viewer, item.plan.service_user)
    if basis in FULL_BASES:
        return basis
    area = area_of_entry(kind=item.plan.kind,
                         entry={"section": item.section, "prompt": item.prompt})
    return scoped_basis(viewer, item.plan.service_user_id, {area}) if area else None


def items_with_progress_visible_to(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Items whose progress notes the viewer may read: every item of plans they read as a
    whole; for a carer, shared items whose decision also shares progress notes."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(
        _read_as_record(viewer) | _shared_with(viewer, with_progress_notes=True))


def items_with_progress_shared_with(
    viewer: Viewer, queryset: QuerySet[PlanItem] | None = None
) -> QuerySet[PlanItem]:
    """Only the carer's part of `items_with_progress_visible_to`: shared items whose
    decision also shares the progress notes (the carer's page, which shows what is shared
    with them as a carer, and nothing they might read on another basis)."""
    queryset = PlanItem.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_shared_with(viewer, with_progress_notes=True))


def _read_as_record(viewer: Viewer) -> Q:
    """For a PlanItem queryset: items the viewer reads as a reader of the record — the whole
    record, or the areas a care-team place or an emergency access gives."""
    return _one_of("plan__service_user", _full_record_ids(viewer)) | scoped_items_q(viewer)


def can_view_progress(viewer: Viewer, item: PlanItem) -> bool:
    return items_with_progress_visible_to(viewer, PlanItem.objects.filter(pk=item.pk)).exists()


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
        role=RequiredSigner.Role.CARER, carer__user_id=viewer.pk).values("version_id")
    still_caring = _cared_for_ids(viewer)
    return queryset.filter(
        _one_of("plan", plans_visible_to(viewer).values("pk"))
        | (_one_of("pk", named_signer) & _one_of("plan__service_user", still_caring))
        | _shared_versions(viewer)
    )


def _shared_versions(viewer: Viewer) -> Q:
    """For a PlanVersion queryset: the latest version of each plan with something shared
    with this carer. Sharing shares what an item says now, not what it said: a carer
    reaches only the plan's latest version through a share (an older one holds earlier
    wordings)."""
    something_shared = PlanItem.objects.filter(_shared_with(viewer)).values("plan_id")
    newer = PlanVersion.objects.filter(plan=OuterRef("plan"), number__gt=OuterRef("number"))
    return _one_of("plan", something_shared) & ~Q(Exists(newer))


def versions_shared_with(
    viewer: Viewer, queryset: QuerySet[PlanVersion] | None = None
) -> QuerySet[PlanVersion]:
    """Only the carer's part of `versions_visible_to`: the latest version of each plan
    with something shared with them (the carer's page links to it)."""
    queryset = PlanVersion.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_shared_versions(viewer))


def versions_visible_on_basis(
    basis: Basis | None, plan: Plan, queryset: QuerySet[PlanVersion]
) -> QuerySet[PlanVersion]:
    """`versions_visible_to` for the versions of one plan that `plan_for_viewer` opened on
    `basis`: whoever may open a plan reads every version of it (the rule's first basis,
    `plans_visible_to`, is the one `plan_for_viewer` asked; what each may read of a
    version's entries is `version_entries_visible_to`'s business)."""
    if basis is None:
        return queryset.none()
    return queryset.filter(plan_id=plan.pk)


def version_entries_visible_to(viewer: Viewer, version: PlanVersion) -> list[dict]:
    """The entries of a version's frozen snapshot this viewer may read: all of them for
    the record's readers; for a care-team member or an emergency access, the entries of
    the areas they hold now; for a carer, the responsibilities they hold (they sign them) and
    the items shared with them now whose entry still has the item's current words —
    nothing else."""
    plan = version.plan
    if reads_in_full(viewer, plan.service_user):
        return list(version.snapshot)
    # A care-team member or emergency access: the entries of the areas held now.
    granted = areas_granted(viewer, plan.service_user_id)
    scoped = [entry for entry in version.snapshot
              if area_of_entry(kind=plan.kind, entry=entry) in granted]
    if scoped:
        return scoped
    relationship_ids = set(
        CarerRelationship.objects.active()
        .filter(carer__user_id=viewer.pk, service_user_id=version.plan.service_user_id)
        .values_list("pk", flat=True)
    )
    if not relationship_ids:
        return []
    # A shared item's entry only while the version holds its current words (its revision):
    # an entry frozen before the item was changed is an earlier wording, not shared.
    current = dict(items_shared_with(viewer, PlanItem.objects.filter(plan_id=version.plan_id))
                   .values_list("pk", "revision"))
    return [
        entry for entry in version.snapshot
        if (entry["id"] in current and entry.get("revision") == current[entry["id"]])
        or (entry.get("item_type") == ItemType.RESPONSIBILITY
            and (entry.get("details") or {}).get("holder") == "carer"
            and (entry.get("details") or {}).get("holder_relationship") in relationship_ids)
    ]


def version_basis(viewer: Viewer, version: PlanVersion) -> str:
    """Why the viewer may open this version, for the audit trail."""
    basis = plan_basis(viewer, version.plan)
    if basis is not None:
        return basis
    return version_basis_for_carer(viewer, version)


def version_basis_for_carer(viewer: Viewer, version: PlanVersion) -> str:
    """Why a carer may open this version, for the audit trail."""
    if RequiredSigner.objects.filter(version=version, role=RequiredSigner.Role.CARER,
                                     carer__user_id=viewer.pk).exists():
        return "carer named as holding a responsibility"
    return str(Basis.CARER_CONSENT)


def can_read_signature_reasons(viewer: Viewer, version: PlanVersion) -> bool:
    """Why someone did not sign is their own words about the whole plan: for the
    record's readers only, never for a carer or a care-team member who sees part of it."""
    return reads_in_full(viewer, version.plan.service_user)


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
    their own-words sections, their goals, and any item in their own words (a first
    meeting's answers); the care coordinator edits everything. A responsibility
    agreement is negotiated: both edit it."""
    if can_edit_section(viewer, item.plan, item.section):
        return True
    return own_words_editable(record_basis(viewer, item.plan.service_user), item)


def own_words_editable(basis: Basis | None, item: PlanItem) -> bool:
    """An item in the service user's own words on their care plan is theirs to change,
    whichever section it sits in. The plan page asks this per item with the basis it
    already has; `can_edit_item` asks it with the viewer's."""
    return (basis is Basis.SELF and item.own_words
            and item.plan.kind == PlanKind.CARE_PLAN)


def first_meeting_record(viewer: Viewer, service_user_id: int) -> ServiceUser:
    """The first meeting is held by a care coordinator allocated to the person's open
    episode; for anyone else (the service user, a carer, another coordinator, their
    manager) it does not exist."""
    return record_for_care_manager(viewer, service_user_id)


def can_edit_section(viewer: Viewer, plan: Plan, section_code: str) -> bool:
    return section_editable_on_basis(record_basis(viewer, plan.service_user), plan, section_code)


# The plan page asks the rules below for one plan, and for every section of it, with the
# basis it opened the plan on (plan_basis): one check of the record per page, not one per
# section (issue 15). Each rule's viewer form is its basis form with record_basis; the two
# bases differ only where record_basis says CARE_TEAM and plan_basis BREAK_GLASS or None,
# and no rule here gives either of those anything.


def section_editable_on_basis(basis: Basis | None, plan: Plan, section_code: str) -> bool:
    """`can_edit_section` for a basis already known."""
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
    return plan.kind == PlanKind.WRAP and can_suggest_on_basis(
        record_basis(viewer, plan.service_user), plan)


def can_suggest_on_basis(basis: Basis | None, plan: Plan) -> bool:
    return plan.kind == PlanKind.WRAP and basis is Basis.ALLOCATED_COORDINATOR


def can_start_plan(viewer: Viewer, service_user: ServiceUser) -> bool:
    """The service user and their allocated care coordinators may start any plan kind
    (a coordinator may start an empty WRAP for its owner to write)."""
    return can_start_plan_on_basis(record_basis(viewer, service_user))


def can_start_plan_on_basis(basis: Basis | None) -> bool:
    """`can_start_plan` for a viewer whose basis on the record is already known."""
    return basis in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_propose_version(viewer: Viewer, plan: Plan) -> bool:
    return can_propose_on_basis(record_basis(viewer, plan.service_user))


def can_propose_on_basis(basis: Basis | None) -> bool:
    return basis in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_record_review(viewer: Viewer, plan: Plan) -> bool:
    return plan.kind == PlanKind.CARE_PLAN and can_record_review_on_basis(
        record_basis(viewer, plan.service_user), plan)


def can_record_review_on_basis(basis: Basis | None, plan: Plan) -> bool:
    return plan.kind == PlanKind.CARE_PLAN and basis is Basis.ALLOCATED_COORDINATOR


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


def can_sign(viewer: Viewer, version: PlanVersion) -> str | None:
    """The role in which `viewer` may sign or decline this version now: one of its
    signers, who has not answered yet, while the version is open for answers. The page,
    the API and the signing service all ask this one rule."""
    role = signer_role(viewer, version)
    if role is None or not version_open_for_answers(version):
        return None
    if version.signatures.filter(signer_id=viewer.pk).exists():
        return None
    return role


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


def version_signable_on_basis(
    viewer: Viewer, basis: Basis | None, version: PlanVersion, *, latest: bool,
    signatures: list[Signature], required_roles: set[str],
) -> bool:
    """`versions_signable_by` for one version of a plan `plan_for_viewer` opened on
    `basis`, from what the page read with it: whether it is the plan's latest, its
    answers, and the roles that must sign. The same conditions: open for answers (the
    latest, not agreed, nobody declined), not answered by the viewer, the viewer one of
    its signers. The basis says whether the viewer is the person (SELF: the person
    themselves, whatever else they are) or an allocated coordinator; only a carer named
    on it (or someone who is both) is asked of the queryset form itself, so the page
    builds that predicate only then."""
    if not latest or version.agreed_at is not None:
        return False
    if any(s.decision == Signature.Decision.DECLINED or s.signer_id == viewer.pk
           for s in signatures):
        return False
    roles = set(required_roles)
    if basis is Basis.SELF and RequiredSigner.Role.SERVICE_USER in roles:
        return True
    if basis is Basis.ALLOCATED_COORDINATOR and RequiredSigner.Role.COORDINATOR in roles:
        return True
    # Left: a named carer, or a person who is also allocated to themselves.
    possible = {RequiredSigner.Role.CARER}
    if basis is Basis.SELF:
        possible.add(RequiredSigner.Role.COORDINATOR)
    if not roles & possible:
        return False
    return versions_signable_by(viewer, PlanVersion.objects.filter(pk=version.pk)).exists()


def versions_signable_by(
    viewer: Viewer, queryset: QuerySet[PlanVersion] | None = None
) -> QuerySet[PlanVersion]:
    """The queryset form of `can_sign`: the versions `viewer` may sign or decline now, each
    annotated with `signing_as` (the role `can_sign` gives). Open for answers (the latest,
    not agreed, nobody declined), not answered by the viewer, and the viewer one of its
    signers: the service user themselves, an actively allocated care coordinator, or a
    carer named on it who still cares for the person. One query for any number of
    versions (the "things to do" lists ask it)."""
    queryset = PlanVersion.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    newer = PlanVersion.objects.filter(plan=OuterRef("plan"), number__gt=OuterRef("number"))
    declined = Signature.objects.filter(version=OuterRef("pk"),
                                        decision=Signature.Decision.DECLINED)
    answered = Signature.objects.filter(version=OuterRef("pk"), signer_id=viewer.pk)
    required = RequiredSigner.objects.filter(version=OuterRef("pk"))
    own = Q(plan__service_user__user_id=viewer.pk) & Q(
        Exists(required.filter(role=RequiredSigner.Role.SERVICE_USER)))
    allocated = ServiceUser.objects.filter(_allocated_to(viewer), pk=OuterRef(
        "plan__service_user_id"))
    coordinating = Q(Exists(allocated)) & Q(
        Exists(required.filter(role=RequiredSigner.Role.COORDINATOR)))
    caring = CarerRelationship.objects.active().filter(
        carer__user_id=viewer.pk, service_user=OuterRef(OuterRef("plan__service_user")),
        carer_id=OuterRef("carer_id"))
    named_carer = Q(Exists(required.filter(role=RequiredSigner.Role.CARER)
                           .filter(Exists(caring))))
    return (
        queryset.filter(agreed_at__isnull=True)
        .exclude(Exists(newer)).exclude(Exists(declined)).exclude(Exists(answered))
        .filter(own | coordinating | named_carer)
        .annotate(signing_as=Case(
            When(own, then=Value(RequiredSigner.Role.SERVICE_USER.value)),
            When(coordinating, then=Value(RequiredSigner.Role.COORDINATOR.value)),
            default=Value(RequiredSigner.Role.CARER.value), output_field=CharField()))
    )
