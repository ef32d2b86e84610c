"""Things to do: for each person, what is waiting for them — worked out from the records
on every read, never stored, so an entry goes away as soon as the thing is done. Each
entry says what, in plain words, and links to the page where it is done.

Every entry comes through the access policy: a service user's own plans
(`plans_visible_to` and their own record), a coordinator's caseload (the plans the
policy lets them read that are not their own), the versions the policy says a person
may sign (`versions_signable_by`, the queryset form of `can_sign`), what a carer has
been shared (`items_shared_with_decisions`), and a manager's teams (`teams_managed_by`:
counts only, never a name or a word of a record).

A fixed number of queries whatever the caseload or team size (tests/carecoord/
test_things_to_do.py counts them). The "getting stuck" prompts live in
carecoord.reporting, above this layer: reporting adds them through `things_to_do_source`
(carecoord/reporting/todo.py, imported by carecoord/apps.py), as it registers its PDFs.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable
from dataclasses import asdict, dataclass

from django.db.models import (
    Count,
    Exists,
    OuterRef,
    QuerySet,
    Subquery,
    Value,
)
from django.db.models.functions import Coalesce, JSONObject, NullIf
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from carecoord import freshness
from carecoord.audit.selectors import carer_last_looked, new_to_carer
from carecoord.records.models import BreakGlassAccess, Role, ServiceUser, User
from carecoord.web.json_rows import JSONRows
from carers.models import CarerRelationship
from consent import policy
from plans import first_meeting
from plans.models import (
    CarerReviewViews,
    FirstMeeting,
    GoalAgreement,
    Plan,
    PlanItem,
    PlanVersion,
    RequiredSigner,
    Signature,
    Suggestion,
)
from plans.sections import ItemType, PlanKind, section, section_order
from plans.selectors import reviews_awaiting_answer


class Hat:
    """Whose things to do an entry is: people may hold more than one role."""

    SERVICE_USER = "service_user"
    CARER = "carer"
    COORDINATOR = "coordinator"
    MANAGER = "manager"


HAT_ORDER = [Hat.SERVICE_USER, Hat.CARER, Hat.COORDINATOR, Hat.MANAGER]
HAT_HEADINGS = {
    Hat.SERVICE_USER: "For you",
    Hat.CARER: "As a carer",
    Hat.COORDINATOR: "For the people you coordinate care for",
    Hat.MANAGER: "For your teams",
}


@dataclass(frozen=True)
class Entry:
    hat: str
    kind: str  # what sort of thing: sign_version, listened, goal_agree, ...
    text: str  # what, in plain words
    url: str  # the page where it is done
    detail: str = ""  # more words: for a decline, the person's own reasons
    count: int = 1

    @property
    def hat_heading(self) -> str:
        return HAT_HEADINGS[self.hat]

    def as_dict(self) -> dict:
        return asdict(self)


Source = Callable[[User, dt.date], list[Entry]]
_SOURCES: list[Source] = []


def things_to_do_source(source: Source) -> Source:
    """Register entries worked out by a room above the selectors (its module is imported
    once, in an AppConfig.ready). A source reads through the policy like everything here."""
    if source not in _SOURCES:
        _SOURCES.append(source)
    return source


def things_to_do(*, viewer: User, today: dt.date | None = None) -> list[Entry]:
    """Everything waiting for `viewer`, for each of their roles, in a fixed order."""
    if not (viewer and viewer.is_authenticated and viewer.is_active):
        return []
    today = today or timezone.localdate()
    entries: list[Entry] = []
    roles = viewer.roles
    signable: list[PlanVersion] | None = []
    if roles & {Role.SERVICE_USER, Role.CARER}:
        signable = list(policy.versions_signable_by(viewer).select_related("plan__service_user")
                        .defer("snapshot").order_by("proposed_at", "pk"))
    elif Role.COORDINATOR in roles:
        # Only a coordinator's versions to sign: those of their caseload, which the
        # coordinator's list reads anyway (it asks the same policy queryset of each).
        signable = None
    if Role.SERVICE_USER in roles:
        entries += _for_service_user(viewer, signable or [])
    if Role.CARER in roles:
        entries += _for_carer(viewer, signable or [])
    if Role.COORDINATOR in roles:
        entries += _for_coordinator(viewer, signable, today)
    if Role.MANAGER in roles:
        entries += _for_manager(viewer, today)
    for source in _SOURCES:
        entries += source(viewer, today)
    order = {hat: position for position, hat in enumerate(HAT_ORDER)}
    return sorted(entries, key=lambda entry: order[entry.hat])  # stable within a hat


# --- Words ------------------------------------------------------------------------------

PLAN_WORDS = {
    PlanKind.CARE_PLAN: "care plan",
    PlanKind.WRAP: "WRAP",
    PlanKind.RESPONSIBILITY_AGREEMENT: "responsibility agreement",
}


def possessive(name: str) -> str:
    return f"{name}'" if name.endswith("s") and not name.endswith("ss") else f"{name}'s"


def plural(count: int, one: str, many: str | None = None) -> str:
    return f"{count} {one if count == 1 else (many or one + 's')}"


def _long_date(value: dt.date | dt.datetime) -> str:
    if isinstance(value, dt.datetime):
        value = timezone.localdate(value)
    return date_format(value, "j F Y")


def _words(plan: Plan) -> str:
    return PLAN_WORDS.get(plan.kind, "plan")


def _plan_url(plan_id: int, anchor: str = "") -> str:
    return reverse("plan_detail", args=[plan_id]) + (f"#{anchor}" if anchor else "")


def _version_url(version: PlanVersion) -> str:
    return reverse("version_detail", args=[version.pk])


# --- Shared reads -----------------------------------------------------------------------


def _open_versions(queryset: QuerySet[PlanVersion]) -> QuerySet[PlanVersion]:
    """The latest version of each plan, not agreed and not declined: still collecting
    signatures (plans.services.version_open_for_answers, set-wise)."""
    newer = PlanVersion.objects.filter(plan=OuterRef("plan"), number__gt=OuterRef("number"))
    declined = Signature.objects.filter(version=OuterRef("pk"),
                                        decision=Signature.Decision.DECLINED)
    return (queryset.filter(agreed_at__isnull=True)
            .exclude(Exists(newer)).exclude(Exists(declined)))


def _goals_waiting(items: QuerySet[PlanItem], party: str) -> QuerySet[PlanItem]:
    """Live goals on care plans whose current words `party` has not agreed to."""
    agreed = GoalAgreement.objects.filter(item=OuterRef("pk"), party=party,
                                          revision=OuterRef("revision"))
    return (items.filter(item_type=ItemType.GOAL, removed_at__isnull=True,
                         plan__kind=PlanKind.CARE_PLAN)
            .exclude(Exists(agreed)).order_by("plan_id", "position", "pk"))


# --- A service user's own -----------------------------------------------------------------


def _for_service_user(viewer: User, signable: list[PlanVersion]) -> list[Entry]:
    entries = [
        Entry(Hat.SERVICE_USER, "sign_version",
              f"Sign your {_words(v.plan)}, or say why not",
              _version_url(v),
              detail=f"Version {v.number}, ready since {_long_date(v.proposed_at)}.")
        for v in signable if v.signing_as == RequiredSigner.Role.SERVICE_USER
    ]
    for review in reviews_awaiting_answer(viewer=viewer).order_by("held_on", "pk"):
        entries.append(Entry(
            Hat.SERVICE_USER, "listened", "Did you feel listened to?",
            reverse("review_answer", args=[review.pk]),
            detail=f"At your care plan review on {_long_date(review.held_on)}. Tell us in "
                   "your own words."))
    own_plans = policy.plans_visible_to(viewer).filter(service_user__user_id=viewer.pk)
    suggestions: dict[int, list[int]] = defaultdict(list)
    for plan_id, pk in (
        Suggestion.objects.filter(plan__in=own_plans.values("pk"), plan__kind=PlanKind.WRAP,
                                  status=Suggestion.Status.OPEN)
        .order_by("suggested_at", "pk").values_list("plan_id", "pk")
    ):
        suggestions[plan_id].append(pk)
    for plan_id, pks in suggestions.items():
        entries.append(Entry(
            Hat.SERVICE_USER, "wrap_suggestion",
            f"{plural(len(pks), 'suggestion')} for your WRAP to accept or dismiss",
            _plan_url(plan_id, f"suggestion-{pks[0]}"), count=len(pks)))
    goals: dict[int, list[PlanItem]] = defaultdict(list)
    for goal in _goals_waiting(
        policy.items_visible_to(viewer, PlanItem.objects.filter(
            plan__in=own_plans.values("pk"))),
        GoalAgreement.Party.SERVICE_USER,
    ).only("pk", "plan_id", "title"):
        goals[goal.plan_id].append(goal)
    for plan_id, waiting in goals.items():
        text = (f"Agree your goal “{waiting[0].title}”, or change it" if len(waiting) == 1
                else f"{plural(len(waiting), 'goal')} on your care plan waiting for you to "
                     "agree")
        entries.append(Entry(Hat.SERVICE_USER, "goal_agree", text,
                             _plan_url(plan_id, f"item-{waiting[0].pk}"), count=len(waiting)))
    return entries


# --- A carer's -------------------------------------------------------------------------------


def _for_carer(viewer: User, signable: list[PlanVersion]) -> list[Entry]:
    entries = [
        Entry(Hat.CARER, "sign_version",
              f"Sign {possessive(v.plan.service_user.name)} {_words(v.plan)}, or say why not",
              _version_url(v),
              detail=f"It names you. Version {v.number}, ready since "
                     f"{_long_date(v.proposed_at)}.")
        for v in signable if v.signing_as == RequiredSigner.Role.CARER
    ]
    entries += _review_views_wanted(viewer)
    # When the carer last looked at each person's shared items, read with the
    # relationships: "new" is the audit trail's, by the same rule as the carer's page.
    relationships = list(
        policy.carer_relationships_visible_to(
            viewer, CarerRelationship.objects.active().filter(carer__user_id=viewer.pk))
        .select_related("service_user")
        .annotate(last_view=carer_last_looked(viewer=viewer,
                                              service_user_id=OuterRef("service_user_id")))
        .order_by("pk")
    )
    if not relationships:
        return entries
    by_service_user = {r.service_user_id: r for r in relationships}
    seen = {r.service_user_id: r.last_view for r in relationships}
    new: dict[int, list[tuple[int, str, str]]] = defaultdict(list)
    for pk, service_user_id, kind, code, shared_at, created_at in (
        policy.items_shared_with_decisions(
            viewer, PlanItem.objects.filter(plan__service_user_id__in=by_service_user))
        .order_by("plan__kind", "section", "position", "pk")
        .values_list("pk", "plan__service_user_id", "plan__kind", "section", "shared_at",
                     "created_at")
    ):
        if new_to_carer(shared_at=shared_at, created_at=created_at,
                        last_looked=seen[service_user_id]):
            new[service_user_id].append((pk, kind, code))
    for service_user_id, items in new.items():
        # In the carer's page's order (a stable sort keeps position and pk within a
        # section), so the link goes to the first thing marked "New" there.
        items.sort(key=lambda item: section_order(item[1], item[2]))
        relationship = by_service_user[service_user_id]
        where = []
        for _, kind, code in items:
            words = f"{section(kind, code).title} ({PLAN_WORDS.get(kind, 'plan')})"
            if words not in where:
                where.append(words)
        entries.append(Entry(
            Hat.CARER, "newly_shared",
            f"{relationship.service_user.name} has shared "
            f"{plural(len(items), 'new thing')} with you",
            reverse("carer_person", args=[relationship.pk]) + f"#shared-item-{items[0][0]}",
            detail="In: " + ", ".join(where) + ".", count=len(items)))
    return entries


# --- A care coordinator's caseload ------------------------------------------------------------


def _for_coordinator(viewer: User, signable: list[PlanVersion] | None,
                     today: dt.date) -> list[Entry]:
    """`signable`: the versions the viewer may sign, or None to take them from the
    caseload's latest versions (a viewer who signs only as a coordinator: an allocated
    coordinator's plans are on their caseload, and only a plan's latest version is ever
    signable)."""
    entries: list[Entry] = []
    # The plans of the records the policy lets them read, not their own: their caseload,
    # read in one query (this list is worked out on every page, for the header's count:
    # issue 15). What the list needs of each plan comes in the same row, as small JSON
    # lists, each read through the policy for that plan only (a correlated subquery: an
    # indexed lookup by plan, never the policy's whole-trust predicate once for each
    # kind, which cost a query and a scan of the trust's plans each): its goals waiting
    # for the coordinator's agreement and the carers' views given for its next review.
    goals_waiting = _goals_waiting(
        policy.items_visible_to(viewer, PlanItem.objects.filter(plan_id=OuterRef("pk"))),
        GoalAgreement.Party.COORDINATOR,
    ).values(row=JSONObject(pk="pk", title="title"))
    views_given = (
        policy.carer_views_visible_to(viewer, CarerReviewViews.objects.filter(
            plan_id=OuterRef("pk"), plan__kind=PlanKind.CARE_PLAN, review__isnull=True,
            review_due_on=OuterRef("next_review_on")))
        .order_by("written_at", "pk")
        .values(row=JSONObject(carer=Coalesce(NullIf("carer__preferred_name", Value("")),
                                              "carer__full_name")))
    )
    caseload_plans = list(
        policy.plans_visible_to(viewer, Plan.objects.select_related("service_user"))
        .exclude(service_user__user_id=viewer.pk)
        .annotate(goals_waiting=JSONRows(goals_waiting), views_given=JSONRows(views_given))
        .order_by("pk")
    )
    caseload_ids = [plan.pk for plan in caseload_plans]
    plans_by_id = {plan.pk: plan for plan in caseload_plans}

    # The latest version of each plan on the caseload, read once: both the declines and
    # the versions waiting for others come from these rows. Never the snapshot (a big
    # JSON column nobody reads here). Its answers and the people who must sign come in
    # the same rows, as JSON lists, and whether the viewer may sign it now. (Not nested
    # in the plans' query too: one query fewer, but PostgreSQL then plans the policy's
    # predicates inside each other, measured 20 ms slower at a trust's size.) It starts
    # from the plans' ids (an indexed lookup of a few dozen plans), not the policy's
    # whole-trust predicate again.
    newer = PlanVersion.objects.filter(plan=OuterRef("plan"), number__gt=OuterRef("number"))
    latest = list(
        policy.versions_visible_to(viewer, PlanVersion.objects.filter(
            plan_id__in=caseload_ids,
            plan__service_user_id__in={plan.service_user_id for plan in caseload_plans}))
        .exclude(Exists(newer))
        .defer("snapshot")
        .annotate(
            answers=JSONRows(
                Signature.objects.filter(version=OuterRef("pk")).order_by("signed_at", "pk")
                .values(row=JSONObject(
                    signer_id="signer_id", role="role", decision="decision", reason="reason",
                    signer_name=Coalesce(NullIf("signer__preferred_name", Value("")),
                                         NullIf("signer__full_name", Value("")),
                                         "signer__email")))),
            signers=JSONRows(
                RequiredSigner.objects.filter(version=OuterRef("pk")).order_by("pk")
                .values(row=JSONObject(
                    role="role", carer_user_id="carer__user_id",
                    carer_name=Coalesce(NullIf("carer__preferred_name", Value("")),
                                        "carer__full_name")))),
            # May the viewer sign it now: the policy's own queryset form of can_sign.
            signing_as=Subquery(policy.versions_signable_by(
                viewer, PlanVersion.objects.filter(pk=OuterRef("pk"))).values("signing_as")[:1]),
        )
        .order_by("proposed_at", "pk")
    )
    for version in latest:
        version.plan = plans_by_id[version.plan_id]
    if signable is None:
        signable = [version for version in latest if version.signing_as is not None]
    entries += [
        Entry(Hat.COORDINATOR, "sign_version",
              f"Sign {possessive(v.plan.service_user.name)} {_words(v.plan)}",
              _version_url(v),
              detail=f"Version {v.number}, ready since {_long_date(v.proposed_at)}.")
        for v in signable if v.signing_as == RequiredSigner.Role.COORDINATOR
    ]

    # Declined: the latest version, someone else said no. Done when a new one is proposed.
    for version in latest:
        service_user = version.plan.service_user
        declines = [answer for answer in version.answers
                    if answer["decision"] == Signature.Decision.DECLINED]
        if not any(decline["signer_id"] != viewer.pk for decline in declines):
            continue
        for decline in declines:
            who = (service_user.name if decline["role"] == RequiredSigner.Role.SERVICE_USER
                   else decline["signer_name"])
            # The reasons are the person's own words about the whole plan: for the
            # record's readers only (can_read_signature_reasons) — the caseload is that.
            entries.append(Entry(
                Hat.COORDINATOR, "version_declined",
                f"{who} declined to sign {possessive(service_user.name)} "
                f"{_words(version.plan)} (version {version.number})",
                _version_url(version), detail=decline["reason"]))

    # Waiting for others: open (not agreed, nobody declined), and not the viewer's to
    # sign now.
    signable_ids = {v.pk for v in signable}
    for version in latest:
        if (version.agreed_at is not None or version.pk in signable_ids
                or any(answer["decision"] == Signature.Decision.DECLINED
                       for answer in version.answers)):
            continue
        waiting_for = _unsigned(version)
        if not waiting_for:
            continue
        service_user = version.plan.service_user
        entries.append(Entry(
            Hat.COORDINATOR, "awaiting_others",
            f"{possessive(service_user.name)} {_words(version.plan)} (version "
            f"{version.number}) is waiting for {' and '.join(waiting_for)} to sign",
            _version_url(version),
            detail=f"Proposed on {_long_date(version.proposed_at)}."))

    for plan in caseload_plans:
        waiting = plan.goals_waiting
        if not waiting:
            continue
        name = possessive(plan.service_user.name)
        text = (f"Agree the goal “{waiting[0]['title']}” on {name} care plan"
                if len(waiting) == 1
                else f"{plural(len(waiting), 'goal')} on {name} care plan waiting for you "
                     "to agree")
        entries.append(Entry(Hat.COORDINATOR, "goal_agree", text,
                             _plan_url(plan.pk, f"item-{waiting[0]['pk']}"),
                             count=len(waiting)))

    # A first meeting started and not yet saved to the care plan, on an open episode of
    # someone the viewer is allocated to (ADR 0017).
    caseload_records = policy.records_visible_to(viewer).exclude(user_id=viewer.pk)
    total = len(first_meeting.STEPS)
    for meeting in (
        FirstMeeting.objects.filter(finished_at__isnull=True,
                                    episode__discharged_on__isnull=True,
                                    episode__service_user__in=caseload_records.values("pk"))
        .select_related("episode__service_user").order_by("started_at", "pk")
    ):
        service_user = meeting.episode.service_user
        done = len(first_meeting.steps_done(meeting.answers))
        entries.append(Entry(
            Hat.COORDINATOR, "first_meeting",
            f"Finish the first meeting with {service_user.name}",
            reverse("first_meeting", args=[service_user.pk]),
            detail=f"{done} of {total} steps done.", count=1))

    entries += _carer_views_received(caseload_plans)
    overdue = sorted((plan for plan in caseload_plans if plan.kind == PlanKind.CARE_PLAN
                      and plan.next_review_on is not None and plan.next_review_on < today),
                     key=lambda plan: (plan.next_review_on, plan.pk))
    for plan in overdue:
        entries.append(Entry(
            Hat.COORDINATOR, "review_overdue",
            f"{possessive(plan.service_user.name)} care plan review is overdue",
            reverse("review_add", args=[plan.pk]),
            detail=f"It was due on {_long_date(plan.next_review_on)}."))
    return entries


def _review_views_wanted(viewer: User) -> list[Entry]:
    """A carer the service user involves in reviews (the policy's one predicate), with a
    care plan review scheduled and no views given for it yet: one query."""
    plans = Plan.objects.filter(service_user_id=OuterRef("service_user_id"),
                                kind=PlanKind.CARE_PLAN, next_review_on__isnull=False)
    given = CarerReviewViews.objects.filter(
        plan__service_user_id=OuterRef("service_user_id"), plan__kind=PlanKind.CARE_PLAN,
        carer_id=OuterRef("carer_id"), review_due_on=OuterRef("due_on"))
    entries = []
    for relationship in (
        policy.review_views_relationships(viewer).select_related("service_user")
        .annotate(due_on=Subquery(plans.values("next_review_on")[:1]))
        .filter(due_on__isnull=False).exclude(Exists(given)).order_by("due_on", "pk")
    ):
        name = relationship.service_user.name
        entries.append(Entry(
            Hat.CARER, "review_views",
            f"Give your views before {possessive(name)} care plan review",
            reverse("carer_review_views", args=[relationship.pk]),
            detail=f"{name} would like you to be heard. The review is due on "
                   f"{_long_date(relationship.due_on)}."))
    return entries


def _carer_views_received(caseload_plans: list[Plan]) -> list[Entry]:
    """Views carers gave for a review still to come on the viewer's caseload (read with
    the plans, through `carer_views_visible_to`): one entry per plan, done when it is
    recorded."""
    entries = []
    for plan in caseload_plans:
        names = [given["carer"] for given in plan.views_given]
        if not names:
            continue
        entries.append(Entry(
            Hat.COORDINATOR, "carer_views_received",
            f"Carers' views received for {possessive(plan.service_user.name)} upcoming review",
            _plan_url(plan.pk, "carer-views"),
            detail=f"From {', '.join(names)}. The review is due on "
                   f"{_long_date(plan.next_review_on)}.", count=len(names)))
    return entries


def _unsigned(version: PlanVersion) -> list[str]:
    """Who has still to sign an open version, by name (from the JSON rows read with it:
    `answers` and `signers`)."""
    service_user = version.plan.service_user
    names = []
    for required in version.signers:
        role = required["role"]
        if role == RequiredSigner.Role.CARER:
            done = any(answer["role"] == role and answer["signer_id"] == required["carer_user_id"]
                       for answer in version.answers)
            who = required["carer_name"]
        else:
            done = any(answer["role"] == role for answer in version.answers)
            who = (service_user.name if role == RequiredSigner.Role.SERVICE_USER
                   else "a care coordinator")
        if not done:
            names.append(who)
    return names


# --- A manager's teams: counts only ------------------------------------------------------------


def _for_manager(viewer: User, today: dt.date) -> list[Entry]:
    teams = list(policy.teams_managed_by(viewer).order_by("name", "pk"))
    if not teams:
        return []
    in_care = (policy.service_users_in_managed_teams(viewer)
               .filter(episodes__discharged_on__isnull=True).values("pk"))
    overdue = dict(
        Plan.objects.filter(kind=PlanKind.CARE_PLAN, next_review_on__lt=today,
                            service_user__in=in_care)
        .order_by().values("service_user__team_id").annotate(n=Count("pk"))
        .values_list("service_user__team_id", "n")
    )
    unsigned = dict(
        _open_versions(PlanVersion.objects.filter(plan__service_user__in=in_care))
        .order_by().values("plan__service_user__team_id").annotate(n=Count("pk"))
        .values_list("plan__service_user__team_id", "n")
    )
    entries = []
    for team in teams:
        if overdue.get(team.pk):
            entries.append(Entry(
                Hat.MANAGER, "team_reviews_overdue",
                f"{team.name}: {plural(overdue[team.pk], 'care plan review')} overdue",
                reverse("report_detail", args=[team.pk, "review-compliance"]),
                count=overdue[team.pk]))
        if unsigned.get(team.pk):
            entries.append(Entry(
                Hat.MANAGER, "team_unsigned",
                f"{team.name}: {plural(unsigned[team.pk], 'plan version')} waiting for "
                "signatures",
                reverse("report_detail", args=[team.pk, "signature-status"]),
                count=unsigned[team.pk]))
    return entries


def team_entry(team_id: int, team_name: str, people: int) -> Entry:
    """A team's "getting stuck" count, as reporting adds it (carecoord/reporting/todo.py)."""
    return Entry(Hat.MANAGER, "team_stuck",
                 f"{team_name}: {plural(people, 'person', 'people')} may be getting stuck",
                 reverse("team_detail", args=[team_id]), count=people)


def stuck_entry(service_user_id: int, name: str, reasons: list[str]) -> Entry:
    """One person's "getting stuck" prompts, as reporting adds them."""
    return Entry(Hat.COORDINATOR, "stuck", f"{name} may be getting stuck",
                 reverse("service_user_detail", args=[service_user_id]),
                 detail="; ".join(reasons) + ".")




# --- What the things to do depend on (carecoord/todo/cache.py) ----------------------------


def things_to_do_depends_on(viewer: User) -> list[str]:
    """The generation keys (carecoord/freshness) the viewer's things to do are worked out
    from: themselves, every service user the list may mention, a manager's teams."""
    roles = viewer.roles
    keys = [freshness.EVERYTHING, freshness.user_key(viewer.pk)]
    service_users: set[int] = set()
    if Role.SERVICE_USER in roles:
        service_users.update(ServiceUser.objects.filter(user_id=viewer.pk)
                             .values_list("pk", flat=True))
    if Role.CARER in roles:
        # Every relationship, offered or ended too: accepting an offer writes it.
        service_users.update(CarerRelationship.objects.filter(carer__user_id=viewer.pk)
                             .values_list("service_user_id", flat=True))
    if Role.COORDINATOR in roles:
        # Every record the policy lets them read: their caseload's plans and the people
        # "getting stuck" both come from these.
        service_users.update(policy.records_visible_to(viewer).order_by()
                             .values_list("pk", flat=True))
    keys += [freshness.service_user_key(pk) for pk in sorted(service_users)]
    if Role.MANAGER in roles:
        keys += [freshness.team_key(pk) for pk in
                 policy.teams_managed_by(viewer).order_by("pk").values_list("pk", flat=True)]
    return keys


def emergency_access_ends(viewer: User, now: dt.datetime) -> dt.datetime | None:
    """When the viewer's first emergency (break-glass) access still running ends."""
    return (BreakGlassAccess.objects.filter(professional_id=viewer.pk, expires_at__gt=now)
            .order_by("expires_at").values_list("expires_at", flat=True).first())
