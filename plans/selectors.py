"""Reads for plans. Every read takes `viewer=` and goes through the access policy;
opening someone else's plan writes an access event."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import (
    Exists,
    OuterRef,
    Prefetch,
    QuerySet,
    Value,
    prefetch_related_objects,
)
from django.db.models.functions import Coalesce, JSONObject, NullIf
from django.http import Http404

from carecoord.audit.services import access_events_record
from carecoord.records.models import Episode, ServiceUser, User
from carecoord.records.selectors import audit_read
from carecoord.web.json_rows import JSONRows, instances
from carers.models import Carer
from consent import policy
from consent.policy import Basis
from plans import first_meeting
from plans.models import (
    CarerReviewViews,
    FirstMeeting,
    GoalAgreement,
    ItemChange,
    Plan,
    PlanItem,
    PlanVersion,
    ProgressUpdate,
    RequiredSigner,
    Review,
    Signature,
    Suggestion,
)
from plans.sections import (
    ItemType,
    Part,
    PlanKind,
    Section,
    SectionState,
    State,
    section_state,
    sections_for,
)
from plans.services import goal_is_agreed, version_status


@dataclass
class OpenedPlan:
    plan: Plan
    basis: Basis
    can_propose: bool
    can_suggest: bool
    can_record_review: bool

    @property
    def whole(self) -> bool:
        """The viewer reads the whole plan (its reviews, versions' reasons, carers), not
        only the parts a care-team role or emergency access gives them."""
        return self.basis in policy.FULL_BASES


def plan_open(*, viewer: User, plan_id: int, surface: str) -> OpenedPlan:
    """The plan, and what the viewer may do with it — decided once, from the basis the
    policy opened it on, so the page never checks the record again (issue 15)."""
    plan, basis = policy.plan_for_viewer(viewer, plan_id)
    audit_read(viewer=viewer, service_user=plan.service_user, basis=basis,
               surface=surface, target=f"plan:{plan.pk}")
    return OpenedPlan(
        plan=plan, basis=basis,
        can_propose=policy.can_propose_on_basis(basis),
        can_suggest=policy.can_suggest_on_basis(basis, plan),
        can_record_review=policy.can_record_review_on_basis(basis, plan),
    )


def plans_for_service_user(*, viewer: User, service_user: ServiceUser,
                           basis: Basis | None = None) -> dict[str, Plan]:
    """The service user's plans by kind (only those that exist), for a record the viewer
    has already opened (on `basis`, when the caller knows it: the policy then does not ask
    again what the record's opening decided, `plans_visible_on_basis`)."""
    plans = policy.plans_visible_on_basis(viewer, basis,
                                          Plan.objects.filter(service_user=service_user))
    return {plan.kind: plan for plan in plans}


@dataclass
class ItemView:
    item: PlanItem
    can_edit: bool
    agreed: bool = False
    agreed_by: set[str] = field(default_factory=set)
    viewer_party: str | None = None  # the side of a goal's agreement the viewer speaks for
    progress: list[ProgressUpdate] = field(default_factory=list)
    agreements: list[GoalAgreement] = field(default_factory=list)  # a goal's, every revision
    links: dict[str, str] = field(default_factory=dict)  # by URL name: set by the page


@dataclass
class SectionView:
    section: Section
    items: list[ItemView]
    can_add: bool
    can_edit: bool
    # How far it has got; None for a reader who sees only part of the plan (a care-team
    # place, emergency access): a state worked out from part of a section would mislead.
    state: SectionState | None = None

    @property
    def anchor(self) -> str:
        return f"section-{self.section.code}"

    @property
    def empty_prompts(self) -> list[PlanItem]:
        return [view.item for view in self.items if view.item.prompt and view.item.is_empty]

    @property
    def incomplete(self) -> bool:
        return self.section.must_be_complete and bool(self.empty_prompts)


def _person(prefix: str) -> JSONObject:
    """For a JSON row: the user a foreign key `prefix` names, with what their
    `display_name` is made of (the fields `_people` gives back)."""
    return JSONObject(id=f"{prefix}_id", preferred_name=f"{prefix}__preferred_name",
                      full_name=f"{prefix}__full_name", email=f"{prefix}__email")


def _people(model: type, rows: list[dict] | None, person: str,
            person_model: type = User) -> list:
    """`instances` of `model` from JSON rows, each with the user (or carer) its `person`
    foreign key names already in hand (from `_person`), so naming them costs no query."""
    made = instances(model, rows)
    for obj, row in zip(made, rows or [], strict=True):
        fields = row.get(person) or {}
        setattr(obj, person, instances(person_model, [fields])[0]
                if fields.get("id") is not None else None)
    return made


def _goal_rows(items: QuerySet[PlanItem]) -> QuerySet[PlanItem]:
    """Each item with its goal agreements and progress notes as JSON lists in its own
    row (empty for anything but a goal): two queries fewer than prefetching them, and
    no queryset built per item to hold them (issue 15)."""
    agreements = (
        GoalAgreement.objects.filter(item=OuterRef("pk")).order_by("pk")
        .values(row=JSONObject(id="pk", item_id="item_id", party="party",
                               revision="revision", agreed_by_id="agreed_by_id",
                               agreed_at="agreed_at", agreed_by=_person("agreed_by")))
    )
    progress = (
        ProgressUpdate.objects.filter(item=OuterRef("pk")).order_by("recorded_on", "pk")
        .values(row=JSONObject(id="pk", item_id="item_id", recorded_on="recorded_on",
                               rating="rating", note="note", recorded_by_id="recorded_by_id",
                               created_at="created_at", recorded_by=_person("recorded_by")))
    )
    return items.annotate(agreement_rows=JSONRows(agreements), progress_rows=JSONRows(progress))


def plan_sections(*, viewer: User, opened: OpenedPlan) -> list[SectionView]:
    """Each section with its live items, goals' agreements and progress — in one query
    however many items there are."""
    plan = opened.plan
    items = _goal_rows(
        policy.items_visible_on_basis(viewer, opened.basis,
                                      plan.items.filter(removed_at__isnull=True))
        .select_related("author", "responsibility")
        .order_by("position", "pk")
    )
    party = policy.goal_party_for_basis(opened.basis)
    by_section: dict[str, list[PlanItem]] = {}
    for item in items:
        by_section.setdefault(item.section, []).append(item)
    result = []
    for plan_section in sections_for(plan.kind):
        can_edit = policy.section_editable_on_basis(opened.basis, plan, plan_section.code)
        views = []
        for item in by_section.get(plan_section.code, []):
            view = ItemView(item=item, can_edit=can_edit or policy.own_words_editable(
                opened.basis, item))
            if item.item_type == ItemType.GOAL:
                view.viewer_party = party
                _add_goal_state(
                    view, _people(GoalAgreement, item.agreement_rows, "agreed_by"),
                    _people(ProgressUpdate, item.progress_rows, "recorded_by"))
            views.append(view)
        if not views and not opened.whole:
            continue  # a section outside the viewer's areas is not shown at all
        result.append(SectionView(
            section=plan_section, items=views, can_add=can_edit and plan_section.open_ended,
            can_edit=can_edit,
            state=section_state(plan_section, [_part(view) for view in views])
            if opened.whole else None))
    return result


def _part(view: ItemView) -> Part:
    item = view.item
    return Part(prompt=item.prompt, written=not (item.prompt and item.is_empty),
                agreed=view.agreed if item.item_type == ItemType.GOAL else None)


@dataclass(frozen=True)
class ContentsEntry:
    """One line of a page's contents list: where it goes, what it says, its state."""

    anchor: str
    title: str
    state: SectionState | None = None


def version_to_sign(*, versions: list[VersionRow]) -> PlanVersion | None:
    """The version waiting for the viewer's signature, if there is one, from the rows
    `versions_for_plan` read (each knows whether the viewer may sign it: the policy's
    `version_signable_on_basis`, the basis form of `versions_signable_by`)."""
    if versions and versions[0].signable:
        return versions[0].version
    return None


def plan_contents(*, opened: OpenedPlan, sections: list[SectionView],
                  to_sign: PlanVersion | None, printing: bool = False) -> list[ContentsEntry]:
    """The plan page's contents list: each section the viewer sees, with its state, then
    the versions (needing the viewer's signature, if one does), reviews and peer support
    where the page shows them (the print view has no peer support)."""
    entries = [ContentsEntry(sv.anchor, sv.section.title, sv.state) for sv in sections]
    entries.append(ContentsEntry("versions", "Versions and signatures",
                                 SectionState(State.NEEDS_SIGNATURE) if to_sign else None))
    if opened.plan.kind == PlanKind.CARE_PLAN and opened.whole:
        entries.append(ContentsEntry("reviews", "Reviews"))
        if not printing:
            entries.append(ContentsEntry("signposting", "Peer support and learning"))
    return entries


def _add_goal_state(view: ItemView, agreements: list[GoalAgreement],
                    progress: list[ProgressUpdate]) -> None:
    """A goal's agreement (to its current words only) and progress, from its agreements
    (every revision) and progress notes (oldest first)."""
    item = view.item
    view.agreements = agreements
    view.agreed = goal_is_agreed(item, agreements)
    view.agreed_by = {a.party for a in agreements if a.revision == item.revision}
    view.progress = progress


def item_view(*, viewer: User, item: PlanItem) -> ItemView:
    """One item as the plan page shows it, for an item already opened through item_open
    (or just written by `viewer`): editability, and a goal's agreement and progress (the
    progress only for those who may read it: a carer, only if that was shared too)."""
    view = ItemView(item=item, can_edit=policy.can_edit_item(viewer, item))
    if item.item_type == ItemType.GOAL:
        prefetch_related_objects([item], "agreements", "progress")
        _add_goal_state(view, list(item.agreements.all()), list(item.progress.all()))
        if not policy.can_view_progress(viewer, item):
            view.progress = []
    return view


def item_open(
    *, viewer: User, item_id: int, surface: str, include_removed: bool = False
) -> tuple[PlanItem, Basis]:
    """An item the viewer may see. `include_removed` for history and for telling an editor
    that the item they were changing has been removed (rather than a bare 404)."""
    item, basis = policy.item_for_viewer(viewer, item_id, include_removed=include_removed)
    audit_read(viewer=viewer, service_user=item.plan.service_user, basis=basis,
               surface=surface, target=f"plan_item:{item.pk}")
    return item, basis


def goal_open(*, viewer: User, item_id: int, surface: str) -> tuple[PlanItem, Basis]:
    """A goal the viewer may see. Agreements and progress exist only on goals, so any
    other item is "not found" there, like one the viewer may not see."""
    item, basis = item_open(viewer=viewer, item_id=item_id, surface=surface)
    if item.item_type != ItemType.GOAL:
        raise Http404
    return item, basis


def goal_progress_open(*, viewer: User, item_id: int, surface: str) -> PlanItem:
    """A goal whose progress notes the viewer may read, asked before anything is audited:
    not found for a carer the notes were not shared with (sharing a goal shares its
    words; its progress notes are a choice of their own)."""
    item, basis = policy.item_for_viewer(viewer, item_id)
    if item.item_type != ItemType.GOAL or not policy.can_view_progress(viewer, item):
        raise Http404("No such goal.")
    audit_read(viewer=viewer, service_user=item.plan.service_user, basis=basis,
               surface=surface, target=f"plan_item:{item.pk}")
    return item


def goal_progress(*, viewer: User, item: PlanItem) -> QuerySet[ProgressUpdate]:
    """Progress on a goal the caller has already opened (goal_progress_open, or goal_open
    by an editor), oldest first; never for a viewer the notes are not shared with."""
    if not policy.can_view_progress(viewer, item):
        raise Http404("No such goal.")
    return item.progress.select_related("recorded_by")


def item_history_open(*, viewer: User, item_id: int, surface: str) -> tuple[PlanItem, Basis]:
    """An item (removed ones too) whose edit history the viewer may read: the record's
    readers only. A carer it is shared with gets 404: the history holds earlier wordings,
    which were never shared."""
    item, basis = policy.item_history_for_viewer(viewer, item_id)
    audit_read(viewer=viewer, service_user=item.plan.service_user, basis=basis,
               surface=surface, target=f"plan_item:{item.pk}")
    return item, basis


def item_history(*, item: PlanItem) -> QuerySet[ItemChange]:
    """History of an item the caller has already opened through item_history_open."""
    return item.changes.select_related("changed_by").order_by("-revision")


@dataclass
class VersionRow:
    version: PlanVersion
    status: str
    signable: bool = False  # the viewer may sign or decline it now
    # Its answers (no reasons: the list never shows them), each with its signer in hand.
    signatures: list[Signature] = field(default_factory=list)


def versions_for_plan(*, viewer: User, opened: OpenedPlan,
                      with_snapshots: bool = False) -> list[VersionRow]:
    """The opened plan's versions the viewer may read (the policy's basis form: the
    basis it was opened on says), newest first, each with its status.
    `with_snapshots`: also their frozen entries (the comparison page); the list itself
    never reads them (a big JSON column, many kilobytes a version)."""
    plan = opened.plan
    queryset = plan.versions.all() if with_snapshots else plan.versions.defer("snapshot")
    # The answers give each version's status (and who declined), read in the versions'
    # own rows as a JSON list (a prefetch was a query of its own); who must sign is the
    # version page's business, not the list's.
    answers = (
        Signature.objects.filter(version=OuterRef("pk")).order_by("signed_at", "pk")
        .values(row=JSONObject(id="pk", version_id="version_id", signer_id="signer_id",
                               role="role", decision="decision", signed_at="signed_at",
                               signer=_person("signer")))
    )
    versions = list(
        policy.versions_visible_on_basis(opened.basis, plan, queryset)
        .select_related("proposed_by")
        .annotate(
            answer_rows=JSONRows(answers),
            # Who must sign, by role: with the answers and the basis, whether the viewer
            # may sign it now (the plan page's sign link).
            signer_rows=JSONRows(RequiredSigner.objects.filter(version=OuterRef("pk"))
                                 .order_by("pk").values(row=JSONObject(role="role"))),
        )
        .order_by("-number")
    )
    latest = versions[0].number if versions else None
    rows = []
    for version in versions:
        signatures = _people(Signature, version.answer_rows, "signer")
        signable = policy.version_signable_on_basis(
            viewer, opened.basis, version, latest=version.number == latest,
            signatures=signatures, required_roles={row["role"] for row in version.signer_rows})
        rows.append(VersionRow(
            version, version_status(version, latest_number=latest, signatures=signatures),
            signable, signatures))
    return rows


def latest_agreed_version(*, viewer: User, plan: Plan) -> PlanVersion | None:
    return (
        policy.versions_visible_to(viewer, plan.versions.filter(agreed_at__isnull=False))
        .order_by("-number")
        .first()
    )


@dataclass
class OpenedVersion:
    version: PlanVersion
    status: str
    signer_role: str | None
    already_answered: bool
    can_answer: bool  # may sign or decline now (policy.can_sign)
    entries: list[dict]  # the snapshot entries this viewer may read


def version_open(*, viewer: User, version_id: int, surface: str) -> OpenedVersion:
    version = policy.version_for_viewer(viewer, version_id)
    audit_read(viewer=viewer, service_user=version.plan.service_user,
               basis=policy.version_basis(viewer, version),
               surface=surface, target=f"plan_version:{version.pk}")
    return version_view(viewer=viewer, version=version)


def version_view(*, viewer: User, version: PlanVersion) -> OpenedVersion:
    """What `viewer` sees of a version already reached through the policy (just opened,
    proposed or answered by them)."""
    prefetch_related_objects([version], "signatures__signer")
    latest = version.plan.versions.order_by("-number").values_list("number", flat=True).first()
    return OpenedVersion(
        version=version,
        status=version_status(version, latest_number=latest),
        signer_role=policy.signer_role(viewer, version),
        already_answered=version.signatures.filter(signer=viewer).exists(),
        can_answer=policy.can_sign(viewer, version) is not None,
        entries=policy.version_entries_visible_to(viewer, version),
    )


def version_required_signers(*, version: PlanVersion) -> QuerySet[RequiredSigner]:
    """Who must sign a version the caller has already opened through version_open."""
    return version.required_signers.select_related("carer").order_by("pk")


def version_signatures(*, viewer: User, version: PlanVersion) -> list[Signature]:
    """The answers on a version. Reasons for not signing are blanked for viewers who
    may not read them (a carer), on every surface that shows signatures."""
    signatures = list(
        version.signatures.select_related("signer__carer_record").order_by("signed_at")
    )
    if not policy.can_read_signature_reasons(viewer, version):
        for signature in signatures:
            signature.reason = ""
    return signatures


@dataclass
class ItemDiff:
    status: str  # added, removed, changed, same
    before: dict | None
    after: dict | None

    @property
    def section(self) -> str:
        return (self.after or self.before or {}).get("section", "")


@dataclass
class VersionSection:
    """A section of a version, as its page shows it: the entries the viewer may read."""

    code: str
    section: Section | None  # None: frozen under a section the plan kind no longer has
    entries: list[dict]
    state: SectionState | None = None

    @property
    def title(self) -> str:
        return self.section.title if self.section else self.code

    @property
    def anchor(self) -> str:
        return f"section-{self.code}"


def version_sections(*, version: PlanVersion, entries: list[dict],
                     with_states: bool) -> list[VersionSection]:
    """The entries the viewer may read (`version_entries_visible_to`), under their
    sections, in order: only sections with something in them for this viewer, so a
    carer sees no sign of the sections not shared with them. `with_states` only for a
    reader of the whole version: a state from a carer's share would speak of entries
    they may not see."""
    by_section: dict[str, list[dict]] = {}
    for entry in entries:
        by_section.setdefault(entry.get("section", ""), []).append(entry)
    groups = []
    for candidate in sections_for(version.plan.kind):
        if candidate.code in by_section:
            group = by_section.pop(candidate.code)
            state = section_state(candidate, [_entry_part(entry) for entry in group])
            groups.append(VersionSection(candidate.code, candidate, group,
                                         state if with_states else None))
    # Anything frozen under a section the plan kind no longer has is still shown.
    groups += [VersionSection(code, None, group) for code, group in by_section.items()]
    return groups


def _entry_part(entry: dict) -> Part:
    prompt = entry.get("prompt") or ""
    return Part(prompt=prompt, written=not prompt or bool((entry.get("body") or "").strip()))


def version_contents(*, sections: list[VersionSection], may_answer: bool
                     ) -> list[ContentsEntry]:
    """The version page's contents list: its sections, who has signed, and the signing
    form when the viewer may sign (needing their signature)."""
    entries = [ContentsEntry(group.anchor, group.title, group.state) for group in sections]
    entries.append(ContentsEntry("signatures", "Signatures"))
    if may_answer:
        entries.append(ContentsEntry("sign", "Sign this version",
                                     SectionState(State.NEEDS_SIGNATURE)))
    return entries


def diff_contents(*, kind: str, rows: list[ItemDiff]) -> list[ContentsEntry]:
    """The contents of a "what changed" page: each section with changes (the rows come
    in section order from `version_diff`), linking to its first change."""
    counts: dict[str, int] = {}
    for row in rows:
        counts[row.section] = counts.get(row.section, 0) + 1
    titles = {candidate.code: candidate.title for candidate in sections_for(kind)}
    return [ContentsEntry(f"changes-{code}", f"{titles.get(code, code)} ({count} "
                          f"change{'' if count == 1 else 's'})")
            for code, count in counts.items()]


def version_diff(*, older: PlanVersion, newer: PlanVersion) -> list[ItemDiff]:
    """Items added, changed and removed between two versions of one plan, in the order
    of the plan's sections."""
    before = {entry["id"]: entry for entry in older.snapshot}
    after = {entry["id"]: entry for entry in newer.snapshot}
    rows = []
    for item_id, entry in after.items():
        if item_id not in before:
            rows.append(ItemDiff("added", None, entry))
        elif _content(before[item_id]) != _content(entry):
            rows.append(ItemDiff("changed", before[item_id], entry))
    for item_id, entry in before.items():
        if item_id not in after:
            rows.append(ItemDiff("removed", entry, None))
    order = {candidate.code: index
             for index, candidate in enumerate(sections_for(newer.plan.kind))}
    return sorted(rows, key=lambda row: order.get(row.section, len(order)))  # stable


def _content(entry: dict) -> tuple:
    return (entry["title"], entry["body"], entry.get("details") or {})


def reviews_for_plan(*, plan: Plan) -> list[Review]:
    # A list, read here: the prefetch of who attended is a query of its own, and belongs
    # to the selector, not to the page that shows it (carecoord/scoping).
    return list(plan.reviews.prefetch_related(
        "carers_attended",
        Prefetch("carer_views", queryset=CarerReviewViews.objects.select_related("carer")),
    ).select_related("recorded_by"))


def carer_views_for_upcoming_review(*, viewer: User, plan: Plan) -> list[CarerReviewViews]:
    """The carers' views given for the plan's next review, for its coordinators only
    (consent.policy.carer_views_visible_to); each read is written to the audit trail."""
    if plan.kind != PlanKind.CARE_PLAN or plan.next_review_on is None:
        return []
    views = list(policy.carer_views_visible_to(
        viewer, CarerReviewViews.objects.filter(plan=plan, review_due_on=plan.next_review_on))
        .select_related("carer"))
    if not views:
        return views  # nothing read, nothing to write (not even an empty savepoint)
    access_events_record(
        actor=viewer, service_user=plan.service_user, action="carer_review_views.view",
        targets=[(f"carer_review_views:{v.pk}", str(policy.Basis.ALLOCATED_COORDINATOR))
                 for v in views])
    return views


@dataclass
class PlanPageReads:
    """What the plan page shows besides the plan's items and versions."""

    episode: Episode | None  # the person's open episode
    # The care plan's reviews, newest first, for the record's readers; each with
    # `carers_came` and `views_came`: the names of the carers who came, and of those
    # whose views it received.
    reviews: list[Review]
    carer_views: list[CarerReviewViews]  # `carer_views_for_upcoming_review`


def _carer_name(prefix: str = "carer") -> Coalesce:
    """`Carer.name` in SQL: the name they asked to be called, else their full name."""
    return Coalesce(NullIf(f"{prefix}__preferred_name", Value("")), f"{prefix}__full_name")


def plan_page_reads(*, viewer: User, opened: OpenedPlan) -> PlanPageReads:
    """The open episode, the reviews (a care plan's, for its whole readers, as
    `reviews_for_plan`) and the carers' views for the next review (as
    `carer_views_for_upcoming_review`, through the same policy rule, and audited the
    same way) of an opened plan: one query, each part a JSON list in the plan's row
    (they were three to five queries; issue 15)."""
    plan = opened.plan
    parts = {"episode_rows": JSONRows(
        Episode.objects.filter(service_user_id=OuterRef("service_user_id"),
                               discharged_on__isnull=True).order_by("-started_on", "pk")
        .values(row=JSONObject(
            id="pk", service_user_id="service_user_id", started_on="started_on",
            planned_end_on="planned_end_on", discharged_on="discharged_on",
            discharge_plan="discharge_plan",
            after_discharge_contacts="after_discharge_contacts",
            created_at="created_at"))[:1])}
    if plan.kind == PlanKind.CARE_PLAN and opened.whole:
        carers_came = (
            Review.carers_attended.through.objects.filter(review_id=OuterRef("pk"))
            .order_by("carer__full_name", "carer_id")
            .values(row=_carer_name()))
        views_came = (
            CarerReviewViews.objects.filter(review_id=OuterRef("pk"))
            .order_by("written_at", "pk").values(row=_carer_name()))
        parts["review_rows"] = JSONRows(
            Review.objects.filter(plan_id=OuterRef("pk")).order_by("-held_on", "-pk")
            .values(row=JSONObject(
                id="pk", plan_id="plan_id", held_on="held_on", attendees="attendees",
                what_changed="what_changed", next_review_on="next_review_on",
                listened_score="listened_score", listened_comment="listened_comment",
                listened_answered_at="listened_answered_at",
                recorded_by_id="recorded_by_id", created_at="created_at",
                recorded_by=_person("recorded_by"),
                carers_came=JSONRows(carers_came), views_came=JSONRows(views_came))))
    if plan.kind == PlanKind.CARE_PLAN and plan.next_review_on is not None:
        parts["view_rows"] = JSONRows(
            policy.carer_views_visible_to(viewer, CarerReviewViews.objects.filter(
                plan_id=OuterRef("pk"), review_due_on=OuterRef("next_review_on")))
            .order_by("written_at", "pk")
            .values(row=JSONObject(
                id="pk", plan_id="plan_id", review_due_on="review_due_on",
                carer_id="carer_id", views="views", written_at="written_at",
                updated_at="updated_at", review_id="review_id",
                carer=JSONObject(id="carer_id", full_name="carer__full_name",
                                 preferred_name="carer__preferred_name"))))
    row = Plan.objects.filter(pk=plan.pk).annotate(**parts).values(*parts).get()

    episodes = instances(Episode, row["episode_rows"])
    reviews = _people(Review, row.get("review_rows"), "recorded_by")
    for review, review_row in zip(reviews, row.get("review_rows") or [], strict=True):
        review.carers_came = review_row["carers_came"]
        review.views_came = review_row["views_came"]
    views = _people(CarerReviewViews, row.get("view_rows"), "carer", Carer)
    if views:
        access_events_record(
            actor=viewer, service_user=plan.service_user, action="carer_review_views.view",
            targets=[(f"carer_review_views:{v.pk}", str(policy.Basis.ALLOCATED_COORDINATOR))
                     for v in views])
    return PlanPageReads(episode=episodes[0] if episodes else None, reviews=reviews,
                         carer_views=views)


def review_view(*, review: Review) -> Review:
    """A review just recorded, with what its pages and API show of it loaded."""
    prefetch_related_objects([review], "carers_attended", "carer_views__carer")
    return review


def reviews_awaiting_answer(*, viewer: User) -> QuerySet[Review]:
    """Reviews where the service user has not yet said whether they felt listened to."""
    own_plans = policy.plans_visible_to(viewer).filter(service_user__user=viewer)
    return Review.objects.filter(
        plan__in=own_plans.values("pk"), plan__kind=PlanKind.CARE_PLAN,
        listened_answered_at__isnull=True,
    )


def review_for_answer(*, viewer: User, review_id: int) -> Review:
    review = reviews_awaiting_answer(viewer=viewer).filter(pk=review_id).first()
    if review is None:
        raise Http404
    return review


def suggestions_for_plan(*, plan: Plan) -> QuerySet[Suggestion]:
    return plan.suggestions.select_related("suggested_by", "item")


def open_suggestions_for_plan(*, plan: Plan) -> QuerySet[Suggestion]:
    return suggestions_for_plan(plan=plan).filter(status=Suggestion.Status.OPEN)


def suggestion_for_owner(*, viewer: User, suggestion_id: int) -> Suggestion:
    own_plans = policy.plans_visible_to(viewer).filter(service_user__user=viewer)
    suggestion = Suggestion.objects.select_related("plan__service_user").filter(
        pk=suggestion_id, plan__in=own_plans.values("pk")
    ).first()
    if suggestion is None:
        raise Http404
    return suggestion


def carer_relationships_for_plan(*, plan: Plan):
    return plan.service_user.carer_relationships.active().select_related("carer")


def version_signer_rows(*, version: PlanVersion, signatures: list[Signature],
                        viewer: User | None = None) -> list[dict]:
    """Who must sign `version` and what each did (signed, declined, or not yet). On a page
    (`viewer` given) the service user reading it is "You"; in a document everyone is
    named."""
    service_user = version.plan.service_user
    rows = []
    for required in version.required_signers.all():
        if required.role == RequiredSigner.Role.SERVICE_USER:
            own = viewer is not None and service_user.user_id == viewer.pk
            who = "You" if own else service_user.name
            answer = next((s for s in signatures if s.role == required.role), None)
        elif required.role == RequiredSigner.Role.COORDINATOR:
            answer = next((s for s in signatures if s.role == required.role), None)
            who = (answer.signer.display_name if answer is not None
                   else f"A care coordinator allocated to {service_user.name}")
        else:
            who = required.carer.name
            answer = next((s for s in signatures if s.role == required.role
                           and _signed_as_carer(s, required.carer_id)), None)
        rows.append({"who": who, "role": required.get_role_display(), "answer": answer})
    return rows


def _signed_as_carer(signature: Signature, carer_id: int) -> bool:
    record = getattr(signature.signer, "carer_record", None)
    return record is not None and record.pk == carer_id


# --- The first meeting (plans.first_meeting, ADR 0017) -------------------------------


@dataclass
class OpenedFirstMeeting:
    service_user: ServiceUser
    episode: Episode
    meeting: FirstMeeting | None

    @property
    def answers(self) -> dict:
        return dict(self.meeting.answers) if self.meeting else {}

    @property
    def done(self) -> list[str]:
        return first_meeting.steps_done(self.answers)

    @property
    def is_finished(self) -> bool:
        return self.meeting is not None and self.meeting.is_finished


def first_meeting_open(*, viewer: User, service_user_id: int, surface: str) -> OpenedFirstMeeting:
    """The first meeting of the person's open episode, for a care coordinator allocated to
    it; anyone else, or no open episode, is a 404. Opening it is an access event."""
    service_user = policy.first_meeting_record(viewer, service_user_id)
    episode = service_user.episodes.filter(discharged_on__isnull=True).first()
    if episode is None:
        raise Http404("No open episode.")
    audit_read(viewer=viewer, service_user=service_user, basis=Basis.ALLOCATED_COORDINATOR,
               surface=surface, target=f"episode:{episode.pk}")
    return OpenedFirstMeeting(service_user=service_user, episode=episode,
                              meeting=FirstMeeting.objects.filter(episode=episode).first())


@dataclass(frozen=True)
class FirstMeetingStatus:
    started: bool
    finished: bool
    done: int
    total: int
    next_step: str
    # Offered when started, or when no care plan has been started in this episode (a new
    # person, or a re-referral whose plan is from an earlier episode); a plan started in
    # this episode is not nagged for a first meeting it had before this existed.
    offered: bool = True
    finished_at: object = None


def first_meeting_status(*, service_user: ServiceUser, can_manage_care: bool
                         ) -> FirstMeetingStatus | None:
    """For a record already opened: how far the open episode's first meeting has got
    ("2 of 5 steps done"), for its allocated coordinators only; None otherwise."""
    if not can_manage_care:
        return None
    # The episode, its meeting and whether a care plan was started in it, in one query.
    episode = (
        service_user.episodes.filter(discharged_on__isnull=True)
        .select_related("first_meeting")
        .annotate(care_plan_started=Exists(Plan.objects.filter(
            service_user_id=OuterRef("service_user_id"), kind=PlanKind.CARE_PLAN,
            created_at__date__gte=OuterRef("started_on"))))
        .first()
    )
    if episode is None:
        return None
    try:
        meeting = episode.first_meeting
    except FirstMeeting.DoesNotExist:
        meeting = None
    answers = meeting.answers if meeting else {}
    done = first_meeting.steps_done(answers)
    next_code = next((code for code in first_meeting.STEP_CODES if code not in done),
                     "check")
    return FirstMeetingStatus(
        started=meeting is not None, finished=bool(meeting and meeting.is_finished),
        done=len(done), total=len(first_meeting.STEPS), next_step=next_code,
        offered=meeting is not None or not episode.care_plan_started,
        finished_at=meeting.finished_at if meeting else None)
