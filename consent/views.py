"""The consent pages: who can see what of a service user's plans, what one carer can
see (and the forms that change it), and a preview of exactly what that carer sees.

For the service user, and for their allocated care coordinator recording decisions on
their behalf (with the basis, which the service user sees). Everything is reached
through carecoord.selectors / consent.policy / consent.selectors; every change is one
call to a consent service. What a person may not see answers 404.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from functools import cached_property

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
from consent.forms import ConsentChoicesForm, ReviewInvolvementForm
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
    if not policy.decides_consent_on_basis(record.basis):
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
    who_can_see: str = ""  # the overview: who exactly can read it, in words

    @property
    def cell(self) -> CellView:
        """The one cell, on the page about one carer."""
        return self.cells[0]


@dataclass
class SectionView:
    plan: Plan
    code: str
    title: str
    rules: list[RuleView]
    items: list[ItemView] = field(default_factory=list)

    @property
    def target(self) -> str:
        return f"section-{self.plan.pk}-{self.code}"

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
        viewer=request.user, service_user=service_user, relationships=relationships,
        basis=record.basis))
    views = [view for plan in plans for section in plan.sections for view in section.items]
    titles = {view.item.pk: view.item.title for view in views}
    readers = selectors.readers_of_items(viewer=request.user, service_user=service_user,
                                         items=[view.item for view in views])
    for view in views:
        view.who_can_see = readers_words(readers.get(view.item.pk), viewer=request.user,
                                         service_user=service_user)
    return render(request, "consent/overview.html", _words(record) | {
        "relationships": relationships,
        "plans": plans,
        "history": selectors.consent_history(viewer=request.user, service_user=service_user),
        "reads": _reads(request.user, service_user, titles),
        "reads_shown": READS_SHOWN,
        "always": readers_words(
            selectors.readers_of_record(viewer=request.user, service_user=service_user),
            viewer=request.user, service_user=service_user),
        "today": timezone.localdate(),
    })


# --- One carer: what they can see, and the one form that changes it --------------------

def _and(words: list[str]) -> str:
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def readers_words(readers: policy.ItemReaders | None, *, viewer: User,
                  service_user: ServiceUser) -> str:
    """Who can see something, by name: "you and your care coordinator, Sam Okafor".
    The names are the policy's (consent.policy.readers); only the words are made here."""
    if readers is None:
        return ""
    own = service_user.user_id == viewer.pk
    parts = []
    if readers.service_user is not None:
        parts.append("you" if own else service_user.name)
    others = [user for user in readers.coordinators if user.pk != viewer.pk]
    if any(user.pk == viewer.pk for user in readers.coordinators):
        parts.append("you (their care coordinator)")
    if others:
        whose = "your" if own else "their"
        role = "care coordinator" if len(others) == 1 else "care coordinators"
        names = _and([user.display_name for user in others])
        few = not readers.care_team and not readers.carers and len(parts) == 1
        parts.append(f"{whose} {role}, {names}" if few else f"{whose} {role} {names}")
    for reader in readers.care_team:
        if reader.user.pk == viewer.pk:
            continue
        parts.append(f"{reader.user.display_name} ({reader.role.lower()}"
                     f"{'' if reader.emergency else ', care team'})")
    parts.extend(carer.name for carer in readers.carers)
    if not parts:
        return ""
    return _and(parts)  # lower case "you": it follows "Who can see this:"; |capfirst it


@dataclass
class ChoiceItem:
    """One item on the carer page: its state for this carer, and whether it is ticked."""

    view: ItemView
    checked: bool = False

    @property
    def item(self) -> PlanItem:
        return self.view.item

    @property
    def cell(self) -> CellView:
        return self.view.cell


@dataclass
class ChoiceSection:
    """One section on the carer page, as one line that opens to its items."""

    section: SectionView
    open_ended: bool
    items: list[ChoiceItem]
    checked: bool = False

    @property
    def value(self) -> str:
        return f"{self.section.plan.pk}-{self.section.code}"

    @property
    def target(self) -> str:
        return self.section.target

    @property
    def title(self) -> str:
        return self.section.title

    @property
    def rule(self) -> RuleView:
        return self.section.rule

    @cached_property  # the page asks for it several times a section
    def shared_count(self) -> int:
        return sum(1 for choice in self.items if choice.cell.shared)

    @cached_property
    def state(self) -> str:
        """"whole" (shared as a whole, including later), "some" (some or all of its items
        one by one) or "none"."""
        if self.rule.in_effect:
            return "whole"
        return "some" if self.shared_count else "none"

    @property
    def offers_whole(self) -> bool:
        """A whole-section choice, unless it would only repeat the one item of a section
        that takes no new ones (the same name twice); always while it is shared as a whole,
        so that it can be stopped."""
        return (self.open_ended or len(self.items) != 1 or self.rule.in_effect
                or self.rule.ended)

    @property
    def is_open(self) -> bool:
        return self.checked or any(choice.checked for choice in self.items)


def _choice_sections(plans: list[PlanView], chosen_sections: set[str],
                     chosen_items: set[str]) -> list[tuple[PlanView, list[ChoiceSection]]]:
    out = []
    for plan_view in plans:
        sections = []
        for section in plan_view.sections:
            choice = ChoiceSection(
                section=section, open_ended=section_for(plan_view.plan.kind,
                                                        section.code).open_ended,
                items=[ChoiceItem(view=view, checked=str(view.item.pk) in chosen_items)
                       for view in section.items])
            choice.checked = choice.value in chosen_sections
            sections.append(choice)
        out.append((plan_view, sections))
    return out


def _until(expires_on: dt.date | None) -> str:
    return f" until {date_format(expires_on, 'j F Y')}" if expires_on else ""


def _titles(titles: list[str]) -> str:
    return _and([f"“{title}”" for title in titles])


def _done_words(done: services.ManyDecided, carer_name: str,
                section_titles: dict[tuple[int, str], str],
                open_ended: set[tuple[int, str]]) -> str:
    """What one submission did, in a sentence or two."""
    wholes = [(d.plan_id, d.section) for d in done.sections if d.shared == done.shared]
    ended = [section_titles[(d.plan_id, d.section)] for d in done.sections
             if d.shared != done.shared]
    titles = [d.item.title for d in done.items]
    parts = [f"everything in {_titles([section_titles[key] for key in wholes])}"] \
        if wholes else []
    if titles:
        parts.append(_titles(titles) if len(titles) <= 3 else f"{len(titles)} items")
    if not done.shared:
        return (f"{carer_name} can no longer see {'; and '.join(parts)}. This took effect "
                "straight away.")
    until = _until(done.decisions[0].expires_on) if done.decisions else ""
    words = [f"{carer_name} can now see {'; and '.join(parts)}{until}."] if parts else []
    later = [section_titles[key] for key in wholes if key in open_ended]
    if later:
        words.append(f"Anything added to {_titles(later)} later will be shared too.")
    if ended:
        words.append(f"Things added to {_titles(ended)} later will not be shared.")
    return " ".join(words)


@require_http_methods(["GET", "HEAD", "POST"])
def consent_carer(request: HttpRequest, service_user_id: int,
                  relationship_id: int) -> HttpResponse:
    record = _open(request, service_user_id, surface="consent_carer")
    service_user = record.service_user
    relationship = policy.carer_of_record(request.user, service_user, relationship_id,
                                          basis=record.basis)
    page_url = reverse("consent_carer", args=[service_user.pk, relationship.pk])
    plans = _plan_views(selectors.consent_matrix(
        viewer=request.user, service_user=service_user, relationships=[relationship],
        basis=record.basis))
    sections = {f"{plan.plan.pk}-{section.code}": (plan.plan, section.code, section.title)
                for plan in plans for section in plan.sections}
    items = {str(view.item.pk): view.item
             for plan in plans for section in plan.sections for view in section.items}

    data = request.POST if request.method == "POST" else None
    form = ConsentChoicesForm(
        data, records_for_someone_else=record.basis is not Basis.SELF,
        section_choices=list(sections), item_choices=[int(pk) for pk in items])
    if data is not None:
        # Something that is not on this page (someone else's, or nothing at all) is not
        # found, as it was before the page had one form.
        if not (form.chosen("sections") <= sections.keys()
                and form.chosen("items") <= items.keys()):
            raise Http404("No such item or section.")
        if form.is_valid():
            try:
                done = services.consent_decide_many(
                    service_user=service_user, carer=relationship.carer,
                    decided_by=request.user,
                    sections=[sections[v][:2] for v in form.cleaned_data["sections"]],
                    items=[items[v] for v in form.cleaned_data["items"]],
                    **form.decision_kwargs())
            except services.ConsentError as error:
                form.add_error(None, str(error))
            else:
                titles = {(plan.pk, code): title for plan, code, title in sections.values()}
                open_ended = {(plan.pk, code) for plan, code, _ in sections.values()
                              if section_for(plan.kind, code).open_ended}
                messages.success(request, _done_words(done, relationship.carer.name, titles,
                                                      open_ended))
                return redirect(page_url)

    chosen_sections, chosen_items = form.chosen("sections"), form.chosen("items")
    plan_choices = _choice_sections(plans, chosen_sections, chosen_items)
    first_choice = next((f"choose-{choice.value}" for _, group in plan_choices
                         for choice in group if choice.offers_whole), None) or next(
        (f"choose-item-{c.item.pk}" for _, group in plan_choices for s in group
         for c in s.items), "choices")
    return render(request, "consent/carer.html", _words(record) | {
        "relationship": relationship,
        "carer": relationship.carer,
        "plans": plan_choices,
        "form": form,  # base.html puts "Error:" in the title when it has errors
        "first_choice": first_choice,
        "always": readers_words(
            selectors.readers_of_record(viewer=request.user, service_user=service_user,
                                        basis=record.basis),
            viewer=request.user, service_user=service_user),
        "today": timezone.localdate(),
        "involvement": selectors.review_involvement(relationship=relationship),
        "involvement_form": ReviewInvolvementForm(on_behalf=record.basis is not Basis.SELF),
    })


@require_http_methods(["POST"])
def consent_review_involvement(request: HttpRequest, service_user_id: int,
                               relationship_id: int) -> HttpResponse:
    """Involve a carer in reviews, or stop: one call to consent.reviews.services."""
    record = _open(request, service_user_id, surface="consent_review_involvement")
    relationship = policy.carer_of_record(request.user, record.service_user, relationship_id,
                                          basis=record.basis)
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
    relationship = policy.carer_of_record(request.user, service_user, relationship_id,
                                          basis=record.basis)
    carer = relationship.carer
    shared = group_shared(list(shared_items(carer_user=carer.user, service_user=service_user)),
                          carer_user=carer.user)
    return render(request, "consent/preview.html", _words(record) | {
        "relationship": relationship,
        "carer": carer,
        "has_account": carer.user_id is not None,
        "shared": shared,
        "carer_name": carer.name,
        # Not the carer's "New" tags: they would tell when the carer last looked.
        "preview": True,
    })
