"""Consent decisions, and the object permissions that carry them out.

The only code that writes the grants (django-guardian's direct foreign-key table,
`consent/grants.py`), always inside the transaction that records the decision, so a
decision and its effect commit together or not at all. Withdrawal takes effect at once:
the permission goes in the same commit. Grants are computed and written set-wise: a few
queries for one carer and any number of items (ADR 0005).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.contrib.auth.models import Permission
from django.db import transaction
from django.db.models import Exists, OuterRef, Q, QuerySet, Subquery
from django.utils import timezone
from django.utils.dateformat import format as date_format

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records.models import ServiceUser, User
from carecoord.web import date_bounds
from carers.models import Carer, CarerRelationship
from consent.grants import VIEW_ITEM, PlanItemUserObjectPermission
from consent.models import (
    ConsentDecision,
    DecidedAs,
    ItemConsent,
    ReviewInvolvementDecision,
    SectionRule,
)
from plans.models import Plan, PlanItem
from plans.sections import section as section_for


class ConsentError(Exception):
    """A consent change that cannot be made, with a message people can read."""


def _decided_as(decided_by: User, plan: Plan, basis: str) -> str:
    if plan.service_user.user_id == decided_by.pk:
        return DecidedAs.SERVICE_USER
    if not basis.strip():
        raise ConsentError("Say on what basis you are recording this for them, for example "
                           "'Asked for this in our meeting on 3 March'.")
    return DecidedAs.PROFESSIONAL


def _check_carer(plan: Plan, carer: Carer) -> None:
    if not CarerRelationship.objects.active().filter(
        carer=carer, service_user_id=plan.service_user_id
    ).exists():
        raise ConsentError("This person is not linked as a carer.")


@dataclass(frozen=True)
class Effective:
    decision: ConsentDecision
    expires_on: dt.date | None


def effective_decision(
    *, explicit: ConsentDecision | None, rule: ConsentDecision | None, removed: bool,
    today: dt.date,
) -> ConsentDecision | None:
    """The one rule of consent, pure: an item's own decision overrides a section rule;
    not shared, expired or removed means not shared. Returns the sharing decision."""
    decision = explicit if explicit is not None else rule
    if removed or decision is None or not decision.shared:
        return None
    if decision.expires_on is not None and decision.expires_on < today:
        return None
    return decision


def _view_permission() -> Permission:
    return Permission.objects.get(content_type__app_label=VIEW_ITEM[0], codename=VIEW_ITEM[1])


def _decided_items(carer: Carer) -> QuerySet[PlanItem]:
    """The items this carer has a decision about: their own, or their section's rule."""
    return PlanItem.objects.filter(
        Q(Exists(ItemConsent.objects.filter(carer=carer, item=OuterRef("pk"))))
        | Q(Exists(SectionRule.objects.filter(carer=carer, plan=OuterRef("plan_id"),
                                              section=OuterRef("section"))))
    )


def _effective_grants(carer: Carer, items: QuerySet[PlanItem],
                      today: dt.date) -> dict[int, Effective]:
    """`effective_decision` for every item of `items` at once: the grant each should carry
    for this carer. Three queries, however many items. A former carer keeps no grant,
    whatever the decisions said."""
    cared_for = CarerRelationship.objects.active().filter(carer=carer).values("service_user_id")
    own = ItemConsent.objects.filter(carer=carer, item=OuterRef("pk"))
    rule = SectionRule.objects.filter(carer=carer, plan=OuterRef("plan_id"),
                                      section=OuterRef("section"))
    rows = list(
        items.filter(plan__service_user_id__in=cared_for)
        .annotate(own_id=Subquery(own.values("decision_id")[:1]),
                  rule_id=Subquery(rule.values("decision_id")[:1]))
        .values_list("pk", "own_id", "rule_id", "removed_at")
    )
    decisions = ConsentDecision.objects.in_bulk(
        {pk for row in rows for pk in row[1:3] if pk is not None})
    grants = {}
    for item_id, own_id, rule_id, removed_at in rows:
        decision = effective_decision(explicit=decisions.get(own_id),
                                      rule=decisions.get(rule_id),
                                      removed=removed_at is not None, today=today)
        if decision is not None:
            grants[item_id] = Effective(decision, decision.expires_on)
    return grants


@dataclass(frozen=True)
class Synced:
    granted: frozenset[int]  # items that have just become visible to the carer
    withdrawn: frozenset[int]
    changed: frozenset[int]  # still visible, with another end date or decision

    def __len__(self) -> int:
        return len(self.granted) + len(self.withdrawn) + len(self.changed)


def _sync(carer: Carer, items: QuerySet[PlanItem]) -> Synced:
    """Make the carer's grants on `items` match the decisions, set-wise: one read of the
    decisions, one of the grants, and at most one delete, insert and update."""
    if carer.user_id is None:
        return Synced(frozenset(), frozenset(), frozenset())  # granted when they accept
    wanted = _effective_grants(carer, items, timezone.localdate())
    permission = _view_permission()
    held = {
        grant.content_object_id: grant
        for grant in PlanItemUserObjectPermission.objects.filter(
            user_id=carer.user_id, permission=permission,
            content_object__in=items.values("pk"))
    }
    withdrawn = held.keys() - wanted.keys()
    if withdrawn:
        PlanItemUserObjectPermission.objects.filter(
            pk__in=[held[item_id].pk for item_id in withdrawn]).delete()
    granted = wanted.keys() - held.keys()
    PlanItemUserObjectPermission.objects.bulk_create([
        PlanItemUserObjectPermission(
            user_id=carer.user_id, permission=permission, content_object_id=item_id,
            expires_on=wanted[item_id].expires_on, decision=wanted[item_id].decision)
        for item_id in sorted(granted)
    ])
    changed = []
    for item_id in wanted.keys() & held.keys():
        grant, want = held[item_id], wanted[item_id]
        if (grant.expires_on, grant.decision_id) != (want.expires_on, want.decision.pk):
            grant.expires_on, grant.decision = want.expires_on, want.decision
            changed.append(grant)
    PlanItemUserObjectPermission.objects.bulk_update(changed, ["expires_on", "decision"])
    return Synced(frozenset(granted), frozenset(withdrawn),
                  frozenset(g.content_object_id for g in changed))


def _decision_create(**fields: object) -> ConsentDecision:
    """Every decision is written here. Its item, plan, section and service user must agree
    (ADR 0008): a clear ConsentError here, before the database's trigger would refuse the
    row with an IntegrityError (and on SQLite, which has no trigger, the only check)."""
    decision = ConsentDecision(**fields)
    problem = decision.scope_problem()
    if problem is not None:
        raise ConsentError(problem)
    decision.save(force_insert=True)
    return decision


def _record(plan: Plan, carer: Carer, decided_by: User, *, shared: bool, section: str,
            item: PlanItem | None, basis: str, expires_on: dt.date | None,
            note: str, include_progress_notes: bool = False) -> ConsentDecision:
    if expires_on is not None and expires_on < timezone.localdate():
        raise ConsentError("The end date for sharing must be today or later.")
    problem = date_bounds.future_date_problem(expires_on)
    if problem is not None:
        raise ConsentError(problem)
    return _decision_create(
        service_user=plan.service_user, carer=carer, plan=plan, section=section, item=item,
        shared=shared, decided_by=decided_by, decided_as=_decided_as(decided_by, plan, basis),
        basis=basis.strip(), expires_on=expires_on if shared else None, note=note.strip(),
        include_progress_notes=bool(include_progress_notes) and shared,
    )


def _notify_new(carer: Carer, plan: Plan, newly_visible: int) -> None:
    """In the decision's transaction; the email goes after it commits. No clinical
    content: only how many things are new, from whom, and where to look. Grouped: while
    the carer has not read it, more sharing adds to one entry ("3 new things")."""
    if newly_visible and carer.user_id:
        relationship_id = _relationship_id(carer, plan)
        name = plan.service_user.name
        notification_send(
            user=carer.user,
            text=(f"{name} has shared a new thing with you." if newly_visible == 1
                  else f"{name} has shared {newly_visible} new things with you."),
            text_for_count=f"{name} has shared {{count}} new things with you.",
            count=newly_visible, group=f"shared:{relationship_id}",
            url_name="carer_person", url_args=[relationship_id],
        )


BASIS_SHOWN = 120  # characters of a professional's basis quoted in a notification


def _notify_on_behalf(decision: ConsentDecision, *, relationship_ended: bool = False,
                      count: int = 1) -> None:
    """Someone other than the service user changed what a carer sees, on their behalf:
    the service user is told who, when and on what basis, with a link to that carer's
    sharing page (where the full history is). Grouped per person who changed it and
    carer while unread. The email, as always, names nobody."""
    service_user = decision.service_user
    if decision.decided_as != DecidedAs.PROFESSIONAL or service_user.user_id is None:
        return
    who = decision.decided_by.display_name
    when = date_format(timezone.localtime(decision.decided_at), "j F Y \a\t H:i")
    basis = decision.basis if len(decision.basis) <= BASIS_SHOWN else (
        decision.basis[:BASIS_SHOWN - 1].rstrip() + "…")
    carer = decision.carer.name
    if relationship_ended:
        link = {"url_name": "consent_overview", "url_args": [service_user.pk]}
    else:
        link = {"url_name": "consent_carer",
                "url_args": [service_user.pk, _relationship_id(decision.carer, decision.plan)]}
    notification_send(
        user=service_user.user,
        text=f"{who} changed what {carer} can see, on your behalf, on {when}. "
             f"Their reason: “{basis}”",
        text_for_count=f"{who} made {{count}} changes to what {carer} can see, on your "
                       f"behalf, the latest on {when}. Their reason: “{basis}”",
        group=f"consent:{decision.decided_by_id}:{decision.carer_id}", count=count, **link,
    )


def _relationship_id(carer: Carer, plan: Plan) -> int:
    return CarerRelationship.objects.active().get(
        carer=carer, service_user_id=plan.service_user_id
    ).pk


@transaction.atomic
def consent_decide_item(
    *, item: PlanItem, carer: Carer, shared: bool, decided_by: User, basis: str = "",
    expires_on: dt.date | None = None, note: str = "", include_progress_notes: bool = False,
) -> ConsentDecision:
    """Share one item with one carer, or stop sharing it. Overrides any section rule.
    Sharing shares the item's current words; `include_progress_notes` also shares a goal's
    progress notes (a separate choice, off unless asked for)."""
    plan = item.plan
    _check_carer(plan, carer)
    decision = _record(plan, carer, decided_by, shared=shared, section=item.section,
                       item=item, basis=basis, expires_on=expires_on, note=note,
                       include_progress_notes=include_progress_notes)
    ItemConsent.objects.update_or_create(carer=carer, item=item,
                                         defaults={"decision": decision})
    became_visible = len(_sync(carer, PlanItem.objects.filter(pk=item.pk)).granted)
    access_event_record(
        actor=decided_by, service_user=plan.service_user,
        action="consent.share" if shared else "consent.withdraw",
        target=f"consent_decision:{decision.pk}", basis=decision.get_decided_as_display(),
    )
    _notify_new(carer, plan, became_visible)
    _notify_on_behalf(decision)
    return decision


@transaction.atomic
def consent_decide_section(
    *, plan: Plan, section: str, carer: Carer, shared: bool, decided_by: User,
    basis: str = "", expires_on: dt.date | None = None, note: str = "",
    include_progress_notes: bool = False,
) -> ConsentDecision:
    """A section rule: share (or stop sharing) a whole section with a carer, including
    items added to it later. Item decisions made before still override it."""
    section_for(plan.kind, section)  # a section this plan has, or KeyError
    _check_carer(plan, carer)
    decision = _record(plan, carer, decided_by, shared=shared, section=section, item=None,
                       basis=basis, expires_on=expires_on, note=note,
                       include_progress_notes=include_progress_notes)
    SectionRule.objects.update_or_create(carer=carer, plan=plan, section=section,
                                         defaults={"decision": decision})
    newly_visible = len(_sync(carer, plan.items.filter(section=section)).granted)
    access_event_record(
        actor=decided_by, service_user=plan.service_user,
        action="consent.section_share" if shared else "consent.section_withdraw",
        target=f"consent_decision:{decision.pk}", basis=decision.get_decided_as_display(),
    )
    _notify_new(carer, plan, newly_visible)
    _notify_on_behalf(decision)
    return decision


@dataclass(frozen=True)
class ManyDecided:
    """What one submission of the consent page decided, for the page to say."""

    shared: bool
    sections: tuple[ConsentDecision, ...]  # whole-section rules, including later items
    items: tuple[ConsentDecision, ...]  # item by item (chosen, or a section's current ones)
    newly_visible: int
    withdrawn: int

    @property
    def decisions(self) -> tuple[ConsentDecision, ...]:
        return self.sections + self.items


@transaction.atomic
def consent_decide_many(
    *, service_user: ServiceUser, carer: Carer, shared: bool, decided_by: User,
    sections: list[tuple[Plan, str]] = (), items: list[PlanItem] = (),
    later_items: bool = True, basis: str = "", expires_on: dt.date | None = None,
    note: str = "", include_progress_notes: bool = False,
) -> ManyDecided:
    """Share, or stop sharing, whole sections and chosen items with one carer in one go:
    one end date, one basis and one note for all of it (the consent page's one form).

    Each decision is the one `consent_decide_section` or `consent_decide_item` makes, with
    the same history, audit action and notifications; the grants are synced once, set-wise,
    for everything touched (ADR 0005, ADR 0018).

    Sharing: a section is shared as a whole (a rule that covers items added later) or, with
    `later_items=False`, item by item as it is now ("only what is there now"). An item's own
    decision still comes before its section's rule.

    Stopping: a chosen section stops being shared at all (its rule is withdrawn and any of
    its items shared on their own stop too); a chosen item stops being shared. Nothing is
    recorded for what is not shared now. Raises ConsentError for a decision that cannot be
    made, and nothing is written."""
    if not sections and not items:
        raise ConsentError("Choose at least one section or item.")
    if not CarerRelationship.objects.active().filter(
            carer=carer, service_user=service_user).exists():
        raise ConsentError("This person is not linked as a carer.")
    plans = {plan.pk: plan for plan, _ in sections} | {item.plan_id: item.plan for item in items}
    if any(plan.service_user_id != service_user.pk for plan in plans.values()):
        raise ConsentError("This plan belongs to another service user.")
    for plan, code in sections:
        try:
            section_for(plan.kind, code)
        except KeyError:
            raise ConsentError("This plan has no such section.") from None
    section_keys = list(dict.fromkeys((plan.pk, code) for plan, code in sections))
    in_sections = Q(pk__in=[])
    for plan_id, code in section_keys:
        in_sections |= Q(plan_id=plan_id, section=code)
    live = PlanItem.objects.filter(removed_at__isnull=True)
    # The items of the chosen sections as they are now, read once.
    section_items = list(live.filter(in_sections).order_by("plan_id", "position", "pk"))
    chosen = {item.pk: item for item in items if item.removed_at is None}

    today = timezone.localdate()
    rules = {(rule.plan_id, rule.section): rule.decision for rule in SectionRule.objects
             .filter(carer=carer, plan_id__in=plans.keys()).select_related("decision")}
    candidates = {item.pk: item for item in section_items} | chosen
    own = {consent.item_id: consent.decision for consent in ItemConsent.objects
           .filter(carer=carer, item_id__in=candidates.keys()).select_related("decision")}

    def sharing_now(item: PlanItem) -> ConsentDecision | None:
        return effective_decision(explicit=own.get(item.pk),
                                  rule=rules.get((item.plan_id, item.section)),
                                  removed=False, today=today)

    if shared:
        whole = section_keys if later_items else []
        item_targets = dict(chosen)
        if not later_items:
            item_targets |= {item.pk: item for item in section_items}
    else:
        whole = [key for key in section_keys
                 if effective_decision(explicit=None, rule=rules.get(key), removed=False,
                                       today=today) is not None]
        stopping = set(section_keys)
        item_targets = {
            pk: item for pk, item in candidates.items()
            if (pk in chosen or (item.plan_id, item.section) in stopping)
            and own.get(pk) is not None and sharing_now(item) is not None
        }
        # Chosen items shared only by a rule that stays: their own decision hides them.
        item_targets |= {pk: item for pk, item in chosen.items()
                         if (item.plan_id, item.section) not in stopping
                         and sharing_now(item) is not None}
        if not whole and not item_targets:
            raise ConsentError(f"Nothing you chose is shared with {carer.name} now, so "
                               "there is nothing to stop.")

    # "Only what is there now" for a section shared as a whole until now: its rule ends,
    # so that what is added later is not shared.
    rules_ending = [] if (not shared or later_items) else [
        key for key in section_keys
        if effective_decision(explicit=None, rule=rules.get(key), removed=False,
                              today=today) is not None]
    if not whole and not item_targets and not rules_ending:
        raise ConsentError("Nothing has been written in the sections you chose yet, so "
                           "there is nothing to share now. Share the whole section to share "
                           "what is added to it later.")

    fields = {"basis": basis, "expires_on": expires_on, "note": note,
              "include_progress_notes": include_progress_notes}
    section_decisions = []
    for plan_id, code, as_shared in ([(*key, shared) for key in whole]
                                     + [(*key, False) for key in rules_ending]):
        plan = plans[plan_id]
        decision = _record(plan, carer, decided_by, shared=as_shared, section=code,
                           item=None, **fields)
        SectionRule.objects.update_or_create(carer=carer, plan=plan, section=code,
                                             defaults={"decision": decision})
        section_decisions.append(decision)
    item_decisions = []
    for item in sorted(item_targets.values(), key=lambda i: (i.plan_id, i.position, i.pk)):
        item_decisions.append(_record(plans.get(item.plan_id) or item.plan, carer, decided_by,
                                      shared=shared, section=item.section, item=item,
                                      **fields))
    ItemConsent.objects.filter(carer=carer, item_id__in=item_targets.keys()).delete()
    ItemConsent.objects.bulk_create([
        ItemConsent(carer=carer, item_id=decision.item_id, decision=decision)
        for decision in item_decisions
    ])

    synced = _sync(carer, PlanItem.objects.filter(Q(pk__in=item_targets.keys()) | in_sections))
    every = section_decisions + item_decisions
    for decision in every:
        # The actions the one-at-a-time services write, one event per decision (a write,
        # unlike a page view, is an event of its own).
        action = ("consent." + ("section_" if decision.item_id is None else "")
                  + ("share" if decision.shared else "withdraw"))
        access_event_record(actor=decided_by, service_user=service_user, action=action,
                            target=f"consent_decision:{decision.pk}",
                            basis=decision.get_decided_as_display())
    _notify_new(carer, every[0].plan, len(synced.granted))
    _notify_on_behalf(every[-1], count=len(every))
    return ManyDecided(shared=shared, sections=tuple(section_decisions),
                       items=tuple(item_decisions), newly_visible=len(synced.granted),
                       withdrawn=len(synced.withdrawn))


@transaction.atomic
def consent_item_follow_section(*, item: PlanItem, carer: Carer, decided_by: User,
                                basis: str = "", note: str = "") -> None:
    """Remove an item's own decision so the section rule (if any) applies again. The
    history records what that means now (shared or not, until when)."""
    plan = item.plan
    _check_carer(plan, carer)
    rule = SectionRule.objects.select_related("decision").filter(
        carer=carer, plan=plan, section=item.section).first()
    now_sharing = effective_decision(explicit=None, rule=rule.decision if rule else None,
                                     removed=False, today=timezone.localdate())
    decision = _record(plan, carer, decided_by, shared=now_sharing is not None,
                       section=item.section, item=item, basis=basis,
                       expires_on=now_sharing.expires_on if now_sharing else None,
                       note=note or "Follows the section rule again.",
                       include_progress_notes=(now_sharing.include_progress_notes
                                               if now_sharing else False))
    ItemConsent.objects.filter(carer=carer, item=item).delete()
    _sync(carer, PlanItem.objects.filter(pk=item.pk))
    access_event_record(actor=decided_by, service_user=plan.service_user,
                        action="consent.follow_section",
                        target=f"consent_decision:{decision.pk}",
                        basis=decision.get_decided_as_display())
    _notify_on_behalf(decision)


def consent_apply_to_new_item(*, item: PlanItem) -> None:
    """Called by plans.services inside the transaction that creates an item: section
    rules cover items added later."""
    rules = SectionRule.objects.filter(
        plan_id=item.plan_id, section=item.section, decision__shared=True
    ).select_related("carer", "decision")
    for rule in rules:
        if _sync(rule.carer, PlanItem.objects.filter(pk=item.pk)).granted:
            _notify_new(rule.carer, item.plan, 1)


def consent_item_removed(*, item: PlanItem) -> None:
    """Called inside the transaction that removes an item: nobody keeps seeing it."""
    PlanItemUserObjectPermission.objects.filter(content_object=item).delete()


@transaction.atomic
def consent_sync_carer(*, carer: Carer) -> int:
    """Bring one carer's grants in line with the decisions (after they accept an
    invitation, or to repair drift), in a few queries. Returns how many grants changed."""
    if carer.user_id is None:
        return 0
    granted_now = PlanItemUserObjectPermission.objects.filter(
        user_id=carer.user_id).values("content_object_id")
    items = PlanItem.objects.filter(
        Q(pk__in=_decided_items(carer).values("pk")) | Q(pk__in=granted_now))
    return len(_sync(carer, items))


@transaction.atomic
def consent_sync_carer_for(*, carer: Carer, service_user_ids: list[int]) -> int:
    """`consent_sync_carer` over the plans of these service users only: the same set-wise
    sync in a few indexed queries, for loading many carers' decisions at once (the scale
    data), where looking through every item for each carer's decisions would not do.
    Grants the carer holds on anyone else's items are left alone."""
    if carer.user_id is None:
        return 0
    return len(_sync(carer, PlanItem.objects.filter(plan__service_user_id__in=service_user_ids)))


@dataclass(frozen=True)
class Drift:
    carer: Carer | None  # None: a permission held by someone who is not a carer at all
    item_id: int
    problem: str
    user_id: int | None = None


def consent_permissions_check() -> list[Drift]:
    """Every place where the grants and the decisions disagree, in a few queries per
    carer. A grant whose end date has passed may still have its row (the policy ignores
    it at read time and a repair removes it): that alone is not drift."""
    drift = []
    today = timezone.localdate()
    far_future = dt.date.max
    for carer in Carer.objects.filter(user__isnull=False).select_related("user"):
        # Evaluated as if no end date had passed: what may have a grant row.
        granted = _effective_grants(carer, _decided_items(carer), dt.date.min)
        live = {item_id for item_id, effective in granted.items()
                if (effective.expires_on or far_future) >= today}
        actual = {
            grant.content_object_id: grant
            for grant in PlanItemUserObjectPermission.objects.filter(user_id=carer.user_id)
        }
        for item_id in sorted(live - actual.keys()):
            drift.append(Drift(carer, item_id, "shared, but the permission is missing"))
        for item_id in sorted(actual.keys() - granted.keys()):
            drift.append(Drift(carer, item_id, "not shared, but a permission exists"))
        for item_id in sorted(granted.keys() & actual.keys()):
            if actual[item_id].expires_on != granted[item_id].expires_on:
                drift.append(Drift(carer, item_id, "the permission's end date is wrong"))
    for permission in PlanItemUserObjectPermission.objects.filter(
        user__carer_record__isnull=True
    ):
        drift.append(Drift(None, permission.content_object_id,
                           "held by someone who is not a carer", user_id=permission.user_id))
    return drift


@transaction.atomic
def consent_permissions_repair() -> list[Drift]:
    """Repair every drift found; returns what was repaired."""
    drift = consent_permissions_check()
    for carer in {d.carer.pk: d.carer for d in drift if d.carer is not None}.values():
        consent_sync_carer(carer=carer)
    stray = [d for d in drift if d.carer is None]
    for found in stray:
        PlanItemUserObjectPermission.objects.filter(
            user_id=found.user_id, content_object_id=found.item_id
        ).delete()
    return drift


@transaction.atomic
def consent_decide_review_involvement(
    *, relationship: CarerRelationship, involved: bool, decided_by: User, basis: str = "",
    note: str = "",
) -> ReviewInvolvementDecision:
    """Involve a carer in the service user's care plan reviews (invited to give their views
    before each one, and reminded), or stop. Kept as history; the latest decision is in
    force (consent.policy.reviews.involved_in_reviews). Withdrawal takes effect at once.
    Whether anyone is invited is for the caller above the policy
    (consent.reviews.services), which reads the decision back through the predicate."""
    service_user = relationship.service_user
    if not CarerRelationship.objects.active().filter(pk=relationship.pk).exists():
        raise ConsentError("This person is not linked as a carer.")
    if service_user.user_id == decided_by.pk:
        decided_as = DecidedAs.SERVICE_USER
    elif not basis.strip():
        raise ConsentError("Say on what basis you are recording this for them, for example "
                           "'Asked for this in our meeting on 3 March'.")
    else:
        decided_as = DecidedAs.PROFESSIONAL
    decision = ReviewInvolvementDecision.objects.create(
        service_user=service_user, carer=relationship.carer, involved=involved,
        decided_by=decided_by, decided_as=decided_as, basis=basis.strip(), note=note.strip())
    access_event_record(
        actor=decided_by, service_user=service_user,
        action="consent.review_involve" if involved else "consent.review_withdraw",
        target=f"review_involvement_decision:{decision.pk}",
        basis=decision.get_decided_as_display(),
    )
    if decided_as == DecidedAs.PROFESSIONAL and service_user.user_id:
        notification_send(
            user=service_user.user,
            text=f"{decided_by.display_name} changed whether {relationship.carer.name} is "
                 f"asked for their views before your reviews, on your behalf. Their reason: "
                 f"“{decision.basis[:BASIS_SHOWN]}”",
            url_name="consent_carer", url_args=[service_user.pk, relationship.pk])
    return decision


def consent_relationship_ended(*, relationship: CarerRelationship, ended_by: User) -> int:
    """When a carer relationship ends, every share with that carer is withdrawn — in the
    history, not only in effect — so that if they are ever linked again they start with
    nothing shared and the service user decides afresh. Called inside the transaction
    that ends the relationship. Returns how many decisions were withdrawn."""
    carer, service_user = relationship.carer, relationship.service_user
    withdrawn = 0
    basis = "The carer relationship ended."
    last = None
    for current in ItemConsent.objects.filter(
        carer=carer, item__plan__service_user=service_user, decision__shared=True
    ).select_related("item__plan", "decision"):
        decision = _decision_create(
            service_user=service_user, carer=carer, plan=current.item.plan,
            section=current.item.section, item=current.item, shared=False,
            decided_by=ended_by, decided_as=DecidedAs.PROFESSIONAL, basis=basis)
        ItemConsent.objects.filter(pk=current.pk).update(decision=decision)
        withdrawn += 1
        last = decision
    for rule in SectionRule.objects.filter(
        carer=carer, plan__service_user=service_user, decision__shared=True
    ).select_related("plan", "decision"):
        decision = _decision_create(
            service_user=service_user, carer=carer, plan=rule.plan, section=rule.section,
            item=None, shared=False, decided_by=ended_by, decided_as=DecidedAs.PROFESSIONAL,
            basis=basis)
        SectionRule.objects.filter(pk=rule.pk).update(decision=decision)
        withdrawn += 1
        last = decision
    latest_involvement = (ReviewInvolvementDecision.objects
                          .filter(carer=carer, service_user=service_user)
                          .order_by("-decided_at", "-pk").first())
    if latest_involvement is not None and latest_involvement.involved:
        # As for the shares: a carer linked again is not involved until decided afresh.
        ReviewInvolvementDecision.objects.create(
            service_user=service_user, carer=carer, involved=False, decided_by=ended_by,
            decided_as=DecidedAs.PROFESSIONAL, basis=basis)
        withdrawn += 1
    if carer.user_id:
        PlanItemUserObjectPermission.objects.filter(
            user_id=carer.user_id, content_object__plan__service_user=service_user
        ).delete()
    if last is not None and ended_by.pk != service_user.user_id:
        # One notification for all of it: who ended it and when; the history has the rest.
        _notify_on_behalf(last, relationship_ended=True)
    return withdrawn
