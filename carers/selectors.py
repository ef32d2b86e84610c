"""Reads for carers: what the people they care for have shared with them.

`shared_items` is the one piece of code that decides what a carer's page shows; the
service user's preview calls it too, so "See exactly what Mum sees" is exactly that.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import OuterRef, QuerySet, Subquery

from carecoord.models import ServiceUser, User
from carecoord.services import access_events_record
from carers.models import CarerRelationship
from consent import policy
from consent.models import PlanItemUserObjectPermission
from plans.models import PlanItem
from plans.sections import PlanKind, sections_for


@dataclass
class SharedSection:
    title: str
    items: list[PlanItem]


@dataclass
class SharedPlan:
    kind_label: str
    sections: list[SharedSection]


def shared_items(*, carer_user: User | None, service_user: ServiceUser) -> QuerySet[PlanItem]:
    """The items of this service user's plans shared with this carer account, each with
    `shared_at` (when the decision that shares it was made). One query."""
    if carer_user is None:
        return PlanItem.objects.none()
    shared_at = PlanItemUserObjectPermission.objects.filter(
        content_object=OuterRef("pk"), user_id=carer_user.pk
    ).values("decision__decided_at")[:1]
    return (
        policy.items_shared_with(carer_user, PlanItem.objects.filter(
            plan__service_user=service_user))
        .select_related("plan")
        .annotate(shared_at=Subquery(shared_at))
        .order_by("plan__kind", "section", "position", "pk")
    )


def group_shared(items: list[PlanItem]) -> list[SharedPlan]:
    """Group by plan and section in the plans' own order. Only what is shared appears:
    no plan, section or count is shown for anything that is not."""
    by_plan: dict[str, dict[str, list[PlanItem]]] = {}
    for item in items:
        by_plan.setdefault(item.plan.kind, {}).setdefault(item.section, []).append(item)
    result = []
    for kind in PlanKind:
        if kind.value not in by_plan:
            continue
        sections = [
            SharedSection(title=s.title, items=by_plan[kind.value][s.code])
            for s in sections_for(kind.value)
            if s.code in by_plan[kind.value]
        ]
        result.append(SharedPlan(kind_label=kind.label, sections=sections))
    return result


def carer_person_open(*, viewer: User, relationship_id: int) -> tuple[CarerRelationship,
                                                                      list[SharedPlan]]:
    """The carer's page for one person they care for. Each shared item read is written
    to the audit trail with the consent decision that allowed it."""
    relationship = policy.relationship_of_carer(viewer, relationship_id)
    items = list(shared_items(carer_user=viewer, service_user=relationship.service_user))
    decisions = dict(
        PlanItemUserObjectPermission.objects.filter(
            user_id=viewer.pk, content_object__in=[i.pk for i in items]
        ).values_list("content_object_id", "decision_id")
    )
    access_events_record(
        actor=viewer, service_user=relationship.service_user, action="carer_item.view",
        targets=[
            (f"plan_item:{item.pk}",
             f"{policy.Basis.CARER_CONSENT} (consent decision {decisions.get(item.pk)})")
            for item in items
        ],
    )
    return relationship, group_shared(items)

