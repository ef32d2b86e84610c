"""The consent pages: who can see what of a service user's plans, what one carer can
see (and the forms that change it), and a preview of exactly what that carer sees.

For the service user, and for their allocated care coordinator recording decisions on
their behalf (with the basis, which the service user sees). Everything is reached
through carecoord.selectors / consent.policy / consent.selectors; every change is one
call to a consent service. What a person may not see answers 404.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field

from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format
from django.views.decorators.http import require_http_methods, require_safe

from carecoord.records import selectors as record_selectors
from carecoord.records.models import ServiceUser, User
from carecoord.records.selectors import OpenedRecord
from carers.models import CarerRelationship
from carers.selectors import group_shared, shared_items
from consent import policy, selectors, services
from consent.forms import ACTION_FOLLOW, ConsentDecisionForm, ReviewInvolvementForm
from consent.models import ConsentDecision
from consent.policy import Basis
from consent.reviews import services as review_services
from consent.selectors import Cell, PlanBlock, SectionRow
from plans.models import Plan, PlanItem
from plans.sections import section as section_for
from plans.templatetags.plans_tags import possessive

READS_SHOWN = 50

# --- Opening the pages ----------------------------------------------------------------


def _open(request: HttpRequest, service_user_id: int, surface: str) -> OpenedRecord:
    """The record, if the viewer decides consent for it (the service user) or records
    decisions for them (their allocated care coordinator). Anyone else: 404."""
    record = record_selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface=surface
    )
    if not policy.can_decide_consent(request.user, record.service_user):
        raise Http404("No such record.")
    return record


def _words(record: OpenedRecord) -> dict:
    """How the pages speak: to the service user as "you", to their coordinator about
    the service user by name."""
    is_own = record.basis is Basis.SELF
    name = record.service_user.name
    return {
        "is_own": is_own,
        "service_user": record.service_user,
        "service_users": possessive(name),  # "Alex's"
        "owner": "your" if is_own else possessive(name),
    }


# --- What each carer can see, in words --------------------------------------------------


@dataclass
class RuleView:
    """A carer's section rule, as the page says it."""

    relationship: CarerRelationship
    decision: ConsentDecision | None

    @property
    def in_effect(self) -> bool:
        return self.decision is not None and self.decision.shared and not self.ended

    @property
    def ended(self) -> bool:
        d = self.decision
        return bool(d and d.shared and d.expires_on and d.expires_on < timezone.localdate())


@dataclass
class CellView:
    """One carer and one item: whether they can see it now, and why."""

    relationship: CarerRelationship
    shared: bool
    until: dt.date | None
    by_rule: bool
    ended_on: dt.date | None  # a share that has run out
    own_decision: ConsentDecision | None
    rule: RuleView


def _cell_view(cell: Cell, rule: RuleView) -> CellView:
    deciding = cell.explicit or rule.decision
    ended_on = None
    if (cell.sharing is None and deciding is not None and deciding.shared
            and deciding.expires_on is not None):
        ended_on = deciding.expires_on
    return CellView(
        relationship=cell.relationship, shared=cell.shared,
        until=cell.sharing.expires_on if cell.sharing else None, by_rule=cell.by_rule,
        ended_on=ended_on, own_decision=cell.explicit, rule=rule,
    )


@dataclass
class ItemView:
    item: PlanItem
    cells: list[CellView]
    shared_with_nobody: bool
    form: ConsentDecisionForm | None = None  # the carer page only

    @property
    def cell(self) -> CellView:
        """The one cell, on the page about one carer."""
        return self.cells[0]

    @property
    def may_follow_section(self) -> bool:
        """It has its own decision, and there is a section rule it could follow again."""
        cell = self.cells[0]
        return cell.own_decision is not None and cell.rule.decision is not None


@dataclass
class SectionView:
    plan: Plan
    code: str
    title: str
    rules: list[RuleView]
    items: list[ItemView] = field(default_factory=list)
    form: ConsentDecisionForm | None = None  # the carer page only

    @property
    def target(self) -> str:
        return _section_target(self.plan.pk, self.code)

    @property
    def rule(self) -> RuleView:
        return self.rules[0]


@dataclass
class PlanView:
    plan: Plan
    sections: list[SectionView]


def _section_view(plan: Plan, row: SectionRow) -> SectionView:
    rules = [RuleView(relationship=r, decision=d) for r, d in row.rules]
    view = SectionView(plan=plan, code=row.code, title=row.title, rules=rules)
    for item_row in row.items:
        view.items.append(ItemView(
            item=item_row.item,
            cells=[_cell_view(cell, rule) for cell, rule in zip(item_row.cells, rules,
                                                                  strict=True)],
            shared_with_nobody=item_row.shared_with_nobody,
        ))
    return view


def _plan_views(blocks: list[PlanBlock]) -> list[PlanView]:
    return [PlanView(plan=block.plan,
                     sections=[_section_view(block.plan, row) for row in block.sections])
            for block in blocks]


# --- The overview -----------------------------------------------------------------------


def _reads(viewer: User, service_user: ServiceUser, titles: dict[int, str]) -> list[dict]:
    """When carers read what was shared: who, when, and which items (by their titles while
    they are still in the plans). One row per page the carer opened."""
    rows = []
    for event in selectors.shared_reads(viewer=viewer, service_user=service_user)[:READS_SHOWN]:
        item_titles, removed = [], 0
        for target in event.shown_targets():
            kind, _, pk = target.partition(":")
            title = titles.get(int(pk)) if kind == "plan_item" and pk.isdigit() else None
            if title is None:
                removed += 1
            else:
                item_titles.append(title)
        rows.append({"event": event, "item_titles": item_titles, "removed": removed})
    return rows


@require_safe
def consent_overview(request: HttpRequest, service_user_id: int) -> HttpResponse:
    record = _open(request, service_user_id, surface="consent")
    service_user = record.service_user
    relationships = selectors.carers_of(viewer=request.user, service_user=service_user)
    plans = _plan_views(selectors.consent_matrix(
        viewer=request.user, service_user=service_user, relationships=relationships))
    titles = {view.item.pk: view.item.title
              for plan in plans for section in plan.sections for view in section.items}
    return render(request, "consent/overview.html", _words(record) | {
        "relationships": relationships,
        "plans": plans,
        "history": selectors.consent_history(viewer=request.user, service_user=service_user),
        "reads": _reads(request.user, service_user, titles),
        "reads_shown": READS_SHOWN,
        "today": timezone.localdate(),
    })


# --- One carer: what they can see, and the forms that change it ------------------------

_ITEM_TARGET = re.compile(r"^item-(\d{1,18})$")
_SECTION_TARGET = re.compile(r"^section-(\d{1,18})-([a-z_]{1,40})$")


def _item_target(item_id: int) -> str:
    return f"item-{item_id}"


def _section_target(plan_id: int, code: str) -> str:
    return f"section-{plan_id}-{code}"


def _item_of(viewer: User, service_user: ServiceUser, item_id: int) -> PlanItem:
    item, _ = policy.item_for_viewer(viewer, item_id)
    if item.plan.service_user_id != service_user.pk:
        raise Http404("No such item.")
    return item


def _plan_of(viewer: User, service_user: ServiceUser, plan_id: int) -> Plan:
    plan, _ = policy.plan_for_viewer(viewer, plan_id)
    if plan.service_user_id != service_user.pk:
        raise Http404("No such plan.")
    return plan


def _until(expires_on: dt.date | None) -> str:
    return f" until {date_format(expires_on, 'j F Y')}" if expires_on else ""


def _decide(request: HttpRequest, record: OpenedRecord, relationship: CarerRelationship,
            target: str, form: ConsentDecisionForm) -> str:
    """Make the one decision the form asks for; returns what to tell the person.
    Raises ConsentError for a decision that cannot be made."""
    viewer = request.user
    service_user = record.service_user
    carer = relationship.carer
    name = carer.name
    owner = "your" if record.basis is Basis.SELF else possessive(service_user.name)
    if match := _ITEM_TARGET.match(target):
        item = _item_of(viewer, service_user, int(match[1]))
        if form.chosen_action == ACTION_FOLLOW:
            services.consent_item_follow_section(
                item=item, carer=carer, decided_by=viewer,
                basis=form.decision_kwargs()["basis"],
                note=form.decision_kwargs().get("note", ""),
            )
            return (f"“{item.title}” follows the rule for its section again. "
                    "This took effect straight away.")
        decision = services.consent_decide_item(
            item=item, carer=carer, shared=form.shared, decided_by=viewer,
            **form.decision_kwargs(),
        )
        if decision.shared:
            return f"{name} can now see “{item.title}”{_until(decision.expires_on)}."
        return (f"{name} can no longer see “{item.title}”. This took effect straight "
                "away.")
    match = _SECTION_TARGET.match(target)
    plan = _plan_of(viewer, service_user, int(match[1]))
    try:
        plan_section = section_for(plan.kind, match[2])
    except KeyError:
        raise Http404("No such section.") from None
    decision = services.consent_decide_section(
        plan=plan, section=plan_section.code, carer=carer, shared=form.shared,
        decided_by=viewer, **form.decision_kwargs(),
    )
    where = f"“{plan_section.title}” in {owner} {plan.get_kind_display().lower()}"
    if decision.shared:
        return (f"{name} can now see everything in {where}, including anything added "
                f"later{_until(decision.expires_on)}.")
    return (f"{name} can no longer see {where} as a whole. Anything shared with them item "
            "by item is still shared. This took effect straight away.")


def _form(record: OpenedRecord, prefix: str, data=None, *,
          allow_follow: bool = False) -> ConsentDecisionForm:
    return ConsentDecisionForm(
        data, prefix=prefix, allow_follow=allow_follow,
        records_for_someone_else=record.basis is not Basis.SELF,
    )


@require_http_methods(["GET", "HEAD", "POST"])
def consent_carer(request: HttpRequest, service_user_id: int,
                  relationship_id: int) -> HttpResponse:
    record = _open(request, service_user_id, surface="consent_carer")
    service_user = record.service_user
    relationship = policy.carer_of_record(request.user, service_user, relationship_id)
    page_url = reverse("consent_carer", args=[service_user.pk, relationship.pk])

    failed_target, failed_form = "", None
    if request.method == "POST":
        target = request.POST.get("target", "")
        if not (_ITEM_TARGET.match(target) or _SECTION_TARGET.match(target)):
            raise Http404("No such item or section.")
        form = _form(record, target, request.POST, allow_follow=True)
        if form.is_valid():
            try:
                message = _decide(request, record, relationship, target, form)
            except services.ConsentError as error:
                form.add_error(None, str(error))
            else:
                messages.success(request, message)
                return redirect(f"{page_url}#{target}")
        failed_target, failed_form = target, form

    plans = _plan_views(selectors.consent_matrix(
        viewer=request.user, service_user=service_user, relationships=[relationship]))
    for plan in plans:
        for section in plan.sections:
            section.form = (failed_form if section.target == failed_target
                            else _form(record, section.target))
            for view in section.items:
                target = _item_target(view.item.pk)
                view.form = (failed_form if target == failed_target
                             else _form(record, target, allow_follow=view.may_follow_section))
    return render(request, "consent/carer.html", _words(record) | {
        "relationship": relationship,
        "carer": relationship.carer,
        "plans": plans,
        "form": failed_form,  # base.html puts "Error:" in the title when it has errors
        "failed_target": failed_target,
        "today": timezone.localdate(),
        "involvement": selectors.review_involvement(relationship=relationship),
        "involvement_form": ReviewInvolvementForm(on_behalf=record.basis is not Basis.SELF),
    })


@require_http_methods(["POST"])
def consent_review_involvement(request: HttpRequest, service_user_id: int,
                               relationship_id: int) -> HttpResponse:
    """Involve a carer in reviews, or stop: one call to consent.reviews.services."""
    record = _open(request, service_user_id, surface="consent_review_involvement")
    relationship = policy.carer_of_record(request.user, record.service_user, relationship_id)
    form = ReviewInvolvementForm(request.POST, on_behalf=record.basis is not Basis.SELF)
    page_url = reverse("consent_carer", args=[record.service_user.pk, relationship.pk])
    if not form.is_valid():
        messages.error(request, "Choose whether to involve them in reviews.")
        return redirect(f"{page_url}#reviews")
    involved = form.cleaned_data["involve"] == "yes"
    try:
        review_services.review_involvement_decide(
            relationship=relationship, involved=involved, decided_by=request.user,
            basis=form.cleaned_data.get("basis", ""), note=form.cleaned_data["note"])
    except services.ConsentError as error:
        messages.error(request, str(error))
    else:
        name = relationship.carer.name
        messages.success(request, f"{name} will be asked for their views before reviews."
                         if involved else f"{name} will no longer be asked for their views "
                         "before reviews.")
    return redirect(f"{page_url}#reviews")


# --- The preview ----------------------------------------------------------------------


@require_safe
def consent_preview(request: HttpRequest, service_user_id: int,
                    relationship_id: int) -> HttpResponse:
    """Exactly what the carer sees: the carer's own selector and template. It does not
    write the carer's read events — the carer has not read anything."""
    record = _open(request, service_user_id, surface="consent_preview")
    service_user = record.service_user
    relationship = policy.carer_of_record(request.user, service_user, relationship_id)
    carer = relationship.carer
    shared = group_shared(list(shared_items(carer_user=carer.user, service_user=service_user)),
                          carer_user=carer.user)
    return render(request, "consent/preview.html", _words(record) | {
        "relationship": relationship,
        "carer": carer,
        "has_account": carer.user_id is not None,
        "shared": shared,
        "carer_name": carer.name,
    })
