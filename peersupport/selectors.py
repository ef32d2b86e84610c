"""Reads for the directory, signposting and recovery stories. Every read takes
`viewer=` and goes through the access policy; opening someone else's signposting writes
an access event."""

from __future__ import annotations

from dataclasses import dataclass, field

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.urls import reverse

from carecoord.records.models import Role, ServiceUser, Team, User
from carecoord.records.selectors import audit_read
from consent import policy
from consent.policy import Basis
from peersupport.models import (
    Audience,
    Offer,
    OfferKind,
    RecoveryStory,
    Signposting,
    StoryStatus,
    TakenUp,
)
from plans.models import Plan
from plans.sections import PlanKind

# --- Directory ------------------------------------------------------------------------

ATTENDANCE_ONLINE = "online"
ATTENDANCE_IN_PERSON = "in_person"
AUDIENCE_ANYONE = "all"


@dataclass(frozen=True)
class OfferSearch:
    """What someone asked the directory for. Empty values mean "any"."""

    text: str = ""
    kind: str = ""
    audience: str = AUDIENCE_ANYONE
    place: str = ""
    attendance: str = ""
    include_retired: bool = False


def default_audience(*, viewer: User) -> str:
    """Offers for the viewer, to begin with: a carer sees those for carers, a service
    user those for people using services; staff, and people who are both, see all."""
    is_service_user = viewer.has_role(Role.SERVICE_USER)
    is_carer = viewer.has_role(Role.CARER)
    if is_carer and not is_service_user and not policy.can_manage_offers(viewer):
        return Audience.CARERS
    if is_service_user and not is_carer:
        return Audience.SERVICE_USERS
    return AUDIENCE_ANYONE


def offer_search(*, viewer: User, search: OfferSearch) -> QuerySet[Offer]:
    offers = policy.offers_visible_to(viewer)
    if not (search.include_retired and policy.can_manage_offers(viewer)):
        offers = offers.filter(active=True)
    if search.kind:
        offers = offers.filter(kind=search.kind)
    if search.audience in (Audience.SERVICE_USERS, Audience.CARERS):
        offers = offers.for_audience(search.audience)
    if search.attendance == ATTENDANCE_ONLINE:
        offers = offers.filter(online=True)
    elif search.attendance == ATTENDANCE_IN_PERSON:
        offers = offers.exclude(place="")
    if search.place:
        offers = offers.filter(place__icontains=search.place)
    for word in search.text.split():
        offers = offers.filter(
            Q(name__icontains=word) | Q(description__icontains=word)
            | Q(place__icontains=word)
        )
    return offers.order_by("name", "pk")


def offers_for_signposting(*, viewer: User) -> QuerySet[Offer]:
    """The offers that can be recorded as offered: the active ones."""
    return policy.offers_visible_to(viewer).filter(active=True).order_by("name", "pk")


# --- Signposting ----------------------------------------------------------------------


@dataclass
class OpenedSignposting:
    signposting: Signposting
    basis: Basis


def signposting_open(*, viewer: User, signposting_id: int, surface: str) -> OpenedSignposting:
    signposting, basis = policy.signposting_for_viewer(viewer, signposting_id)
    audit_read(viewer=viewer, service_user=signposting.service_user, basis=basis,
               surface=surface, target=f"signposting:{signposting.pk}")
    return OpenedSignposting(signposting=signposting, basis=basis)


@dataclass
class SignpostingTarget:
    """A record the viewer may add signposting to."""

    service_user: ServiceUser
    basis: Basis

    @property
    def is_own(self) -> bool:
        return self.basis is Basis.SELF


def signposting_target_open(*, viewer: User, service_user_id: int,
                            surface: str) -> SignpostingTarget:
    service_user, basis = policy.signposting_record_for_viewer(viewer, service_user_id)
    audit_read(viewer=viewer, service_user=service_user, basis=basis,
               surface=surface, target=f"service_user:{service_user.pk}")
    return SignpostingTarget(service_user=service_user, basis=basis)


def signposting_for_service_user(*, viewer: User, service_user: ServiceUser,
                                 basis: policy.Basis | None = None) -> QuerySet[Signposting]:
    """The service user's signposting, if the viewer may read their record; else none.
    `basis`: the viewer's basis on the record when the caller has just asked the policy
    it (the plan page); otherwise the rule is asked."""
    signposting = (Signposting.objects.filter(service_user=service_user)
                   .select_related("offer", "offered_by"))
    if basis is None:
        signposting = policy.signposting_visible_to(viewer, signposting)
    else:
        signposting = policy.signposting_visible_on_basis(viewer, basis, signposting)
    return signposting.order_by("-offered_on", "-pk")


def signposting_return_url(*, viewer: User, service_user: ServiceUser) -> str:
    """Where signposting is shown: the care plan, or the record if there is none yet."""
    care_plan = policy.plans_visible_to(
        viewer, Plan.objects.filter(service_user=service_user, kind=PlanKind.CARE_PLAN)
    ).first()
    if care_plan is not None:
        return reverse("plan_detail", args=[care_plan.pk]) + "#signposting"
    return reverse("service_user_detail", args=[service_user.pk])


@dataclass
class SignpostingCounts:
    """Counts only — no names and no clinical text — for a manager's team page."""

    offered: int = 0
    taken_up: int = 0
    not_taken_up: int = 0
    not_yet: int = 0
    by_kind: list[dict] = field(default_factory=list)


def signposting_counts(*, team: Team) -> SignpostingCounts:
    """How often the team's service users were offered opportunities and took them up.
    The caller must already know the viewer manages the team (policy.team_for_manager)."""
    rows = (
        Signposting.objects.filter(service_user__team=team)
        .values("offer__kind")
        .annotate(
            # Named apart from the model's own field, which the filters refer to.
            n_offered=Count("pk"),
            n_yes=Count("pk", filter=Q(taken_up=TakenUp.YES)),
            n_no=Count("pk", filter=Q(taken_up=TakenUp.NO)),
            n_not_yet=Count("pk", filter=Q(taken_up=TakenUp.NOT_YET)),
        )
        .order_by("offer__kind")
    )
    counts = SignpostingCounts()
    labels = dict(OfferKind.choices)
    for row in rows:
        counts.offered += row["n_offered"]
        counts.taken_up += row["n_yes"]
        counts.not_taken_up += row["n_no"]
        counts.not_yet += row["n_not_yet"]
        counts.by_kind.append({"kind": labels.get(row["offer__kind"], row["offer__kind"]),
                               "offered": row["n_offered"], "taken_up": row["n_yes"]})
    return counts


def team_signposting_counts(*, viewer: User, team: Team) -> SignpostingCounts | None:
    """The counts for a team the viewer manages; None for anyone else."""
    if not policy.manages_team(viewer, team.pk):
        return None
    return signposting_counts(team=team)


# --- Recovery stories -----------------------------------------------------------------


def published_stories(*, viewer: User) -> QuerySet[RecoveryStory]:
    return policy.stories_visible_to(
        viewer, RecoveryStory.objects.filter(status=StoryStatus.PUBLISHED)
        .select_related("author"),
    ).order_by("-published_at", "-pk")


def own_stories(*, viewer: User) -> QuerySet[RecoveryStory]:
    return policy.stories_visible_to(
        viewer, RecoveryStory.objects.filter(author_id=viewer.pk).select_related("author")
    ).order_by("-updated_at", "-pk")


def stories_awaiting_moderation(*, viewer: User) -> QuerySet[RecoveryStory]:
    return policy.stories_to_moderate(
        viewer, RecoveryStory.objects.select_related("author")
    ).order_by("submitted_at", "pk")


def story_open(*, viewer: User, story_id: int) -> RecoveryStory:
    return policy.story_for_viewer(viewer, story_id)


def story_for_author(*, viewer: User, story_id: int) -> RecoveryStory:
    """One of the viewer's own stories (to change, send, or withdraw)."""
    story = policy.story_for_viewer(viewer, story_id)
    if story.author_id != viewer.pk:
        raise Http404("No such story.")
    return story


def story_for_moderation(*, viewer: User, story_id: int) -> RecoveryStory:
    return policy.story_for_moderator(viewer, story_id)


def offer_open(*, viewer: User, offer_id: int) -> Offer:
    """One directory entry the viewer may see (Http404 otherwise)."""
    return policy.offer_for_viewer(viewer, offer_id)


def stories_for_api(*, viewer: User) -> QuerySet[RecoveryStory]:
    """Published stories and the viewer's own, in any state, newest first."""
    return policy.stories_visible_to(
        viewer, RecoveryStory.objects.filter(
            Q(status=StoryStatus.PUBLISHED) | Q(author_id=viewer.pk)
        ).select_related("author"),
    ).order_by("-published_at", "-pk")
