""""Getting stuck" prompts: rules computed from the data, each with its reason in plain
words. Thresholds are the service user's team's settings (`Team.stuck_*`).

Prompts are worked out only for service users in care coordination (an open episode).
For a whole caseload or team, `prompts_for` makes three queries whatever the number of
people: the people with their team and, a correlated subquery each, the facts of rules
2–5 (one row a person); their goals summed up (rule 1); and their carers' latest
check-ins (rule 6, one window query). The facts are then compared with the thresholds
in Python.

The rules, and where their boundaries lie ("more than N days" means N days is not
enough; N + 1 is):

1. No goal progress: the care plan has at least one live (not removed) goal, and the
   most recent of the goals' latest progress dates — or, for a goal with no progress
   yet, the date it was set — is more than `stuck_no_progress_days` days ago. A goal set
   within that time, progress or not, keeps the prompt away.
2. Review overdue: the care plan's next review date is before today (due today is not
   overdue).
3. Past planned end: the open episode's planned end is before today.
4. Waiting for signatures: the latest version of any plan is not agreed, nobody declined
   it, and it was proposed (local date) more than `stuck_awaiting_signature_days` ago.
5. Carer's assessment waiting: an active carer of the service user has a carer's
   assessment request, not completed, requested more than `stuck_assessment_days` ago.
6. A carer's wellbeing falling: an active carer's last K check-ins (K is
   `stuck_falling_check_ins`, at least 2) have strictly falling coping scores. Carers'
   privacy wins: it fires only when the carer shared every one of those K check-ins with
   the coordinator, and its reason never quotes them.
7. A coordinator's caseload: at least `stuck_caseload_prompts` of their service users
   have a prompt (see `coordinators_at_threshold`; shown to managers as counts only).

Rules 5 and 6 are about carers, not the service user: they are never shown to the
service user, whose own record shows rules 1–4 as invitations to talk.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from itertools import pairwise

from django.db.models import (
    Count,
    Exists,
    F,
    Max,
    Min,
    OuterRef,
    QuerySet,
    Subquery,
    Window,
)
from django.db.models.functions import Coalesce, RowNumber, TruncDate
from django.utils import timezone
from django.utils.dates import MONTHS

from carecoord.records.models import Episode, ServiceUser, Team
from carers.models import AssessmentRequest, CarerRelationship, WellbeingCheckIn
from plans.models import Plan, PlanItem, PlanVersion, ProgressUpdate, Signature
from plans.sections import ItemType, PlanKind, sections_for

MIN_FALLING_CHECK_INS = 2
GOAL_SECTIONS = [s.code for s in sections_for(PlanKind.CARE_PLAN) if s.item_type == ItemType.GOAL]


class Rule(StrEnum):
    NO_PROGRESS = "no_progress"
    REVIEW_OVERDUE = "review_overdue"
    PAST_PLANNED_END = "past_planned_end"
    AWAITING_SIGNATURE = "awaiting_signature"
    ASSESSMENT_WAITING = "assessment_waiting"
    CARER_WELLBEING_FALLING = "carer_wellbeing_falling"


RULE_ORDER = list(Rule)

# Short tags for the caseload (always shown with the reason in words, never colour alone).
TAGS = {
    Rule.NO_PROGRESS: "No goal progress",
    Rule.REVIEW_OVERDUE: "Review overdue",
    Rule.PAST_PLANNED_END: "Longer than planned",
    Rule.AWAITING_SIGNATURE: "Waiting for signatures",
    Rule.ASSESSMENT_WAITING: "Carer's assessment waiting",
    Rule.CARER_WELLBEING_FALLING: "Carer may be struggling",
}

# How plans are named inside a sentence ("your WRAP"), and at its start.
_PLAN_WORDS = {
    PlanKind.CARE_PLAN: "care plan",
    PlanKind.WRAP: "WRAP",
    PlanKind.RESPONSIBILITY_AGREEMENT: "responsibility agreement",
}

CARER_STRUGGLING_REASON = "A carer's own check-ins show they may be struggling"


def rule_label(rule: Rule, team: Team) -> str:
    """What a rule means, with the team's threshold: for managers' counts. No one's
    details, only the rule."""
    return {
        Rule.NO_PROGRESS: f"No goal progress for more than {_days(team.stuck_no_progress_days)}",
        Rule.REVIEW_OVERDUE: "Care plan review overdue",
        Rule.PAST_PLANNED_END: "Care coordination past its planned end",
        Rule.AWAITING_SIGNATURE: "A plan waiting for signatures for more than "
                                 f"{_days(team.stuck_awaiting_signature_days)}",
        Rule.ASSESSMENT_WAITING: "A carer's assessment not completed after "
                                 f"{_days(team.stuck_assessment_days)}",
        Rule.CARER_WELLBEING_FALLING: "A carer's wellbeing falling over "
                                      f"{falling_check_ins(team)} check-ins they shared",
    }[rule]


@dataclass(frozen=True)
class Prompt:
    rule: Rule
    # For the care coordinator: what the data shows, in plain words.
    reason: str
    # For the service user (rules 1–4 only): an invitation to talk. "{who}" is replaced
    # by their care coordinator's name.
    invitation_text: str = ""

    @property
    def tag(self) -> str:
        return TAGS[self.rule]

    def invitation(self, who: str) -> str:
        return self.invitation_text.replace("{who}", who) if self.invitation_text else ""


def falling_check_ins(team: Team) -> int:
    """K: a fall needs at least two check-ins to be seen."""
    return max(MIN_FALLING_CHECK_INS, team.stuck_falling_check_ins)


def _days(count: int) -> str:
    return f"{count} day{'' if count == 1 else 's'}"


def _long_date(value: dt.date) -> str:
    """"2 December 2026": what the date filter's "j F Y" gives (its month names,
    translated), without its format parser, which was a fifth of the time a team's
    prompts took (hundreds of reasons a page)."""
    return f"{value.day} {MONTHS[value.month]} {value.year:04d}"


# --- The rules, one fact set at a time ----------------------------------------------------


@dataclass(frozen=True)
class GoalFacts:
    """A care plan's live goals, summed up: how many, whether any has progress, and the
    latest of the goals' latest progress dates (or, for a goal with none, the date it was
    set)."""

    goals: int
    with_progress: bool
    last: dt.date


def no_progress(goals: GoalFacts | None, team: Team, today: dt.date) -> Prompt | None:
    if goals is None or not goals.goals:
        return None
    days = (today - goals.last).days
    if days <= team.stuck_no_progress_days:
        return None
    if goals.with_progress:
        reason = f"No goal progress recorded for {_days(days)}"
    else:
        were = "s were" if goals.goals > 1 else " was"
        reason = f"No goal progress recorded since the goal{were} set, {_days(days)} ago"
    return Prompt(Rule.NO_PROGRESS, reason,
                  "It has been a while since we looked at your goals together. You could talk "
                  "about them with {who} at your next meeting.")


def review_overdue(next_review_on: dt.date | None, today: dt.date) -> Prompt | None:
    if next_review_on is None or next_review_on >= today:
        return None
    days = (today - next_review_on).days
    return Prompt(Rule.REVIEW_OVERDUE,
                  f"Care plan review overdue by {_days(days)} (it was due on "
                  f"{_long_date(next_review_on)})",
                  "It is time to look at your care plan together again. You could ask {who} "
                  "to find a date for your review that suits you.")


def past_planned_end(planned_end_on: dt.date, today: dt.date) -> Prompt | None:
    if today <= planned_end_on:
        return None
    days = (today - planned_end_on).days
    return Prompt(Rule.PAST_PLANNED_END,
                  f"Care coordination is {_days(days)} past its planned end "
                  f"({_long_date(planned_end_on)})",
                  "Your care coordination has gone on longer than we first planned. You could "
                  "talk with {who} about how things are going and what would help next.")


def awaiting_signature(waiting: list[tuple[str, dt.date]], team: Team,
                       today: dt.date) -> Prompt | None:
    """`waiting`: (plan kind, date proposed) of each plan whose latest version is
    awaiting signatures."""
    over = sorted(((today - proposed_on).days, kind) for kind, proposed_on in waiting
                  if (today - proposed_on).days > team.stuck_awaiting_signature_days)
    if not over:
        return None
    days, kind = over[-1]
    words = _PLAN_WORDS.get(kind, "plan")
    reason = f"{words[0].upper()}{words[1:]} waiting for signatures for {_days(days)}"
    if len(over) > 1:
        others = len(over) - 1
        reason += f" (and {others} other plan{'' if others == 1 else 's'})"
    return Prompt(Rule.AWAITING_SIGNATURE, reason,
                  f"Your {words} has been waiting for signatures for a while. If anything in "
                  "it does not feel right, you could talk it through with {who}.")


def assessment_waiting(requested: list[dt.date], team: Team, today: dt.date) -> Prompt | None:
    """`requested`: request dates of the active carers' assessments not completed."""
    if not requested:
        return None
    days = (today - min(requested)).days
    if days <= team.stuck_assessment_days:
        return None
    return Prompt(Rule.ASSESSMENT_WAITING,
                  f"A carer asked for a carer's assessment {_days(days)} ago and it has not "
                  "been completed yet")


def wellbeing_falling(newest_first: list[tuple[int, bool]], team: Team) -> Prompt | None:
    """`newest_first`: (coping, shared through this relationship) of one carer's latest
    check-ins, newest first."""
    k = falling_check_ins(team)
    last = newest_first[:k]
    if len(last) < k or not all(shared for _, shared in last):
        return None
    scores = [coping for coping, _ in reversed(last)]  # oldest first
    if all(earlier > later for earlier, later in pairwise(scores)):
        return Prompt(Rule.CARER_WELLBEING_FALLING, CARER_STRUGGLING_REASON)
    return None


# --- Everyone at once --------------------------------------------------------------------


def _people(ids: Iterable[int]) -> QuerySet[ServiceUser]:
    """The service users in care coordination among `ids`, with their team and, one
    column each, the facts rules 2–5 need: one row a person, each fact a correlated
    subquery that an index answers (a team of 300 people takes a few milliseconds)."""
    # Each subquery without the models' default ordering: one row is all there is (one
    # open episode, one plan of a kind, one latest version), and sorting would join the
    # service user again for its name.
    open_episode = (Episode.objects.filter(service_user=OuterRef("pk"),
                                           discharged_on__isnull=True).order_by())

    # Each plan's latest version when it is neither agreed nor declined (so "awaiting",
    # as plans.services.version_status has it). A service user has one plan of each
    # kind (plans' one_plan_per_kind), so one column per kind says it all.
    newer = PlanVersion.objects.filter(plan=OuterRef("plan"), number__gt=OuterRef("number"))
    declined = Signature.objects.filter(version=OuterRef("pk"),
                                        decision=Signature.Decision.DECLINED)
    awaiting = (PlanVersion.objects.filter(plan__service_user=OuterRef("pk"),
                                           agreed_at__isnull=True)
                .exclude(Exists(newer)).exclude(Exists(declined)).order_by())

    # Requests asked through an active relationship with this person: what a carer
    # shares through one relationship counts only for that person.
    requested = (
        AssessmentRequest.shared_with.through.objects.filter(
            carerrelationship__in=CarerRelationship.objects.active()
            .filter(service_user=OuterRef(OuterRef("pk"))),
            assessmentrequest__completed_on__isnull=True,
        )
        .exclude(assessmentrequest__status=AssessmentRequest.Status.COMPLETED)
        .order_by().values("carerrelationship__service_user")
        .annotate(first=Min("assessmentrequest__requested_on")).values("first")
    )

    return (
        ServiceUser.objects.filter(pk__in=ids).filter(Exists(open_episode))
        .select_related("team").order_by()
        .annotate(
            planned_end_on=Subquery(open_episode.values("planned_end_on")[:1]),
            next_review_on=Subquery(
                Plan.objects.filter(service_user=OuterRef("pk"), kind=PlanKind.CARE_PLAN)
                .order_by().values("next_review_on")[:1]),
            assessment_requested_on=Subquery(requested),
            **{f"awaiting_{kind}": Subquery(awaiting.filter(plan__kind=kind)
                                            .values("proposed_at")[:1])
               for kind in PlanKind},
        )
    )


def _goals(ids: list[int]) -> dict[int, GoalFacts]:
    """Rule 1's facts, by service user: summed up in SQL, one row a person (a team has
    thousands of goals). Its own grouped query: as three correlated subqueries of the
    people query (count, progress, latest) it read each person's goals three times.
    The date a goal was set is its local date (TruncDate uses the current time zone, as
    localdate does). Goals live in their own sections (an item's type is its section's):
    naming them lets the (plan, section) index skip a care plan's other items."""
    latest_progress = (ProgressUpdate.objects.filter(item=OuterRef("pk")).order_by()
                       .values("item").annotate(latest=Max("recorded_on")).values("latest"))
    return {
        service_user_id: GoalFacts(goals=count, with_progress=bool(with_progress), last=last)
        for service_user_id, count, with_progress, last in (
            PlanItem.objects.filter(plan__service_user_id__in=ids,
                                    plan__kind=PlanKind.CARE_PLAN, section__in=GOAL_SECTIONS,
                                    item_type=ItemType.GOAL, removed_at__isnull=True)
            .annotate(latest=Subquery(latest_progress))
            .values("plan__service_user_id").order_by()
            .annotate(count=Count("pk"), with_progress=Count("latest"),
                      last=Max(Coalesce("latest", TruncDate("created_at"))))
            .values_list("plan__service_user_id", "count", "with_progress", "last")
        )
    }


def _check_ins(ids: list[int], most: int) -> dict[int, list[list[tuple[int, bool]]]]:
    """By service user: for each of their active carers (by relationship), the carer's
    latest `most` check-ins, newest first, as (coping, shared through this
    relationship). One query: a row per relationship and check-in."""
    shared = WellbeingCheckIn.shared_with.through.objects.filter(
        wellbeingcheckin=OuterRef("check_in"), carerrelationship=OuterRef("pk"))
    rows = (
        CarerRelationship.objects.active().filter(service_user_id__in=ids)
        .annotate(
            check_in=F("carer__check_ins__pk"),
            coping=F("carer__check_ins__coping"),
            position=Window(RowNumber(), partition_by=[F("pk")],
                            order_by=[F("carer__check_ins__created_at").desc(),
                                      F("carer__check_ins__pk").desc()]),
            shared=Exists(shared),
        )
        .filter(position__lte=most)
        .order_by("service_user_id", "pk", "position")
        .values_list("service_user_id", "pk", "coping", "shared")
    )
    by_relationship: dict[int, list[tuple[int, bool]]] = {}
    result: dict[int, list[list[tuple[int, bool]]]] = defaultdict(list)
    for service_user_id, relationship_id, coping, is_shared in rows:
        if relationship_id not in by_relationship:
            by_relationship[relationship_id] = []
            result[service_user_id].append(by_relationship[relationship_id])
        if coping is not None:  # a carer with no check-ins yet
            by_relationship[relationship_id].append((coping, is_shared))
    return result


def prompts_for(service_users: Iterable[ServiceUser],
                today: dt.date | None = None) -> dict[int, list[Prompt]]:
    """Each service user's prompts (in rule order), by service user id. Service users not
    in care coordination get none. Three queries for any number of people: the people
    with their facts, their goals, and their carers' latest check-ins."""
    today = today or timezone.localdate()
    result: dict[int, list[Prompt]] = {service_user.pk: [] for service_user in service_users}
    if not result:
        return result
    people = list(_people(list(result)))
    if not people:
        return result
    # As many check-ins as the largest K involved.
    most = max(falling_check_ins(person.team) for person in people)
    ids = [person.pk for person in people]
    goals = _goals(ids)
    check_ins = _check_ins(ids, most)

    for person in people:
        team = person.team
        waiting = [(kind, timezone.localdate(proposed_at)) for kind in PlanKind
                   if (proposed_at := getattr(person, f"awaiting_{kind}")) is not None]
        requested = [person.assessment_requested_on] if person.assessment_requested_on else []
        found = [
            no_progress(goals.get(person.pk), team, today),
            review_overdue(person.next_review_on, today),
            past_planned_end(person.planned_end_on, today),
            awaiting_signature(waiting, team, today),
            assessment_waiting(requested, team, today),
            next((prompt for newest_first in check_ins[person.pk]
                  if (prompt := wellbeing_falling(newest_first, team))), None),
        ]
        result[person.pk] = [prompt for prompt in found if prompt is not None]
    return result


def coordinators_at_threshold(counts: dict[int, int], team: Team) -> set[int]:
    """Rule 7: the coordinators (ids) with at least `stuck_caseload_prompts` service
    users who have prompts."""
    return {pk for pk, count in counts.items() if count >= team.stuck_caseload_prompts}
