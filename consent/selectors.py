"""Reads for the consent page: the matrix of items against carers, the history, and
who has read what was shared."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from django.db.models import QuerySet
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.records.models import ServiceUser, User
from carers.models import CarerRelationship
from consent import policy
from consent.models import (
    ConsentDecision,
    ItemConsent,
    ReviewInvolvementDecision,
    SectionRule,
)
from consent.policy import Basis
from consent.services import effective_decision
from plans.models import Plan, PlanItem
from plans.sections import sections_for


@dataclass
class Cell:
    relationship: CarerRelationship
    sharing: ConsentDecision | None  # the decision that shares it now, if any
    explicit: ConsentDecision | None  # the item's own decision, if any
    by_rule: bool  # shared because of a section rule

    @property
    def shared(self) -> bool:
        return self.sharing is not None


@dataclass
class ItemRow:
    item: PlanItem
    cells: list[Cell]


@dataclass
class SectionRow:
    code: str
    title: str
    rules: list[tuple[CarerRelationship, ConsentDecision | None]]
    items: list[ItemRow] = field(default_factory=list)


@dataclass
class PlanBlock:
    plan: Plan
    sections: list[SectionRow]


def carers_of(*, viewer: User, service_user: ServiceUser) -> list[CarerRelationship]:
    return list(
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.active().filter(service_user=service_user)
        ).select_related("carer__user").order_by("carer__full_name")
    )


def consent_matrix(*, viewer: User, service_user: ServiceUser,
                   relationships: list[CarerRelationship],
                   basis: policy.Basis | None = None) -> list[PlanBlock]:
    """Every live item of the service user's plans against every carer, with what each
    carer can see now and why. A fixed number of queries. `basis`: the viewer's basis on
    the record, when the caller opened it (`service_user_open`); the plans and items are
    then asked on that basis, not through the whole rule again (without it, the rule)."""
    plans = list(policy.plans_visible_on_basis(
        viewer, basis, Plan.objects.filter(service_user=service_user)))
    items = list(
        policy.items_visible_on_basis(viewer, basis, PlanItem.objects.filter(
            plan__in=plans, removed_at__isnull=True))
        .order_by("position", "pk")
    )
    by_id = {plan.pk: plan for plan in plans}
    for plan in plans:
        plan.service_user = service_user  # in hand: no query per plan for its heading
    by_section: dict[tuple[int, str], list[PlanItem]] = defaultdict(list)
    for item in items:
        item.plan = by_id[item.plan_id]  # the plan in hand: no query per item later
        by_section[(item.plan_id, item.section)].append(item)
    carer_ids = [r.carer_id for r in relationships]
    explicit = {
        (c.carer_id, c.item_id): c.decision
        for c in ItemConsent.objects.filter(item__in=items, carer_id__in=carer_ids)
        .select_related("decision")
    }
    rules = {
        (r.carer_id, r.plan_id, r.section): r.decision
        for r in SectionRule.objects.filter(plan__in=plans, carer_id__in=carer_ids)
        .select_related("decision")
    }
    today = timezone.localdate()
    blocks = []
    for plan in sorted(plans, key=lambda p: p.kind):
        sections = []
        for plan_section in sections_for(plan.kind):
            row = SectionRow(
                code=plan_section.code, title=plan_section.title,
                rules=[(r, rules.get((r.carer_id, plan.pk, plan_section.code)))
                       for r in relationships],
            )
            for item in by_section[(plan.pk, plan_section.code)]:
                cells = []
                for r in relationships:
                    own = explicit.get((r.carer_id, item.pk))
                    rule = rules.get((r.carer_id, plan.pk, plan_section.code))
                    sharing = effective_decision(explicit=own, rule=rule, removed=False,
                                                 today=today)
                    cells.append(Cell(relationship=r, sharing=sharing, explicit=own,
                                      by_rule=sharing is not None and own is None))
                row.items.append(ItemRow(item=item, cells=cells))
            sections.append(row)
        blocks.append(PlanBlock(plan=plan, sections=sections))
    return blocks


def readers_of_items(*, viewer: User, service_user: ServiceUser,
                     items: list[PlanItem]) -> dict[int, policy.ItemReaders]:
    """Who exactly can read each item (the policy's answer), for the person who decides
    consent or their coordinator; nobody else is told."""
    if not policy.can_decide_consent(viewer, service_user):
        return {}
    return policy.item_readers(service_user, items)


def readers_of_record(*, viewer: User, service_user: ServiceUser,
                      basis: Basis | None = None) -> policy.ItemReaders | None:
    """Who can read everything in the person's plans, for the same people. `basis`: the
    viewer's, when the page has it from `record_for_viewer`."""
    if not (policy.decides_consent_on_basis(basis) if basis is not None
            else policy.can_decide_consent(viewer, service_user)):
        return None
    return policy.record_readers(service_user)


def consent_history(*, viewer: User, service_user: ServiceUser) -> QuerySet[ConsentDecision]:
    if not policy.can_decide_consent(viewer, service_user):
        return ConsentDecision.objects.none()
    return (
        ConsentDecision.objects.filter(service_user=service_user)
        .select_related("carer", "decided_by", "item", "plan")
        .order_by("-decided_at", "-pk")
    )


def shared_reads(*, viewer: User, service_user: ServiceUser) -> QuerySet[AccessEvent]:
    """When carers read what was shared with them: shown to the service user and their
    care coordinator."""
    if not policy.can_decide_consent(viewer, service_user):
        return AccessEvent.objects.none()
    return (
        AccessEvent.objects.filter(service_user=service_user, action="carer_item.view")
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


@dataclass
class ReviewInvolvement:
    involved: bool
    history: list[ReviewInvolvementDecision]


def review_involvement(*, relationship: CarerRelationship) -> ReviewInvolvement:
    """Whether this carer is heard at reviews now (the policy's one predicate), and every
    decision about it, newest first. The caller has opened the consent page (the policy's
    `carer_of_record`)."""
    history = list(ReviewInvolvementDecision.objects.filter(
        carer_id=relationship.carer_id, service_user_id=relationship.service_user_id)
        .select_related("decided_by").order_by("-decided_at", "-pk"))
    return ReviewInvolvement(involved=policy.is_involved_in_reviews(relationship),
                             history=history)
