"""Reads for the FHIR export: everything one viewer may see of one service user's record,
already filtered by the access policy, in a fixed number of queries however many items,
goals, progress notes, versions and signatures there are. The read is audited here, like
every other read of someone else's record.

Two views, decided by the policy, never here:

- the record's readers (the service user, their allocated care coordinators:
  `policy.record_for_viewer`, through `service_user_open`) get the whole record;
- a carer with an active relationship (`policy.carer_relationships_visible_to`) gets
  only the items shared with them (`policy.items_shared_with_decisions`) and the person's
  name as they asked to be called. Anyone else: 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from django.db.models import Prefetch
from django.http import Http404

from carecoord.audit.services import access_events_record
from carecoord.records import selectors as record_selectors
from carecoord.records.models import Episode, ServiceUser, User
from carers.models import CarerRelationship
from consent import policy
from consent import selectors as consent_selectors
from consent.models import ConsentDecision
from plans.models import GoalAgreement, Plan, PlanItem, PlanVersion, ProgressUpdate, Signature
from plans.sections import ItemType, PlanKind, sections_for
from plans.services import goal_is_agreed

SURFACE = "api.fhir"


@dataclass
class GoalState:
    agreed: bool
    progress: list[ProgressUpdate]  # oldest first; empty for a carer (not shared with them)


@dataclass
class PlanExport:
    plan: Plan
    items: list[PlanItem]  # live, visible to the viewer, in the plan's section order
    goals: dict[int, GoalState]  # by item id
    # The version whose content the live plan still is (nothing changed since), if any.
    current_version: PlanVersion | None
    # Versions with at least one signature, each with `signed` (its signatures, oldest
    # first; declines are not exported: their reasons are the signer's own words).
    signed_versions: list[PlanVersion]


@dataclass
class Share:
    item: PlanItem
    decision: ConsentDecision  # the decision that shares it now


@dataclass
class CarerConsent:
    relationship: CarerRelationship
    shares: list[Share]


@dataclass
class CareTeamParticipant:
    """Someone else on the person's care team (not a coordinator, not a carer).

    One per care-team place (`care_team_for_record`), filled in `_record_export`; the
    builder lists them as CareTeam participants (a Practitioner each)."""

    key: str  # stable and unique within the record, e.g. "member-12"
    name: str
    role: str  # in words, e.g. "Psychiatrist"
    user: User | None = None
    start: dt.date | None = None
    end: dt.date | None = None


@dataclass
class FhirExport:
    service_user: ServiceUser
    # True for the record's readers; False for a carer (name only, shared items only).
    whole_record: bool
    plans: list[PlanExport]
    consents: list[CarerConsent]
    # The carer's own relationship, in a carer's export.
    viewer_relationship: CarerRelationship | None = None
    episode: Episode | None = None
    coordinators: list[User] = field(default_factory=list)
    relationships: list[CarerRelationship] = field(default_factory=list)
    care_team_participants: list[CareTeamParticipant] = field(default_factory=list)


def fhir_export_open(*, viewer: User, service_user_id: int) -> FhirExport:
    """What `viewer` may export of this record. Raises Http404 for anyone who may not
    see it, exactly as for a record that does not exist."""
    try:
        record = record_selectors.service_user_open(
            viewer=viewer, service_user_id=service_user_id, surface=SURFACE)
    except Http404:
        return _carer_export(viewer=viewer, service_user_id=service_user_id)
    if record.basis not in policy.FULL_BASES:
        # The export is the whole record: a care-team member or an emergency access sees
        # only some areas of it, so this surface answers as for anyone else it is not for.
        return _carer_export(viewer=viewer, service_user_id=service_user_id)
    return _record_export(viewer=viewer, record=record)


# --- The record's readers ---------------------------------------------------------------


def _record_export(*, viewer: User, record: record_selectors.OpenedRecord) -> FhirExport:
    service_user = record.service_user
    plans = sorted(
        policy.plans_visible_to(viewer, Plan.objects.filter(service_user=service_user)
                                .select_related("created_by")),
        key=lambda plan: PlanKind.values.index(plan.kind),
    )
    items = list(
        policy.items_visible_to(viewer, PlanItem.objects.filter(
            plan__in=plans, removed_at__isnull=True))
        .select_related("author", "responsibility")
        .prefetch_related(
            Prefetch("agreements", queryset=GoalAgreement.objects.all()),
            Prefetch("progress", queryset=ProgressUpdate.objects.select_related("recorded_by")
                     .order_by("recorded_on", "pk")),
        )
    )
    versions = list(
        policy.versions_visible_to(viewer, PlanVersion.objects.filter(plan__in=plans))
        .prefetch_related(Prefetch(
            "signatures",
            queryset=Signature.objects.filter(decision=Signature.Decision.SIGNED)
            .select_related("signer").order_by("signed_at", "pk"),
            to_attr="signed",
        ))
        .order_by("plan_id", "number")
    )
    relationships = list(
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.filter(service_user=service_user)
            .select_related("carer__user"))
        .order_by("started_on", "pk")
    )
    active = [r for r in relationships if r.is_active]
    consents = _consents_from_matrix(
        consent_selectors.consent_matrix(viewer=viewer, service_user=service_user,
                                         relationships=active),
        active, {item.pk: item for item in items})
    if record.basis is not policy.Basis.SELF:
        # The record itself was logged by service_user_open; each plan read is logged too,
        # in one write, as the plans API logs each plan it opens.
        access_events_record(
            actor=viewer, service_user=service_user, action=f"{SURFACE}.view",
            targets=[(f"plan:{plan.pk}", str(record.basis)) for plan in plans])
    return FhirExport(
        service_user=service_user,
        whole_record=True,
        plans=[_plan_export(plan, items, versions, whole_record=True) for plan in plans],
        consents=consents,
        episode=_episode(service_user),
        coordinators=list(policy.coordinators_of(service_user).order_by("full_name", "pk")),
        relationships=relationships,
        care_team_participants=[
            CareTeamParticipant(
                key=f"member-{place.pk}", name=place.member.display_name,
                role=place.get_care_team_role_display(), user=place.member,
                start=place.started_on, end=place.ended_on)
            for place in record_selectors.care_team_for_record(
                viewer=viewer, service_user=service_user)
        ],
    )


def _episode(service_user: ServiceUser) -> Episode | None:
    """The open episode of care, else the latest one: the period the plans cover."""
    return (record_selectors.open_episode(service_user=service_user)
            or service_user.episodes.order_by("-started_on", "-pk").first())


def _consents_from_matrix(blocks, relationships: list[CarerRelationship],
                          exported: dict[int, PlanItem]) -> list[CarerConsent]:
    """One consent per active carer: the items the consent page shows as shared with them
    now, each with the decision that shares it (an item's own, or its section's rule)."""
    shares: dict[int, list[Share]] = {r.pk: [] for r in relationships}
    for block in blocks:
        for section in block.sections:
            for row in section.items:
                item = exported.get(row.item.pk, row.item)
                for cell in row.cells:
                    if cell.sharing is not None:
                        shares[cell.relationship.pk].append(Share(item, cell.sharing))
    return [CarerConsent(relationship=r, shares=shares[r.pk]) for r in relationships]


def _plan_export(plan: Plan, items: list[PlanItem], versions: list[PlanVersion], *,
                 whole_record: bool) -> PlanExport:
    """One plan's part of the export. A carer gets no goal progress and no signatures:
    neither is an item shared with them."""
    order = {s.code: n for n, s in enumerate(sections_for(plan.kind))}
    own = sorted((i for i in items if i.plan_id == plan.pk),
                 key=lambda i: (order.get(i.section, len(order)), i.position, i.pk))
    goals = {
        item.pk: GoalState(agreed=goal_is_agreed(item),
                           progress=list(item.progress.all()) if whole_record else [])
        for item in own if item.item_type == ItemType.GOAL
    }
    own_versions = [v for v in versions if v.plan_id == plan.pk]
    current = next((v for v in reversed(own_versions)
                    if v.plan_revision == plan.content_revision), None)
    return PlanExport(
        plan=plan, items=own, goals=goals, current_version=current,
        signed_versions=[v for v in own_versions if whole_record and getattr(v, "signed", None)],
    )


# --- A carer --------------------------------------------------------------------------


def _carer_export(*, viewer: User, service_user_id: int) -> FhirExport:
    relationship = (
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.active().filter(
                service_user_id=service_user_id, carer__user_id=viewer.pk))
        .select_related("carer__user", "service_user").first()
    )
    if relationship is None:
        raise Http404("No such record.")
    service_user = relationship.service_user
    items = list(
        policy.items_shared_with_decisions(
            viewer, PlanItem.objects.filter(plan__service_user=service_user))
        .select_related("plan", "responsibility")
        .prefetch_related(Prefetch("agreements", queryset=GoalAgreement.objects.all()))
    )
    decisions = ConsentDecision.objects.in_bulk({item.sharing_decision_id for item in items})
    # The same trail as the carer's page: one event per shared item read, naming the
    # consent decision that allowed it (the service user sees these reads).
    access_events_record(
        actor=viewer, service_user=service_user, action="carer_item.view",
        targets=[
            (f"plan_item:{item.pk}",
             f"{policy.Basis.CARER_CONSENT} (consent decision {item.sharing_decision_id})")
            for item in items
        ],
    )
    plans = sorted({item.plan_id: item.plan for item in items}.values(),
                   key=lambda plan: PlanKind.values.index(plan.kind))
    # Only to tell whether each plan is agreed as it stands (CarePlan.status).
    versions = list(policy.versions_visible_to(viewer, PlanVersion.objects.filter(
        plan__in=plans)).order_by("plan_id", "number"))
    return FhirExport(
        service_user=service_user,
        whole_record=False,
        plans=[_plan_export(plan, items, versions, whole_record=False) for plan in plans],
        consents=[CarerConsent(
            relationship=relationship,
            shares=[Share(item, decisions[item.sharing_decision_id]) for item in items],
        )],
        viewer_relationship=relationship,
        relationships=[relationship],
    )
