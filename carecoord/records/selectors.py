"""Reads for people, records, caseloads and teams. Every read of personal data takes
`viewer=` and goes through the access policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.core.paginator import Page, Paginator
from django.db.models import (
    CharField,
    Count,
    Func,
    IntegerField,
    Max,
    OuterRef,
    Prefetch,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
)
from django.db.models.functions import Coalesce, NullIf, TruncDate
from django.http import Http404
from django.utils import timezone

from carecoord.audit import wording
from carecoord.audit.models import AccessEvent
from carecoord.audit.request_context import current_request_reads
from carecoord.audit.services import access_event_record
from carecoord.records.models import (
    CARE_TEAM_ROLES,
    Allocation,
    BreakGlassAccess,
    CareTeamMember,
    Episode,
    Invitation,
    Role,
    ServiceUser,
    Team,
    User,
)
from carecoord.web.links import link_maker
from carers.models import CarerRelationship
from consent import policy
from consent.policy import Basis
from plans.models import Plan
from plans.sections import PlanKind


@dataclass(frozen=True)
class OpenedRecord:
    service_user: ServiceUser
    basis: Basis
    can_manage_care: bool
    can_edit_own_details: bool
    can_allocate: bool
    can_manage_care_team: bool = False

    @property
    def whole(self) -> bool:
        """Reads the whole record (not only a care-team role's part of it)."""
        return self.basis in policy.FULL_BASES


def audit_read(*, viewer: User, service_user: ServiceUser, basis: Basis | str, surface: str,
               target: str) -> None:
    """Every read of someone else's record, on any surface, is an access event (who,
    what, when, on which basis); reading one's own record is not."""
    if basis is not Basis.SELF:
        access_event_record(actor=viewer, service_user=service_user, action=f"{surface}.view",
                            target=target, basis=basis)


def service_user_open(*, viewer: User, service_user_id: int, surface: str) -> OpenedRecord:
    """Open a record for reading. Writes the access event in the same call, so that no
    surface can read someone else's record without leaving a trace. Raises Http404."""
    service_user, basis = policy.record_for_viewer(viewer, service_user_id)
    audit_read(viewer=viewer, service_user=service_user, basis=basis, surface=surface,
               target=f"service_user:{service_user.pk}")
    return OpenedRecord(
        service_user=service_user,
        basis=basis,
        can_manage_care=basis is Basis.ALLOCATED_COORDINATOR,
        can_edit_own_details=basis is Basis.SELF,
        can_allocate=policy.can_allocate(viewer, service_user, basis),
        can_manage_care_team=policy.can_manage_care_team(viewer, service_user, basis),
    )


def own_record_open(*, viewer: User, service_user_id: int) -> OpenedRecord:
    """The viewer's own record, for pages only the person themselves has (who has looked
    at it). Anyone else, their coordinator included, gets 404. Reading one's own record
    is never an access event."""
    service_user, basis = policy.record_for_viewer(viewer, service_user_id)
    if basis is not Basis.SELF:
        raise Http404("No such record.")
    return OpenedRecord(service_user=service_user, basis=basis, can_manage_care=False,
                        can_edit_own_details=True, can_allocate=False)


def episodes_for_record(*, record: OpenedRecord) -> QuerySet[Episode]:
    return record.service_user.episodes.prefetch_related(
        Prefetch("allocations", queryset=Allocation.objects.select_related("coordinator"))
    )


def open_episode(*, service_user: ServiceUser) -> Episode | None:
    return service_user.episodes.filter(discharged_on__isnull=True).first()


def carers_for_record(*, viewer: User, record: OpenedRecord) -> QuerySet[CarerRelationship]:
    return policy.carer_relationships_visible_on_basis(
        viewer, record.basis,
        CarerRelationship.objects.filter(service_user=record.service_user)
        .select_related("carer", "carer__user")
        # A queryset made here, not at the page that reads it (carecoord/scoping).
        .prefetch_related(Prefetch("invitations", queryset=Invitation.objects.all())),
    )


def invitations_for_record(*, record: OpenedRecord):
    if not record.can_manage_care:
        return record.service_user.invitations.none()
    return record.service_user.invitations.filter(kind="service_user")


def caseload(*, viewer: User) -> QuerySet[Allocation]:
    """The coordinator's active allocations, with what the caseload table shows."""
    if not viewer.has_role(Role.COORDINATOR):
        return Allocation.objects.none()
    next_review = Plan.objects.filter(
        service_user=OuterRef("episode__service_user"), kind=PlanKind.CARE_PLAN
    ).values("next_review_on")[:1]
    return (
        Allocation.objects.active()
        .filter(coordinator=viewer)
        .select_related("episode__service_user")
        .annotate(next_review_on=Subquery(next_review))
        .order_by("episode__service_user__full_name")
    )


def own_record(*, viewer: User) -> ServiceUser | None:
    return policy.records_visible_to(viewer).filter(user=viewer).first()


def cared_for(*, viewer: User) -> QuerySet[CarerRelationship]:
    """The people this carer cares for (accepted relationships): only that the
    relationship exists."""
    return (
        policy.carer_relationships_visible_to(viewer, CarerRelationship.objects.active())
        .filter(carer__user_id=viewer.pk)
        .select_related("service_user")
    )


def carer_offers(*, viewer: User) -> list[CarerRelationship]:
    """Relationships offered to this carer, waiting for them to accept or decline."""
    return list(
        policy.carer_relationships_visible_to(viewer, CarerRelationship.objects.offered())
        .filter(carer__user=viewer)
        .select_related("service_user", "added_by")
    )


@dataclass(frozen=True)
class TeamCaseloads:
    team: Team
    coordinators: list[User]
    unallocated: list[Episode]


@dataclass(frozen=True)
class TeamMembers:
    """A managed team's people as its page needs them, read once a request: the team's
    service users (by name), their open episodes, the active allocations of those
    episodes and the team's coordinators. The team page's caseload sizes, its 300 lines
    and its "getting stuck" counts are all worked out from these four reads."""

    team: Team
    service_users: list[ServiceUser]
    open_episodes: list[Episode]
    # episode id -> [(allocation id, coordinator id)] of its active allocations, oldest first
    allocations: dict[int, list[tuple[int, int]]]
    coordinators: list[User]  # the team's, by name

    @property
    def open_episode_of(self) -> dict[int, Episode]:
        """Each service user's open episode, by service user id."""
        return {episode.service_user_id: episode for episode in self.open_episodes}


def team_members(*, viewer: User, team: Team) -> TeamMembers:
    """The team's people for its managers (404 for anyone else); names and dates only.

    The team page asks three times (caseload sizes, its lines, the "getting stuck"
    counts): the reads are made once a request and kept for the rest of it (issue 15:
    the service users and the episodes were read twice, the allocations twice)."""
    team = policy.team_for_manager(viewer, team.pk)
    reads = current_request_reads.get()
    key = ("team_members", viewer.pk, team.pk)
    if reads is not None and key in reads:
        return reads[key]
    service_users = list(policy.service_users_in_managed_teams(viewer).filter(team=team))
    # Plain reads put together here: prefetch_related would build a queryset per person
    # and per episode (a third of the page's time for 300 people).
    open_episodes = list(
        Episode.objects.filter(service_user_id__in=[s.pk for s in service_users],
                               discharged_on__isnull=True)
        .with_waiting_for_coordinator())
    allocations: dict[int, list[tuple[int, int]]] = {}
    for pk, episode_id, coordinator_id in (
        Allocation.objects.active().filter(episode_id__in=[e.pk for e in open_episodes])
        .order_by("started_on", "pk")
        .values_list("pk", "episode_id", "coordinator_id")
    ):
        allocations.setdefault(episode_id, []).append((pk, coordinator_id))
    members = TeamMembers(team=team, service_users=service_users,
                          open_episodes=open_episodes, allocations=allocations,
                          coordinators=list(team.coordinators.order_by("full_name", "pk")))
    if reads is not None:
        reads[key] = members
    return members


def team_caseloads(*, viewer: User, team_id: int | None = None) -> list[TeamCaseloads]:
    """For managers: each coordinator's caseload size, and the open episodes waiting for
    a care coordinator (nobody allocated now, whether or not anyone ever was). Metadata
    only."""
    if team_id is not None:
        # One team (its page): from the team's people, read once for the whole page.
        team = policy.team_for_manager(viewer, team_id)
        return [_caseloads_of(team_members(viewer=viewer, team=team))]
    result = []
    for team in policy.teams_managed_by(viewer):
        coordinators = list(
            team.coordinators.annotate(
                caseload_size=Count(
                    "allocations",
                    filter=Q(
                        allocations__ended_on__isnull=True,
                        allocations__episode__discharged_on__isnull=True,
                        allocations__episode__service_user__team=team,
                    ),
                )
            ).order_by("full_name", "pk")
        )
        unallocated = list(
            Episode.objects.filter(service_user__team=team).waiting_for_coordinator()
            .select_related("service_user")
        )
        result.append(TeamCaseloads(team=team, coordinators=coordinators, unallocated=unallocated))
    return result


def _caseloads_of(members: TeamMembers) -> TeamCaseloads:
    """The same counts as the queries above, from the team's people already read: a
    coordinator's caseload is their active allocations to open episodes of the team's
    people; an episode waits for a care coordinator by the one predicate
    (`Episode.objects.waiting_for_coordinator`), read with the episodes."""
    sizes: dict[int, int] = {}
    for found in members.allocations.values():
        for _pk, coordinator_id in found:
            sizes[coordinator_id] = sizes.get(coordinator_id, 0) + 1
    coordinators = []
    for coordinator in members.coordinators:
        coordinator.caseload_size = sizes.get(coordinator.pk, 0)
        coordinators.append(coordinator)
    people = {service_user.pk: service_user for service_user in members.service_users}
    unallocated = []
    for episode in members.open_episodes:
        if episode.waiting_for_coordinator:
            episode.service_user = people[episode.service_user_id]
            unallocated.append(episode)
    return TeamCaseloads(team=members.team, coordinators=coordinators, unallocated=unallocated)


@dataclass(frozen=True)
class TeamAllocationLine:
    coordinator_name: str
    end_url: str


@dataclass(frozen=True)
class TeamServiceUserRow:
    """One line of the team page, worked out here once rather than by the template for
    each of 300 people: names and dates only, and the links of the line."""

    service_user: ServiceUser  # the identity line: full name, date of birth, NHS number
    name: str
    in_care_coordination: bool  # an open episode
    past_planned_end: bool
    progress_text: str
    allocations: list[TeamAllocationLine]
    next_step_url: str  # allocate a care coordinator, or start a new episode
    care_team_url: str


def team_service_users(*, viewer: User, team: Team,
                       today: dt.date | None = None) -> list[TeamServiceUserRow]:
    """The team's service users with their open episode and allocated coordinators."""
    members = team_members(viewer=viewer, team=team)
    today = today or timezone.localdate()
    open_episodes = members.open_episode_of
    allocations = members.allocations
    coordinators = {coordinator.pk: coordinator for coordinator in members.coordinators}
    # Someone allocated who is no longer one of the team's coordinators: rare, read then.
    elsewhere = {coordinator_id for found in allocations.values()
                 for _, coordinator_id in found} - coordinators.keys()
    if elsewhere:
        coordinators.update(User.objects.in_bulk(elsewhere))
    allocate, start_episode, end_allocation, care_team = (
        link_maker(name) for name in
        ("allocation_create", "episode_start", "allocation_end", "care_team_manage"))
    rows = []
    for service_user in members.service_users:
        episode = open_episodes.get(service_user.pk)
        rows.append(TeamServiceUserRow(
            service_user=service_user,
            name=service_user.name,
            in_care_coordination=episode is not None,
            past_planned_end=episode is not None
            and episode.days_past_planned_end(today) > 0,
            progress_text=episode.progress_text_on(today) if episode else "",
            allocations=[
                TeamAllocationLine(coordinator_name=coordinators[coordinator_id].display_name,
                                   end_url=end_allocation(pk))
                for pk, coordinator_id in (allocations.get(episode.pk, []) if episode else [])
            ],
            next_step_url=(allocate if episode else start_episode)(service_user.pk),
            care_team_url=care_team(service_user.pk),
        ))
    return rows


@dataclass(frozen=True)
class DuplicateRow:
    """A possible duplicate as a manager of `team` sees it: the records in their own
    teams by name, a record elsewhere only by its team."""

    pk: int
    recorded_at: dt.datetime
    names: list[str]


def possible_duplicates_for_team(*, viewer: User, team: Team) -> list[DuplicateRow]:
    team = policy.team_for_manager(viewer, team.pk)
    managed = policy.managed_teams(viewer)
    rows = []
    for duplicate in (
        policy.possible_duplicates_visible_to(viewer)
        .filter(Q(service_user__team=team) | Q(other__team=team), resolved_at__isnull=True)
        .select_related("service_user__team", "other__team")
    ):
        names = [
            record.name if record.team_id in managed else f"a record in {record.team.name}"
            for record in (duplicate.service_user, duplicate.other)
        ]
        rows.append(DuplicateRow(pk=duplicate.pk, recorded_at=duplicate.recorded_at,
                                 names=names))
    return rows


def team_coordinators(*, team: Team) -> QuerySet[User]:
    return team.coordinators.filter(role_grants__role=Role.COORDINATOR, is_active=True)


def teams_for_new_service_user(*, viewer: User) -> QuerySet[Team]:
    if not viewer.has_role(Role.COORDINATOR):
        return Team.objects.none()
    return Team.objects.filter(coordinators=viewer)


def may_add_service_users(*, viewer: User) -> bool:
    """Whether `viewer` may add a service user to some team (a coordinator of one): the
    header's link and the home page's button ask the same question, so it is asked once
    a request and kept on the request's user object (issue 15)."""
    # getattr/setattr, not __dict__: request.user is a lazy proxy of the user.
    cached = getattr(viewer, "_may_add_service_users", None)
    if cached is None:
        cached = teams_for_new_service_user(viewer=viewer).exists()
        viewer._may_add_service_users = cached
    return cached


def allocation_for_change(*, viewer: User, allocation_id: int) -> Allocation:
    allocation = (
        Allocation.objects.select_related("episode__service_user__team", "coordinator")
        .filter(pk=allocation_id, ended_on__isnull=True)
        .first()
    )
    if allocation is None or not policy.can_allocate(viewer, allocation.episode.service_user):
        raise Http404("No such allocation.")
    return allocation


def record_views(*, viewer: User, record: OpenedRecord) -> QuerySet[AccessEvent]:
    """Who has opened this record, and who was given access to it (an allocation): shown
    to the service user themselves."""
    if record.basis is not Basis.SELF:
        return AccessEvent.objects.none()
    return (
        AccessEvent.objects.filter(
            Q(action__endswith=".view") | Q(action="record_access.grant"),
            service_user=record.service_user,
        )
        .select_related("actor")
        .order_by("-occurred_at", "-id")
    )


# --- "Who has looked at your record" ---------------------------------------------------

LOOKED_PER_PAGE = 20  # groups a page


@dataclass(frozen=True)
class LookedGroup:
    """One person's views of one kind on one day, on one basis: "Linda looked at 7 shared
    items on 2 December"."""

    who: str
    day: dt.date
    last_at: dt.datetime
    action: str
    basis: str
    count: int

    @property
    def sentence(self) -> str:
        words = wording.action_words(self.action).for_service_user(self.count)
        return f"{self.who} {words} on {self.day:%-d %B %Y}"

    @property
    def why(self) -> str:
        return wording.basis_words(self.basis, to_service_user=True)


class _ItemsListed(Func):
    """How many things an event's `items` lists: the length of a JSON array, else 1 (an
    empty list, or anything that is not a list, stands for one thing)."""

    output_field = IntegerField()
    _TEMPLATES = {  # the expression appears twice, so its parameters are given twice
        "postgresql": "CASE WHEN jsonb_typeof({0}) = 'array' "
                      "THEN GREATEST(jsonb_array_length({0}), 1) ELSE 1 END",
        "sqlite": "CASE WHEN json_type({0}) = 'array' "
                  "THEN MAX(json_array_length({0}), 1) ELSE 1 END",
    }

    def as_sql(self, compiler, connection, **extra):
        sql, params = compiler.compile(self.source_expressions[0])
        template = self._TEMPLATES.get(connection.vendor, "1")
        return template.format(sql), (*params, *params) if "{0}" in template else ()


def _looked_count() -> Sum:
    """How many things a group stands for: a page view is one event, listing in `items`
    each thing it showed (ADR 0026); an event with no list stands for one thing."""
    return Sum(_ItemsListed("items"))


def record_views_grouped(*, viewer: User, record: OpenedRecord,
                         page_number: int | str | None = 1,
                         per_page: int = LOOKED_PER_PAGE) -> Page:
    """Who has looked at this record, for the person themselves: a page of groups, newest
    first, each one person's views of one kind on one day and basis. Grouped and counted
    in the database (someone may have thousands of events); only a page is loaded."""
    grouped = (
        record_views(viewer=viewer, record=record).order_by()
        .annotate(day=TruncDate("occurred_at"))
        .values("actor_id", "day", "action", "basis")
        .annotate(who=Coalesce(NullIf("actor__preferred_name", Value("")),
                               NullIf("actor__full_name", Value("")), Value("Someone"),
                               output_field=CharField()),
                  last_at=Max("occurred_at"), last_id=Max("id"), count=_looked_count())
        .order_by("-day", "-last_id")
    )
    page = Paginator(grouped, per_page).get_page(page_number)
    page.object_list = [
        LookedGroup(who=row["who"], day=row["day"], last_at=row["last_at"],
                    action=row["action"], basis=row["basis"], count=row["count"])
        for row in page.object_list
    ]
    return page


def account_exists(*, email: str) -> bool:
    return User.objects.filter(email__iexact=email).exists()


def records_for_viewer(*, viewer: User) -> QuerySet[ServiceUser]:
    """Records the viewer may open (own, or allocated), for lists."""
    return policy.records_visible_to(viewer).order_by("full_name")


# --- The care team and emergency access -------------------------------------------------


def care_team_for_record(*, viewer: User, service_user: ServiceUser,
                         basis: Basis | None = None) -> list[CareTeamMember]:
    """Who is on the care team now or is about to be, in what role and since when: for
    the person themselves, whoever manages the care team, and its members. `basis`: the
    viewer's basis on the record, when the caller has just opened it."""
    if not policy.can_see_care_team(viewer, service_user, basis):
        return []
    return list(
        CareTeamMember.objects.open().filter(service_user=service_user)
        .select_related("member").order_by("started_on", "pk")
    )


def care_team_places_of(*, viewer: User) -> list[CareTeamMember]:
    """The care teams this professional is on now (their home page)."""
    return list(CareTeamMember.objects.current().filter(member=viewer)
                .select_related("service_user").order_by("service_user__full_name"))


def care_team_candidates(*, viewer: User, service_user: ServiceUser) -> QuerySet[User]:
    """Who may be named on the care team (the form's choices): active professionals and
    care coordinators other than the person adding them."""
    if not policy.can_manage_care_team(viewer, service_user):
        return User.objects.none()
    return (
        User.objects.filter(is_active=True, role_grants__role__in=CARE_TEAM_ROLES)
        .exclude(pk=viewer.pk)
        .exclude(pk__in=CareTeamMember.objects.open().filter(service_user=service_user)
                 .values("member_id"))
        .distinct().order_by("full_name")
    )


def break_glass_active(*, viewer: User) -> list[BreakGlassAccess]:
    """The viewer's emergency accesses still running (for the banner on every page)."""
    if not viewer.is_authenticated or not policy.can_use_break_glass(viewer):
        return []
    return list(BreakGlassAccess.objects.active().filter(professional=viewer)
                .select_related("service_user").order_by("expires_at"))


def service_users_by_nhs_number(*, viewer: User, nhs_number: str) -> list[ServiceUser]:
    """Emergency access finds a person by their exact NHS number, for a professional: no
    lists, no partial matches. At most two come back: more than one means the number is
    held twice (a possible duplicate a manager checks), and nobody should guess which."""
    if not policy.can_use_break_glass(viewer) or not nhs_number:
        return []
    return list(ServiceUser.objects.select_related("team", "user").filter(
        nhs_number=nhs_number).order_by("pk")[:2])


def crisis_plan_for(*, viewer: User, service_user: ServiceUser) -> Plan | None:
    """The care plan holding the crisis plan, if the viewer may open it."""
    return policy.plans_visible_to(
        viewer, Plan.objects.filter(service_user=service_user, kind=PlanKind.CARE_PLAN)
    ).first()


# --- The API's reads (carecoord/records/api.py) -----------------------------------------


def service_users_for_api(*, viewer: User) -> QuerySet[ServiceUser]:
    """The records the viewer may open: their caseload, or their own record."""
    return policy.records_visible_to(viewer).order_by("full_name", "pk")


def episodes_of_record(*, record: OpenedRecord | None) -> QuerySet[Episode]:
    """A record's episodes (with their discharge plans), for those who read the record as a
    whole; a care-team member reads areas of it, not these. With no record (the schema
    generator's stand-in view), none."""
    if record is None or record.basis not in policy.FULL_BASES:
        return Episode.objects.none()
    return Episode.objects.filter(service_user=record.service_user).order_by("-started_on", "-pk")


def episode_open(*, viewer: User, episode_id: int, surface: str) -> Episode:
    """One episode of a record the viewer reads as a whole (Http404 otherwise), audited."""
    episode = (
        Episode.objects.filter(pk=episode_id,
                               service_user__in=policy.records_read_in_full(viewer).values("pk"))
        .select_related("service_user").first()
    )
    if episode is None:
        raise Http404("No such episode.")
    service_user_open(viewer=viewer, service_user_id=episode.service_user_id, surface=surface)
    return episode


def allocations_of_record(*, record: OpenedRecord | None) -> QuerySet[Allocation]:
    if record is None:
        return Allocation.objects.none()
    return (
        Allocation.objects.filter(episode__service_user=record.service_user)
        .select_related("coordinator", "episode").order_by("-started_on", "-pk")
    )


def allocation_open(*, viewer: User, allocation_id: int, surface: str) -> Allocation:
    """One allocation on a record the viewer may open (Http404 otherwise), audited."""
    allocation = (
        Allocation.objects.filter(
            pk=allocation_id,
            episode__service_user__in=policy.records_visible_to(viewer).values("pk"),
        ).select_related("coordinator", "episode").first()
    )
    if allocation is None:
        raise Http404("No such allocation.")
    service_user_open(viewer=viewer, service_user_id=allocation.episode.service_user_id,
                      surface=surface)
    return allocation


def carer_relationships_for_api(*, viewer: User, record: OpenedRecord | None
                                ) -> QuerySet[CarerRelationship]:
    if record is None:
        return CarerRelationship.objects.none()
    return carers_for_record(viewer=viewer, record=record).order_by("started_on", "pk")


def carer_relationship_open(*, viewer: User, relationship_id: int) -> CarerRelationship:
    """A carer relationship the viewer may see: their own as a carer, or one of a record
    they may open (Http404 otherwise). Reading one of a record is audited."""
    relationship = (
        policy.carer_relationships_visible_to(viewer)
        .filter(pk=relationship_id).select_related("carer", "service_user").first()
    )
    if relationship is None:
        raise Http404("No such carer.")
    basis = policy.record_basis(viewer, relationship.service_user)
    if basis is not None:
        audit_read(viewer=viewer, service_user=relationship.service_user, basis=basis,
                   surface="api.carer_relationship", target=f"carer_relationship:{relationship.pk}")
    return relationship


def access_events_of_record(*, viewer: User, record: OpenedRecord | None
                            ) -> QuerySet[AccessEvent]:
    """Who has opened this record (for the service user themselves; nobody else)."""
    if record is None:
        return AccessEvent.objects.none()
    return record_views(viewer=viewer, record=record)
