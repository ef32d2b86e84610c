""""Getting stuck" prompts for the people who see them (rules in carecoord/reporting/stuck.py):
a coordinator's caseload with reasons, a service user's own invitations to talk, and a
team's counts for its managers. Every read takes `viewer=` and goes through the access
policy."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from django.utils import timezone

from carecoord import freshness
from carecoord.audit.request_context import current_request_reads
from carecoord.records.models import Allocation, Role, ServiceUser, Team, User
from carecoord.records.selectors import OpenedRecord, team_members
from carecoord.reporting import stuck
from carecoord.reporting.stuck import Prompt
from carecoord.todo.selectors import things_to_do_depends_on
from consent import policy
from consent.policy import Basis


@dataclass(frozen=True)
class StuckRow:
    service_user: ServiceUser
    prompts: list[Prompt]


def _prompts_for(service_users: list[ServiceUser],
                 today: dt.date | None = None) -> dict[int, list[Prompt]]:
    """`stuck.prompts_for`, worked out once a request for each person: the manager's team
    page asks for its team's people twice (the header's things to do, then the team's
    counts), three queries and hundreds of rows each time (issue 15)."""
    today = today or timezone.localdate()
    reads = current_request_reads.get()
    if reads is None:
        return stuck.prompts_for(service_users, today)
    known = reads.setdefault(("stuck_prompts", today), {})
    missing = [service_user for service_user in service_users if service_user.pk not in known]
    if missing:
        known.update(stuck.prompts_for(missing, today))
    return {service_user.pk: known[service_user.pk] for service_user in service_users}


def caseload_stuck_prompts(*, viewer: User, today: dt.date | None = None) -> list[StuckRow]:
    """For a coordinator's caseload: each allocated service user with prompts, with the
    reasons. A fixed number of queries however long the caseload."""
    if not viewer.has_role(Role.COORDINATOR):
        return []
    # The home page asks twice (its things to do, then its caseload's list): once a
    # request is enough (about ten queries).
    reads = current_request_reads.get()
    key = ("caseload_stuck_prompts", viewer.pk, today or timezone.localdate())
    if reads is not None and key in reads:
        return reads[key]
    allocated = Allocation.objects.active().filter(coordinator=viewer)
    service_users = list(
        policy.records_visible_to(viewer)
        .filter(pk__in=allocated.values("episode__service_user_id"))
        .order_by("full_name", "pk")
    )
    prompts = _prompts_for(service_users, today)
    rows = [StuckRow(service_user=s, prompts=prompts[s.pk]) for s in service_users
            if prompts[s.pk]]
    if reads is not None:
        reads[key] = rows
    return rows


def caseload_stuck_prompts_for_page(*, viewer: User) -> list[StuckRow]:
    """`caseload_stuck_prompts` as the home page lists them: kept between pages until
    something about the coordinator or the people they may read is written, like the
    things to do (carecoord/todo/cache.py, ADR 0029)."""
    if not viewer.has_role(Role.COORDINATOR):
        return []
    today = timezone.localdate()
    return freshness.kept_or_worked_out(
        f"stuck:caseload:v1:{viewer.pk}", day=today,
        depends_on=lambda: things_to_do_depends_on(viewer),
        work_out=lambda: caseload_stuck_prompts(viewer=viewer, today=today),
        keep_seconds=lambda rows: freshness.KEEP_SECONDS)


def stuck_invitations(*, viewer: User, record: OpenedRecord) -> list[str]:
    """On the service user's own record only: the prompts about them (never those about
    their carers), phrased as invitations to talk with their care coordinator."""
    if record.basis is not Basis.SELF:
        return []
    service_user = record.service_user
    prompts = [p for p in _prompts_for([service_user])[service_user.pk]
               if p.invitation_text]
    if not prompts:
        return []
    # Named as they asked to be called ("talk with Sam").
    names = [preferred or full for preferred, full in policy.coordinators_of(service_user)
             .order_by("pk").values_list("preferred_name", "full_name")]
    who = " or ".join(name for name in names if name) or "your care coordinator"
    return [prompt.invitation(who) for prompt in prompts]


@dataclass(frozen=True)
class StuckRuleCount:
    label: str
    count: int


@dataclass(frozen=True)
class StuckCoordinatorCount:
    coordinator: User
    count: int
    at_threshold: bool


@dataclass(frozen=True)
class TeamStuckSummary:
    team: Team
    people_with_prompts: int
    rules: list[StuckRuleCount]
    coordinators: list[StuckCoordinatorCount]
    caseload_threshold: int


def team_stuck_summary(*, viewer: User, team: Team) -> TeamStuckSummary:
    """For the team's managers: counts only — how many service users each rule applies
    to, and how many of each coordinator's service users have prompts. No names of
    service users, no reasons."""
    # The team's people as its page already read them (records.selectors, once a
    # request): those in care coordination, their active allocations, the coordinators.
    members = team_members(viewer=viewer, team=team)
    team = members.team
    in_care_coordination = {episode.service_user_id for episode in members.open_episodes}
    service_users = [service_user for service_user in members.service_users
                     if service_user.pk in in_care_coordination]
    prompts = _prompts_for(service_users)
    with_prompts = {pk for pk, found in prompts.items() if found}
    rules = [
        StuckRuleCount(
            label=stuck.rule_label(rule, team),
            count=sum(1 for found in prompts.values() if any(p.rule == rule for p in found)),
        )
        for rule in stuck.RULE_ORDER
    ]
    per_coordinator: dict[int, set[int]] = {}
    for episode in members.open_episodes:
        for _pk, coordinator_id in members.allocations.get(episode.pk, []):
            per_coordinator.setdefault(coordinator_id, set())
            if episode.service_user_id in with_prompts:
                per_coordinator[coordinator_id].add(episode.service_user_id)
    counts = {pk: len(ids) for pk, ids in per_coordinator.items()}
    at_threshold = stuck.coordinators_at_threshold(counts, team)
    coordinators = [
        StuckCoordinatorCount(coordinator=c, count=counts.get(c.pk, 0),
                              at_threshold=c.pk in at_threshold)
        for c in members.coordinators
    ]
    return TeamStuckSummary(team=team, people_with_prompts=len(with_prompts), rules=rules,
                            coordinators=coordinators,
                            caseload_threshold=team.stuck_caseload_prompts)


def team_stuck_summary_for_page(*, viewer: User, team: Team) -> TeamStuckSummary:
    """`team_stuck_summary` as the team's page shows it: kept between pages until
    something about a person in the team, the team or the manager is written (ADR 0029).
    The policy is asked first, every time (404 for anyone but its managers)."""
    team = policy.team_for_manager(viewer, team.pk)
    today = timezone.localdate()
    return freshness.kept_or_worked_out(
        f"stuck:team:v1:{viewer.pk}:{team.pk}", day=today,
        depends_on=lambda: [freshness.EVERYTHING, freshness.user_key(viewer.pk),
                            freshness.team_key(team.pk)],
        work_out=lambda: team_stuck_summary(viewer=viewer, team=team),
        keep_seconds=lambda summary: freshness.KEEP_SECONDS)


def teams_stuck_counts(*, viewer: User, today: dt.date | None = None) -> list[tuple[Team, int]]:
    """For a manager's things to do: each team they manage, with how many of its people
    in care coordination have prompts. Counts only; one pass over all their teams, so a
    fixed number of queries however many teams and people."""
    teams = list(policy.teams_managed_by(viewer).order_by("name", "pk"))
    if not teams:
        return []
    service_users = list(
        policy.service_users_in_managed_teams(viewer)
        .filter(episodes__discharged_on__isnull=True).distinct()
    )
    prompts = _prompts_for(service_users, today)
    counts: dict[int, int] = {}
    for service_user in service_users:
        if prompts[service_user.pk]:
            counts[service_user.team_id] = counts.get(service_user.team_id, 0) + 1
    return [(team, counts.get(team.pk, 0)) for team in teams]
