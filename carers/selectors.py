"""Reads for carers: what the people they care for have shared with them, and the
carer's own space (needs, wellbeing check-ins, assessment requests, what they know helps).

`shared_items` is the one piece of code that decides what a carer's page shows; the
service user's preview calls it too, so "See exactly what Mum sees" is exactly that.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.db.models import OuterRef, Prefetch, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateformat import format as date_format

from carecoord.audit.selectors import CARER_ITEM_VIEW, carer_last_looked, new_to_carer
from carecoord.audit.services import access_events_record
from carecoord.records.models import ServiceUser, User
from carers.models import (
    AssessmentRequest,
    Carer,
    CarerInsight,
    CarerNeeds,
    CarerRelationship,
    WellbeingCheckIn,
)
from consent import policy
from plans.models import CarerReviewViews, Plan, PlanItem, PlanVersion, ProgressUpdate
from plans.sections import ItemType, PlanKind, sections_for


@dataclass
class SharedSection:
    title: str
    items: list[PlanItem]


@dataclass
class SharedPlan:
    kind_label: str
    sections: list[SharedSection]
    latest_version_id: int | None = None  # to make a PDF of what is shared in it


def shared_items(*, carer_user: User | None, service_user: ServiceUser,
                 with_latest_version: bool = False) -> QuerySet[PlanItem]:
    """The items of this service user's plans shared with this carer account, each with
    `shared_at` (when the decision that shares it was made). `with_latest_version`: each
    also with `latest_version_id`, the newest version of its plan shared with the carer (the
    page links to it), None if none: in the same query, not one more a plan. One query."""
    if carer_user is None:
        return PlanItem.objects.none()
    items = (
        policy.items_shared_with_decisions(carer_user, PlanItem.objects.filter(
            plan__service_user=service_user))
        .select_related("plan")
        .order_by("plan__kind", "section", "position", "pk")
    )
    if with_latest_version:
        items = items.annotate(latest_version_id=Subquery(
            policy.versions_shared_with(carer_user, PlanVersion.objects.filter(
                plan=OuterRef("plan"))).order_by("-number").values("pk")[:1]))
    return items


def _attach_shared_progress(items: list[PlanItem], carer_user: User | None) -> None:
    """Each item's `shared_progress`: a goal's progress notes, oldest first, only where
    the policy's list form lets the carer read them (the sharing decision also shares
    them); empty otherwise. One query, and none when no goal is shared."""
    goals = [item.pk for item in items if item.item_type == ItemType.GOAL]
    by_item: dict[int, list[ProgressUpdate]] = {}
    if carer_user is not None and goals:
        readable = policy.items_with_progress_shared_with(
            carer_user, PlanItem.objects.filter(pk__in=goals)).values("pk")
        for update in ProgressUpdate.objects.filter(item__in=readable).order_by(
                "recorded_on", "pk"):
            by_item.setdefault(update.item_id, []).append(update)
    for item in items:
        item.shared_progress = by_item.get(item.pk, [])


def group_shared(items: list[PlanItem], carer_user: User | None = None) -> list[SharedPlan]:
    """Group by plan and section in the plans' own order. Only what is shared appears:
    no plan, section or count is shown for anything that is not. `items` from
    `shared_items` (on the carer's page, with their latest versions)."""
    _attach_shared_progress(items, carer_user)
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
        first = sections[0].items[0] if sections else None
        result.append(SharedPlan(kind_label=kind.label, sections=sections,
                                 latest_version_id=getattr(first, "latest_version_id", None)))
    return result


@dataclass(frozen=True)
class CarerPersonPage:
    """The carer's page for one person: what is shared, and what of it is new to them
    since they last looked (each item's `is_new`)."""

    relationship: CarerRelationship
    shared: list[SharedPlan]
    new_items: list[PlanItem]  # in the page's order
    last_looked: dt.datetime | None  # None: the carer had never looked

    @property
    def last_looked_words(self) -> str:
        """When they last looked, in words: "earlier today", "on 1 December 2026"; empty
        if they had never looked."""
        if self.last_looked is None:
            return ""
        day = timezone.localdate(self.last_looked)
        if day == timezone.localdate():
            return "earlier today"
        return f"on {date_format(day, 'j F Y')}"


def carer_person_open(*, viewer: User, relationship_id: int) -> CarerPersonPage:
    """The carer's page for one person they care for. Each shared item read is written
    to the audit trail with the consent decision that allowed it — after reading when the
    carer last looked (in the same query as the items), so the page can say what is new
    by the things to do's own rule (carecoord.audit.selectors)."""
    relationship = policy.relationship_of_carer(viewer, relationship_id)
    items = list(
        shared_items(carer_user=viewer, service_user=relationship.service_user,
                     with_latest_version=True)
        .annotate(last_looked=carer_last_looked(
            viewer=viewer, service_user_id=relationship.service_user_id))
    )
    last_looked = items[0].last_looked if items else None
    for item in items:
        item.is_new = new_to_carer(shared_at=item.shared_at, created_at=item.created_at,
                                   last_looked=last_looked)
    access_events_record(
        actor=viewer, service_user=relationship.service_user, action=CARER_ITEM_VIEW,
        targets=[
            (f"plan_item:{item.pk}",
             f"{policy.Basis.CARER_CONSENT} (consent decision {item.sharing_decision_id})")
            for item in items
        ],
    )
    shared = group_shared(items, carer_user=viewer)
    return CarerPersonPage(
        relationship=relationship, shared=shared,
        # In the order the page shows them: the first is where the summary links.
        new_items=[item for plan in shared for section in plan.sections
                   for item in section.items if item.is_new],
        last_looked=last_looked,
    )


@dataclass(frozen=True)
class ReviewViewsPage:
    relationship: CarerRelationship
    plan: Plan
    views: CarerReviewViews | None


def review_views_open(*, viewer: User, relationship_id: int) -> ReviewViewsPage:
    """The carer's page for giving views before a care plan review: only for a carer the
    service user involves in reviews (consent.policy.review_views_for_carer), else 404.
    Shows the review's date and what they have written for it, nothing else of the plan."""
    relationship, plan = policy.review_views_for_carer(viewer, relationship_id)
    views = CarerReviewViews.objects.filter(plan=plan, review_due_on=plan.next_review_on,
                                            carer_id=relationship.carer_id).first()
    return ReviewViewsPage(relationship=relationship, plan=plan, views=views)


# --- The carer's own space --------------------------------------------------------------
# Reads for the carer's own space, for the care coordinators the carer chose to share it
# with, and for the service user a carer's insight is about. Everything goes through the
# policy (consent/policy/carer_space.py); coordinators' reads are audited.

LOW_COPING = 3  # at or below this, the page offers support
CHART_CHECK_INS = 12  # the trend chart shows the latest dozen


def check_ins_need_support(check_ins: list[WellbeingCheckIn]) -> bool:
    """A low score (3 or under), or a latest score lower than each of the two before it.
    `check_ins` oldest first."""
    if not check_ins:
        return False
    latest = check_ins[-1].coping
    if latest <= LOW_COPING:
        return True
    if len(check_ins) >= 3:
        return all(latest < earlier.coping for earlier in check_ins[-3:-1])
    return False


def check_in_trend_text(check_ins: list[WellbeingCheckIn]) -> str:
    """The trend in words, for the chart's text alternative. `check_ins` oldest first."""
    if not check_ins:
        return ""
    latest = check_ins[-1]
    text = f"Latest: {latest.coping} out of 10 on {date_format(_local(latest), 'j F Y')}"
    if len(check_ins) == 1:
        return text + "."
    previous = check_ins[-2]
    when = date_format(_local(previous), "j F Y")
    if latest.coping > previous.coping:
        change = f"up from {previous.coping} on {when}"
    elif latest.coping < previous.coping:
        change = f"down from {previous.coping} on {when}"
    else:
        change = f"the same as on {when}"
    return f"{text}, {change}."


def _local(check_in: WellbeingCheckIn) -> dt.date:
    return timezone.localtime(check_in.created_at).date()


@dataclass
class CarerSpace:
    """Everything on the carer's own page."""

    carer: Carer
    needs: CarerNeeds | None
    check_ins: list[WellbeingCheckIn]  # oldest first
    needs_support: bool
    trend_text: str
    assessment_requests: list[AssessmentRequest]  # newest first
    open_assessment_request: AssessmentRequest | None
    relationships: list[CarerRelationship]  # active, each with `own_insights`

    @property
    def chart_check_ins(self) -> list[WellbeingCheckIn]:
        return self.check_ins[-CHART_CHECK_INS:]

    @property
    def latest_check_ins(self) -> list[WellbeingCheckIn]:
        """Newest first, for the list under the chart."""
        return list(reversed(self.check_ins))


def _shares() -> Prefetch:
    """The relationships a needs record, check-in or request was shared through, as
    `shared_through` (a list: templates read it without starting a query)."""
    return Prefetch("shared_with", to_attr="shared_through",
                    queryset=CarerRelationship.objects.select_related("service_user"))


@dataclass
class ShareChoice:
    relationship: CarerRelationship
    shared: bool


def _share_choices(row, relationships: list[CarerRelationship]) -> list[ShareChoice]:
    through = {r.pk for r in row.shared_through}
    return [ShareChoice(relationship=r, shared=r.pk in through) for r in relationships]


def own_relationships(*, viewer: User) -> QuerySet[CarerRelationship]:
    """The viewer's own active relationships as a carer: whom they may share through."""
    return (
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.active().filter(carer__user_id=viewer.pk))
        .select_related("service_user").order_by("started_on", "pk")
    )


def carer_space_open(*, viewer: User) -> CarerSpace:
    """The viewer's own space as a carer. Anyone who is not a carer: 404."""
    carer = policy.own_carer_space(viewer)
    needs = policy.carer_needs_visible_to(
        viewer, CarerNeeds.objects.filter(carer=carer).prefetch_related(_shares())).first()
    check_ins = list(
        policy.check_ins_visible_to(viewer, WellbeingCheckIn.objects.filter(carer=carer))
        .prefetch_related(_shares())
        .order_by("created_at", "pk")
    )
    requests = list(
        policy.assessment_requests_visible_to(
            viewer, AssessmentRequest.objects.filter(carer=carer)
        ).prefetch_related(_shares())
    )
    relationships = list(
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.active().filter(carer=carer)
        )
        .select_related("service_user")
        .prefetch_related(Prefetch(
            "insights",
            queryset=policy.insights_visible_to(viewer, CarerInsight.objects.all()),
            to_attr="own_insights",
        ))
        .order_by("started_on", "pk")
    )
    for check_in in check_ins:
        check_in.share_choices = _share_choices(check_in, relationships)
    return CarerSpace(
        carer=carer,
        needs=needs,
        check_ins=check_ins,
        needs_support=check_ins_need_support(check_ins),
        trend_text=check_in_trend_text(check_ins),
        assessment_requests=requests,
        open_assessment_request=next(
            (r for r in requests if r.status != AssessmentRequest.Status.COMPLETED), None
        ),
        relationships=relationships,
    )


def own_needs(*, viewer: User) -> tuple[Carer, CarerNeeds | None]:
    """The viewer's own needs (to change them), with `shared_through`. Anyone who is not
    a carer: 404."""
    carer = policy.own_carer_space(viewer)
    needs = policy.carer_needs_visible_to(
        viewer, CarerNeeds.objects.filter(carer=carer).prefetch_related(_shares())).first()
    return carer, needs


@dataclass
class CarerPanel:
    """What an allocated care coordinator sees of one carer's own space, on the record
    of someone they care for: only what the carer shared, all assessment requests, and
    what they know helps this person."""

    relationship: CarerRelationship
    needs: CarerNeeds | None
    check_ins: list[WellbeingCheckIn]  # shared ones, newest first
    assessment_requests: list[AssessmentRequest]
    insights: list[CarerInsight]

    @property
    def carer(self) -> Carer:
        return self.relationship.carer


def carer_panels_for_record(*, viewer: User, service_user: ServiceUser,
                            basis: policy.Basis | None = None) -> list[CarerPanel]:
    """For an allocated care coordinator, one panel per active carer of this record.
    Each read of a carer's information is written to the audit trail. Anyone else: [].
    `basis`: the viewer's basis on the record when the caller has just asked the policy
    it (`service_user_open`); otherwise it is asked here."""
    if basis is None:
        basis = policy.record_basis(viewer, service_user)
    if basis is not policy.Basis.ALLOCATED_COORDINATOR:
        return []
    relationships = list(
        policy.carer_relationships_visible_on_basis(
            viewer, basis, CarerRelationship.objects.active().filter(service_user=service_user)
        ).select_related("carer")
    )

    # What each carer shared through THIS relationship (with this person's coordinators):
    # not what they shared through another, even with the same coordinator.
    def shared(model: type) -> QuerySet:
        return policy.carer_space_shared_on_record(viewer, basis, service_user.pk,
                                                   relationships, model)

    needs = {n.carer_id: n for n in shared(CarerNeeds)}
    check_ins: dict[int, list[WellbeingCheckIn]] = {}
    for check_in in shared(WellbeingCheckIn).order_by("-created_at", "-pk"):
        check_ins.setdefault(check_in.carer_id, []).append(check_in)
    requests_by_carer: dict[int, list[AssessmentRequest]] = {}
    for request in shared(AssessmentRequest):
        requests_by_carer.setdefault(request.carer_id, []).append(request)
    insights: dict[int, list[CarerInsight]] = {}
    for insight in shared(CarerInsight):
        insights.setdefault(insight.relationship_id, []).append(insight)

    panels = [
        CarerPanel(
            relationship=r, needs=needs.get(r.carer_id), check_ins=check_ins.get(r.carer_id, []),
            # (Not `requests.get`: bandit B113 takes a dict of that name for the HTTP library.)
            assessment_requests=requests_by_carer.get(r.carer_id, []),
            insights=insights.get(r.pk, []),
        )
        for r in relationships
    ]
    basis = str(policy.CarerSpaceBasis.COORDINATOR)
    shared = str(policy.CarerSpaceBasis.COORDINATOR_SHARED)
    targets = []
    for panel in panels:
        if panel.needs is not None:
            targets.append((f"carer_needs:{panel.needs.pk}", shared))
        targets += [(f"wellbeing_check_in:{c.pk}", shared) for c in panel.check_ins]
        targets += [(f"assessment_request:{a.pk}", basis) for a in panel.assessment_requests]
        targets += [(f"carer_insight:{i.pk}", basis) for i in panel.insights]
    # Not filed under the service user's record: whether a carer shared something is the
    # carer's business, and the service user's "who has looked" list must not show it.
    access_events_record(actor=viewer, action="carer_space.view", targets=targets)
    return panels


def insights_about_self(*, viewer: User, service_user: ServiceUser,
                        basis: policy.Basis | None = None) -> list[CarerInsight]:
    """For the service user on their own record: what their carers told their care
    coordinator they know helps. Anyone else: []. `basis` as in `carer_panels_for_record`."""
    if basis is None:
        basis = policy.record_basis(viewer, service_user)
    if basis is not policy.Basis.SELF:
        return []
    return list(
        policy.insights_visible_to(
            viewer, CarerInsight.objects.filter(relationship__service_user=service_user)
        ).select_related("relationship__carer")
    )


def insight_open(*, viewer: User, insight_id: int) -> tuple[CarerInsight,
                                                               policy.CarerSpaceBasis]:
    """One insight, for its author, the person it is about, or their coordinator (whose
    read is audited). Anyone else: 404."""
    insight, basis = policy.insight_for_viewer(viewer, insight_id)
    if basis is policy.CarerSpaceBasis.COORDINATOR:
        access_events_record(
            actor=viewer, action="carer_insight.view",
            targets=[(f"carer_insight:{insight.pk}", str(basis))],
        )
    return insight, basis


def own_relationship_with(*, viewer: User, service_user_id: int) -> CarerRelationship | None:
    """The viewer's own active relationship as a carer of this person, if they have one."""
    return (
        policy.carer_relationships_visible_to(
            viewer,
            CarerRelationship.objects.active().filter(
                carer__user_id=viewer.pk, service_user_id=service_user_id),
        )
        .select_related("carer")
        .first()
    )
