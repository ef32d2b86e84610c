""""Getting stuck" prompts: each rule fires exactly when its condition holds (boundary
dates included), each page lists the reason in its own way (the coordinator's caseload,
the service user's own invitation to talk, the manager's counts), carers' privacy, team
thresholds and their settings page, the query count, and the demo data."""

from __future__ import annotations

import datetime as dt
import html
import io

import pytest
from django.core.management import call_command
from django.db import connection, transaction
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.utils import dateformat, timezone

from carecoord.audit.request_context import current_request_reads
from carecoord.records.models import Episode, Role, ServiceUser, Team, User
from carecoord.reporting import selectors, stuck
from carecoord.reporting.stuck import Rule
from carers.models import AssessmentRequest, Carer, CarerRelationship, WellbeingCheckIn
from plans import services as plan_services
from plans.models import Plan, PlanItem, PlanVersion, ProgressUpdate
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import (
    AllocationFactory,
    CarerFactory,
    CarerRelationshipFactory,
    EpisodeFactory,
    ServiceUserFactory,
    UserFactory,
)
from tests.plans.factories import add_goal, make_plan, plan_with_content, propose

# The team defaults.
N_PROGRESS, N_SIGNATURE, N_ASSESSMENT, K_CHECK_INS, M_CASELOAD = 90, 30, 28, 3, 3

GOALS_INVITATION = ("It has been a while since we looked at your goals together. You could "
                    "talk about them with Sam Coordinator at your next meeting.")


def text(response) -> str:
    return html.unescape(response.content.decode())


def today() -> dt.date:
    return clock.today()


def noon(days_ago: int) -> dt.datetime:
    """Midday, local time, `days_ago` days ago: clear of midnight and clock changes."""
    return timezone.make_aware(dt.datetime.combine(today() - dt.timedelta(days=days_ago),
                                                   dt.time(12)))


def rules(service_user: ServiceUser) -> list[Rule]:
    return [p.rule for p in stuck.prompts_for([service_user])[service_user.pk]]


def prompt(service_user: ServiceUser, rule: Rule) -> stuck.Prompt | None:
    return next((p for p in stuck.prompts_for([service_user])[service_user.pk]
                 if p.rule == rule), None)


def goal_set(world, days_ago: int, *, plan: Plan | None = None) -> PlanItem:
    plan = plan or make_plan(world)
    goal = add_goal(plan, world.coordinator)
    PlanItem.objects.filter(pk=goal.pk).update(created_at=noon(days_ago))
    return goal


def progress(goal: PlanItem, days_ago: int) -> ProgressUpdate:
    return ProgressUpdate.objects.create(item=goal, recorded_on=today() - dt.timedelta(
        days=days_ago), rating=5, note="Went twice this week.")


def backdate(version: PlanVersion, days_ago: int) -> None:
    # A version's queryset refuses changes but agreed_at; tests move time in SQL.
    with connection.cursor() as cursor:
        cursor.execute("UPDATE plans_planversion SET proposed_at = %s WHERE id = %s",
                       [noon(days_ago), version.pk])


def check_ins(carer: Carer, scores: list[int], *, shared: bool | list[bool] = True,
              words: str = "") -> None:
    """Check-ins oldest first, a week apart, ending yesterday."""
    flags = shared if isinstance(shared, list) else [shared] * len(scores)
    for index, (score, flag) in enumerate(zip(scores, flags, strict=True)):
        check_in = WellbeingCheckIn.objects.create(
            carer=carer, coping=score,
            words=words or f"Check-in number {index}", created_at=noon(1 + 7 * (len(scores)
                                                                              - 1 - index)),
        )
        if flag:  # shared through each relationship the carer has
            check_in.shared_with.set(CarerRelationship.objects.active().filter(carer=carer))


def asked(*, carer: Carer, **fields) -> AssessmentRequest:
    """A carer's assessment request, asked through each relationship the carer has."""
    request = AssessmentRequest.objects.create(carer=carer, **fields)
    request.shared_with.set(CarerRelationship.objects.active().filter(carer=carer))
    return request


def set_episode_end(world, planned_end_on: dt.date) -> None:
    Episode.objects.filter(service_user=world.service_user).update(planned_end_on=planned_end_on)


def home(world) -> str:
    return text(client_for(world.coordinator).get("/"))


def own_record(world) -> str:
    return text(client_for(world.service_user_account).get(
        f"/service-users/{world.service_user.pk}/"))


def team_page(world) -> str:
    return text(client_for(world.manager).get(f"/teams/{world.team.pk}/"))


# --- 1. No goal progress ----------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [
    (N_PROGRESS - 1, False), (N_PROGRESS, False), (N_PROGRESS + 1, True),
])
def test_no_progress_fires_only_after_more_than_n_days_since_the_latest_progress(
        world, days_ago, fires):
    goal = goal_set(world, 400)
    progress(goal, 300)
    progress(goal, days_ago)
    found = prompt(world.service_user, Rule.NO_PROGRESS)
    assert (found is not None) is fires
    if fires:
        assert found.reason == f"No goal progress recorded for {N_PROGRESS + 1} days"


@pytest.mark.parametrize(("days_ago", "fires"), [
    (N_PROGRESS - 1, False), (N_PROGRESS, False), (N_PROGRESS + 1, True),
])
def test_a_goal_without_progress_counts_from_the_day_it_was_set(world, days_ago, fires):
    goal_set(world, days_ago)
    found = prompt(world.service_user, Rule.NO_PROGRESS)
    assert (found is not None) is fires
    if fires:
        assert found.reason == (f"No goal progress recorded since the goal was set, "
                                f"{N_PROGRESS + 1} days ago")


def test_no_progress_needs_a_live_goal_and_any_recent_goal_keeps_it_away(world):
    plan = make_plan(world)
    assert Rule.NO_PROGRESS not in rules(world.service_user)  # no goals at all
    old = goal_set(world, 200, plan=plan)
    progress(old, 150)
    assert Rule.NO_PROGRESS in rules(world.service_user)
    recent = goal_set(world, 5, plan=plan)  # a new goal, no progress yet
    assert Rule.NO_PROGRESS not in rules(world.service_user)
    PlanItem.objects.filter(pk=recent.pk).update(removed_at=timezone.now())
    assert Rule.NO_PROGRESS in rules(world.service_user)
    PlanItem.objects.filter(pk=old.pk).update(removed_at=timezone.now())
    assert Rule.NO_PROGRESS not in rules(world.service_user)  # no live goal


def test_no_progress_is_listed_for_the_coordinator_and_offered_to_the_service_user(world):
    progress(goal_set(world, 200), 97)
    page = home(world)
    assert "Who may be getting stuck" in page
    assert "No goal progress" in page  # the tag
    assert "No goal progress recorded for 97 days." in page  # and the reason in words
    assert world.service_user.name in page
    own = own_record(world)
    assert GOALS_INVITATION in own
    assert "No goal progress" not in own  # an invitation, not a label
    assert "stuck" not in own.lower()


# --- 2. Review overdue ------------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [(-1, False), (0, False), (1, True), (2, True)])
def test_review_overdue_fires_once_the_review_date_has_passed(world, days_ago, fires):
    plan = make_plan(world)
    due = today() - dt.timedelta(days=days_ago)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=due)
    found = prompt(world.service_user, Rule.REVIEW_OVERDUE)
    assert (found is not None) is fires
    if fires:
        day_word = "day" if days_ago == 1 else "days"
        assert found.reason.startswith(f"Care plan review overdue by {days_ago} {day_word}")
        assert "Care plan review overdue by" in home(world)
        assert "It is time to look at your care plan together again." in own_record(world)


def test_review_overdue_only_counts_the_care_plan(world):
    plan_with_content(world, PlanKind.WRAP)
    Plan.objects.filter(service_user=world.service_user).update(
        next_review_on=today() - dt.timedelta(days=10))
    assert Rule.REVIEW_OVERDUE not in rules(world.service_user)


# --- 3. Episode past its planned end ------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [(-1, False), (0, False), (1, True)])
def test_past_planned_end_fires_the_day_after_the_planned_end(world, days_ago, fires):
    set_episode_end(world, today() - dt.timedelta(days=days_ago))
    found = prompt(world.service_user, Rule.PAST_PLANNED_END)
    assert (found is not None) is fires
    if fires:
        assert found.reason.startswith("Care coordination is 1 day past its planned end")
        assert "Care coordination is 1 day past its planned end" in home(world)
        assert "gone on longer than we first planned" in own_record(world)


def test_nobody_out_of_care_coordination_gets_prompts(world):
    set_episode_end(world, today() - dt.timedelta(days=10))
    progress(goal_set(world, 300), 200)
    assert rules(world.service_user) == [Rule.NO_PROGRESS, Rule.PAST_PLANNED_END]
    Episode.objects.filter(service_user=world.service_user).update(
        discharged_on=today(), discharge_plan="GP follow-up.")
    assert rules(world.service_user) == []


# --- 4. Plan awaiting signature ----------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [
    (N_SIGNATURE - 1, False), (N_SIGNATURE, False), (N_SIGNATURE + 1, True),
])
def test_awaiting_signature_fires_after_more_than_n_days(world, days_ago, fires):
    version = propose(plan_with_content(world, PlanKind.RESPONSIBILITY_AGREEMENT),
                      world.coordinator)
    backdate(version, days_ago)
    found = prompt(world.service_user, Rule.AWAITING_SIGNATURE)
    assert (found is not None) is fires
    if fires:
        reason = f"Responsibility agreement waiting for signatures for {N_SIGNATURE + 1} days"
        assert found.reason == reason
        assert reason in home(world)
        assert ("Your responsibility agreement has been waiting for signatures for a while."
                in own_record(world))


def test_awaiting_signature_ignores_agreed_declined_and_replaced_versions(world):
    plan = plan_with_content(world, PlanKind.CARE_PLAN)
    version = propose(plan, world.coordinator)
    backdate(version, 60)
    assert Rule.AWAITING_SIGNATURE in rules(world.service_user)

    # Agreed, for a moment: an agreement once made stays (on PostgreSQL the database
    # refuses to undo it, plans 0005), so the moment is a savepoint rolled back.
    moment = transaction.savepoint()
    PlanVersion.objects.filter(pk=version.pk).update(agreed_at=timezone.now())
    assert Rule.AWAITING_SIGNATURE not in rules(world.service_user)
    transaction.savepoint_rollback(moment)

    plan_services.version_decline(version=version, signer=world.service_user_account,
                                  role="service_user", reason="Not in my words yet.")
    assert Rule.AWAITING_SIGNATURE not in rules(world.service_user)

    # A newer version, proposed today, replaces the old one: only the latest counts.
    other = plan_with_content(world, PlanKind.WRAP)
    old = propose(other, world.service_user_account)
    backdate(old, 60)
    assert Rule.AWAITING_SIGNATURE in rules(world.service_user)
    plan_services.item_create(plan=other, section_code="wellness_toolbox",
                              author=world.service_user_account, title="Music", body="Loud.")
    propose(other, world.service_user_account)
    assert Rule.AWAITING_SIGNATURE not in rules(world.service_user)


# --- 5. Carer's assessment ---------------------------------------------------------------


@pytest.mark.parametrize(("days_ago", "fires"), [
    (N_ASSESSMENT - 1, False), (N_ASSESSMENT, False), (N_ASSESSMENT + 1, True),
])
def test_assessment_waiting_fires_after_more_than_n_days(world, days_ago, fires):
    asked(carer=world.carer_relationship.carer,
                                     requested_on=today() - dt.timedelta(days=days_ago))
    found = prompt(world.service_user, Rule.ASSESSMENT_WAITING)
    assert (found is not None) is fires
    if fires:
        reason = (f"A carer asked for a carer's assessment {N_ASSESSMENT + 1} days ago and it "
                  "has not been completed yet")
        assert found.reason == reason
        assert reason in home(world)
        assert "assessment" not in own_record(world)  # the carer's business, not theirs


def test_assessment_waiting_stops_when_completed_or_no_longer_a_carer(world):
    request = asked(
        carer=world.carer_relationship.carer, requested_on=today() - dt.timedelta(days=60),
        status=AssessmentRequest.Status.OFFERED, offered_on=today() - dt.timedelta(days=10))
    assert Rule.ASSESSMENT_WAITING in rules(world.service_user)  # offered is not done
    AssessmentRequest.objects.filter(pk=request.pk).update(
        status=AssessmentRequest.Status.COMPLETED, completed_on=today())
    assert Rule.ASSESSMENT_WAITING not in rules(world.service_user)
    AssessmentRequest.objects.filter(pk=request.pk).update(
        status=AssessmentRequest.Status.REQUESTED, completed_on=None)
    assert Rule.ASSESSMENT_WAITING in rules(world.service_user)
    CarerRelationship.objects.filter(pk=world.carer_relationship.pk).update(ended_on=today())
    assert Rule.ASSESSMENT_WAITING not in rules(world.service_user)


# --- 6. A carer's wellbeing falling ------------------------------------------------------


@pytest.mark.parametrize(("scores", "fires"), [
    ([7, 5, 3], True),
    ([7, 5, 5], False),  # strictly falling: a level score is not a fall
    ([3, 5, 7], False),
    ([7, 5], False),  # fewer than K check-ins
    ([2, 9, 6, 4], True),  # only the last K count
    ([9, 6, 4, 5], False),  # the latest went up
])
def test_wellbeing_falling_needs_the_last_k_check_ins_strictly_falling(world, scores, fires):
    check_ins(world.carer_relationship.carer, scores)
    found = prompt(world.service_user, Rule.CARER_WELLBEING_FALLING)
    assert (found is not None) is fires
    if fires:
        assert found.reason == "A carer's own check-ins show they may be struggling"


def test_wellbeing_falling_is_shown_to_the_coordinator_without_the_check_ins(world):
    check_ins(world.carer_relationship.carer, [8, 5, 2], words="I cannot sleep for worry")
    page = home(world)
    assert "A carer's own check-ins show they may be struggling." in page
    assert "I cannot sleep for worry" not in page
    assert "Linda Carer" not in page
    own = own_record(world)
    assert "struggling" not in own  # never to the service user
    assert "check-in" not in own


@pytest.mark.parametrize("unshared", [0, 1, 2])
def test_wellbeing_falling_never_fires_unless_the_carer_shared_every_one(world, unshared):
    shared = [True, True, True]
    shared[unshared] = False
    check_ins(world.carer_relationship.carer, [8, 5, 2], shared=shared,
              words="I cannot sleep for worry")
    assert Rule.CARER_WELLBEING_FALLING not in rules(world.service_user)
    page = home(world)
    assert "struggling" not in page
    assert "check-in" not in page
    assert "I cannot sleep for worry" not in page
    # ...nor is it counted for the manager.
    summary = selectors.team_stuck_summary(viewer=world.manager, team=world.team)
    assert [r.count for r in summary.rules] == [0, 0, 0, 0, 0, 0]


# --- Thresholds are the team's ------------------------------------------------------------


def test_team_thresholds_change_results(world):
    goal = goal_set(world, 300)
    progress(goal, 40)
    asked(carer=world.carer_relationship.carer,
                                     requested_on=today() - dt.timedelta(days=15))
    backdate(propose(plan_with_content(world, PlanKind.WRAP), world.service_user_account), 20)
    check_ins(world.carer_relationship.carer, [9, 7, 5, 3])
    assert rules(world.service_user) == [Rule.CARER_WELLBEING_FALLING]

    Team.objects.filter(pk=world.team.pk).update(
        stuck_no_progress_days=39, stuck_assessment_days=14, stuck_awaiting_signature_days=19,
        stuck_falling_check_ins=5)
    world.service_user.refresh_from_db()
    assert rules(world.service_user) == [Rule.NO_PROGRESS, Rule.AWAITING_SIGNATURE,
                                         Rule.ASSESSMENT_WAITING]
    Team.objects.filter(pk=world.team.pk).update(
        stuck_no_progress_days=40, stuck_assessment_days=15, stuck_awaiting_signature_days=20,
        stuck_falling_check_ins=4)
    assert rules(world.service_user) == [Rule.CARER_WELLBEING_FALLING]


def test_the_threshold_of_another_team_does_not_apply(world):
    progress(goal_set(world, 300), 40)
    Team.objects.filter(pk=world.other_team.pk).update(stuck_no_progress_days=10)
    assert Rule.NO_PROGRESS not in rules(world.service_user)


# --- 7. The manager's team page: counts only -----------------------------------------------


def give_prompt(team: Team, coordinator: User) -> ServiceUser:
    """A service user allocated to `coordinator` whose care is past its planned end."""
    service_user = ServiceUserFactory(team=team)
    started = today() - dt.timedelta(weeks=30)
    AllocationFactory(episode=EpisodeFactory(service_user=service_user, started_on=started,
                                             planned_end_on=started + dt.timedelta(weeks=26)),
                      coordinator=coordinator)
    return service_user


def test_manager_sees_counts_per_rule_without_clinical_text(world):
    progress(goal_set(world, 300), 97)
    check_ins(world.carer_relationship.carer, [8, 5, 2], words="I cannot sleep for worry")
    give_prompt(world.team, world.other_coordinator)
    page = team_page(world)
    summary = selectors.team_stuck_summary(viewer=world.manager, team=world.team)
    counts = {r.label: r.count for r in summary.rules}
    assert counts == {
        "No goal progress for more than 90 days": 1,
        "Care plan review overdue": 0,
        "Care coordination past its planned end": 1,
        "A plan waiting for signatures for more than 30 days": 0,
        "A carer's assessment not completed after 28 days": 0,
        "A carer's wellbeing falling over 3 check-ins they shared": 1,
    }
    assert "Who may be getting stuck" in page
    for label in counts:
        assert label in page
    assert "2 service users in care coordination have at least one prompt." in page
    # No reasons, goals, check-ins or anything from a record.
    for clinical in ("No goal progress recorded", "Get back to swimming", "struggling",
                     "I cannot sleep for worry", "Twice a week", "Went twice this week"):
        assert clinical not in page


def test_manager_sees_which_coordinators_have_m_or_more_people_with_prompts(world):
    for _ in range(M_CASELOAD - 1):
        give_prompt(world.team, world.coordinator)
    summary = selectors.team_stuck_summary(viewer=world.manager, team=world.team)
    entry = next(c for c in summary.coordinators if c.coordinator == world.coordinator)
    assert (entry.count, entry.at_threshold) == (M_CASELOAD - 1, False)
    assert "Several people with prompts" not in team_page(world)

    give_prompt(world.team, world.coordinator)
    summary = selectors.team_stuck_summary(viewer=world.manager, team=world.team)
    entry = next(c for c in summary.coordinators if c.coordinator == world.coordinator)
    other = next(c for c in summary.coordinators if c.coordinator == world.other_coordinator)
    assert (entry.count, entry.at_threshold) == (M_CASELOAD, True)
    assert (other.count, other.at_threshold) == (0, False)
    page = team_page(world)
    assert "Several people with prompts" in page
    assert (f"{M_CASELOAD} of their service users have prompts (the team's level is "
            f"{M_CASELOAD})") in page

    team = Team.objects.get(pk=world.team.pk)
    team.stuck_caseload_prompts = M_CASELOAD + 1
    team.save()  # as the team's settings are saved (the kept counts then go, ADR 0029)
    assert "Several people with prompts" not in team_page(world)


def test_team_counts_are_for_the_team_managers_only(world):
    assert client_for(world.other_manager).get(f"/teams/{world.team.pk}/").status_code == 404
    with pytest.raises(Http404):
        selectors.team_stuck_summary(viewer=world.other_manager, team=world.team)


# --- Who sees what where -------------------------------------------------------------------


def test_invitations_appear_on_the_service_users_own_record_only(world):
    progress(goal_set(world, 300), 100)
    coordinator_view = text(client_for(world.coordinator).get(
        f"/service-users/{world.service_user.pk}/"))
    assert "Things you might like to talk about" not in coordinator_view
    assert "It has been a while since we looked at your goals" not in coordinator_view
    assert "Things you might like to talk about" in own_record(world)
    # Nothing on someone else's caseload.
    other = text(client_for(world.other_coordinator).get("/"))
    assert world.service_user.name not in other
    assert "No goal progress recorded" not in other


def test_caseload_says_so_when_nobody_has_a_prompt(world):
    assert "Nobody on your caseload has a “getting stuck” prompt at the moment." in home(world)
    assert "Things you might like to talk about" not in own_record(world)


def test_invitation_names_every_allocated_coordinator_or_none(world):
    progress(goal_set(world, 300), 100)
    episode = Episode.objects.get(service_user=world.service_user)
    AllocationFactory(episode=episode, coordinator=world.other_coordinator)
    other_name = world.other_coordinator.full_name
    assert (f"talk about them with Sam Coordinator or {other_name} at your next meeting"
            in own_record(world))
    episode.allocations.update(ended_on=today())
    assert "talk about them with your care coordinator at your next meeting" in own_record(world)


# --- Team settings ----------------------------------------------------------------------


def settings_url(team: Team) -> str:
    return f"/teams/{team.pk}/settings/"


def test_only_the_teams_managers_can_open_team_settings(world):
    assert client_for(world.manager).get(settings_url(world.team)).status_code == 200
    for outsider in (world.other_manager, world.coordinator, world.service_user_account,
                     world.carer_account, world.admin, world.no_role):
        client = client_for(outsider)
        assert client.get(settings_url(world.team)).status_code == 404
        response = client.post(settings_url(world.team), {
            "stuck_no_progress_days": 1, "stuck_awaiting_signature_days": 1,
            "stuck_assessment_days": 1, "stuck_falling_check_ins": 2,
            "stuck_caseload_prompts": 1})
        assert response.status_code == 404
    world.team.refresh_from_db()
    assert world.team.stuck_no_progress_days == N_PROGRESS
    assert client_for(world.manager).get(settings_url(world.other_team)).status_code == 404


def test_team_settings_change_the_thresholds_and_the_prompts(world):
    progress(goal_set(world, 300), 45)
    assert "No goal progress recorded" not in home(world)
    client = client_for(world.manager)
    page = text(client.get(settings_url(world.team)))
    assert "No goal progress for more than this many days" in page
    assert 'value="90"' in page
    response = client.post(settings_url(world.team), {
        "stuck_no_progress_days": "30", "stuck_awaiting_signature_days": "14",
        "stuck_assessment_days": "21", "stuck_falling_check_ins": "4",
        "stuck_caseload_prompts": "5", "reminder_due_soon_days": "10",
        "reminder_overdue_days": "3"})
    assert response.status_code == 302
    assert response["Location"] == f"/teams/{world.team.pk}/"
    world.team.refresh_from_db()
    assert (world.team.stuck_no_progress_days, world.team.stuck_awaiting_signature_days,
            world.team.stuck_assessment_days, world.team.stuck_falling_check_ins,
            world.team.stuck_caseload_prompts) == (30, 14, 21, 4, 5)
    assert (world.team.reminder_due_soon_days, world.team.reminder_overdue_days) == (10, 3)
    assert "No goal progress recorded for 45 days." in home(world)
    assert "No goal progress for more than 30 days" in team_page(world)


def test_team_settings_reject_nonsense_in_plain_words(world):
    client = client_for(world.manager)
    response = client.post(settings_url(world.team), {
        "stuck_no_progress_days": "ninety", "stuck_awaiting_signature_days": "0",
        "stuck_assessment_days": "", "stuck_falling_check_ins": "1",
        "stuck_caseload_prompts": "3"})
    assert response.status_code == 200
    page = text(response)
    assert "Enter a whole number of days, like 90" in page
    assert "Enter a number of at least 1" in page
    assert "Enter a number of days" in page
    assert "Enter a number of at least 2" in page
    assert "nhsuk-error-message" in page
    world.team.refresh_from_db()
    assert world.team.stuck_no_progress_days == N_PROGRESS


# --- Queries -----------------------------------------------------------------------------


def stuck_service_user(team: Team, coordinator: User) -> ServiceUser:
    """Someone with something for every rule to look at: goals with progress, versions
    awaiting signatures, a carer with a request and falling shared check-ins."""
    service_user = give_prompt(team, coordinator)
    plan = plan_services.plan_create(service_user=service_user, kind=PlanKind.CARE_PLAN,
                                     created_by=coordinator)
    for days in (100, 20):
        goal = add_goal(plan, coordinator)
        ProgressUpdate.objects.create(item=goal, recorded_on=today() - dt.timedelta(days=days),
                                      rating=4)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=today() - dt.timedelta(days=3))
    backdate(plan_services.version_propose(plan=plan, proposed_by=coordinator), 45)
    carer = CarerFactory()
    CarerRelationshipFactory(carer=carer, service_user=service_user)
    asked(carer=carer, requested_on=today() - dt.timedelta(days=50))
    check_ins(carer, [8, 6, 4, 2])
    return service_user


def count_queries(fn) -> int:
    with CaptureQueriesContext(connection) as captured:
        fn()
    return len(captured)


def test_prompts_for_a_caseload_or_team_take_the_same_queries_for_2_or_10_people(db):
    team = Team.objects.create(name="Counting team")
    manager = UserFactory(roles=[Role.MANAGER])
    team.managers.add(manager)
    coordinator = UserFactory(roles=[Role.COORDINATOR], full_name="Counting Coordinator")
    team.coordinators.add(coordinator)
    for _ in range(2):
        stuck_service_user(team, coordinator)
    # Fresh objects each time: no cached roles.
    def caseload():
        return selectors.caseload_stuck_prompts(viewer=User.objects.get(pk=coordinator.pk))

    def summary():
        return selectors.team_stuck_summary(viewer=User.objects.get(pk=manager.pk), team=team)

    rows = caseload()
    assert len(rows) == 2
    assert [p.rule for p in rows[0].prompts] == [
        Rule.REVIEW_OVERDUE, Rule.PAST_PLANNED_END, Rule.AWAITING_SIGNATURE,
        Rule.ASSESSMENT_WAITING, Rule.CARER_WELLBEING_FALLING,
    ]
    few_caseload, few_team = count_queries(caseload), count_queries(summary)
    few_home = count_queries(lambda: client_for(coordinator).get("/"))

    for _ in range(8):
        stuck_service_user(team, coordinator)
    assert len(caseload()) == 10
    assert count_queries(caseload) == few_caseload
    assert count_queries(summary) == few_team
    assert summary().coordinators[0].count == 10
    assert few_caseload <= 6  # 3 of them prompts_for (it took 8 before issue 15)
    client = client_for(coordinator)
    client.get("/")
    assert count_queries(lambda: client.get("/")) <= few_home


# --- Demo ------------------------------------------------------------------------------


def test_the_demo_has_someone_for_every_prompt_and_stays_that_way(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    people = {s.full_name: s for s in ServiceUser.objects.all()}
    found = stuck.prompts_for(people.values())
    by_name = {name: [p.rule for p in found[s.pk]] for name, s in people.items()}
    assert Rule.NO_PROGRESS in by_name["Mei Chen"]
    assert Rule.REVIEW_OVERDUE in by_name["Daniel Reid"]
    assert Rule.PAST_PLANNED_END in by_name["Daniel Reid"]
    assert Rule.CARER_WELLBEING_FALLING in by_name["Daniel Reid"]
    assert Rule.AWAITING_SIGNATURE in by_name["Fatima Hussain"]
    assert Rule.ASSESSMENT_WAITING in by_name["Alexandra Morgan"]
    assert by_name["Ruth Adeyemi"] == []
    # Idempotent: the second run added nothing.
    assert WellbeingCheckIn.objects.filter(carer__full_name="Christine Reid").count() >= 3
    assert AssessmentRequest.objects.filter(
        carer__full_name="Linda Morgan", completed_on__isnull=True).count() == 1

    manager = User.objects.get(email="manager@demo.carecoord.test")
    team = people["Daniel Reid"].team
    summary = selectors.team_stuck_summary(viewer=manager, team=team)
    sam = next(c for c in summary.coordinators if c.coordinator.full_name == "Sam Okafor")
    assert sam.at_threshold
    assert all(rule.count >= 1 for rule in summary.rules)
    sam_home = text(client_for(sam.coordinator).get("/"))
    assert "A carer's own check-ins show they may be struggling." in sam_home
    mei = people["Mei Chen"]
    assert ("No goal progress recorded for 100 days."
            in text(client_for(User.objects.get(email="jo.bell@demo.carecoord.test")).get("/")))
    assert "It has been a while since we looked at your goals together." in text(
        client_for(mei.user).get(f"/service-users/{mei.pk}/"))


def test_a_reasons_date_reads_as_the_date_filter_writes_it():
    day = dt.date(2024, 1, 1)
    while day < dt.date(2026, 1, 1):
        assert stuck._long_date(day) == dateformat.format(day, "j F Y")
        day += dt.timedelta(days=1)
    assert stuck._long_date(dt.date(2031, 2, 3)) == "3 February 2031"


# --- One carer, two people: what is shared through one relationship stays there ----------


def test_a_carer_of_two_people_counts_only_where_they_shared(world):
    """The people query reads check-ins and requests per relationship: a carer who cares
    for two people and shares with one person's coordinator only prompts for that one."""
    carer = world.carer_relationship.carer
    second = ServiceUserFactory(team=world.team)
    EpisodeFactory(service_user=second)
    other_relationship = CarerRelationshipFactory(carer=carer, service_user=second)
    through_first = CarerRelationship.objects.filter(pk=world.carer_relationship.pk)
    for index, score in enumerate([8, 5, 2]):
        check_in = WellbeingCheckIn.objects.create(carer=carer, coping=score,
                                                   created_at=noon(1 + 7 * (2 - index)))
        check_in.shared_with.set(through_first)
    request = AssessmentRequest.objects.create(carer=carer,
                                               requested_on=today() - dt.timedelta(days=60))
    request.shared_with.set(through_first)

    found = stuck.prompts_for([world.service_user, second])
    assert [p.rule for p in found[world.service_user.pk]] == [
        Rule.ASSESSMENT_WAITING, Rule.CARER_WELLBEING_FALLING]
    assert found[second.pk] == []

    # Shared through the second relationship too, but the first has ended: only the
    # second person's coordinator is told now.
    for check_in in WellbeingCheckIn.objects.filter(carer=carer):
        check_in.shared_with.add(other_relationship)
    request.shared_with.add(other_relationship)
    CarerRelationship.objects.filter(pk=world.carer_relationship.pk).update(ended_on=today())
    found = stuck.prompts_for([world.service_user, second])
    assert found[world.service_user.pk] == []
    assert [p.rule for p in found[second.pk]] == [
        Rule.ASSESSMENT_WAITING, Rule.CARER_WELLBEING_FALLING]


def test_prompts_for_takes_three_queries_for_3_people_as_for_12(db):
    """The people with their facts (one row each), their goals, their carers' latest
    check-ins: three queries whatever the number of people (issue 15)."""
    team = Team.objects.create(name="Counting team")
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    people = [stuck_service_user(team, coordinator) for _ in range(3)]
    # Fresh objects: nothing cached on them.
    def prompts():
        return stuck.prompts_for(list(ServiceUser.objects.filter(pk__in=[p.pk for p in people])))

    few = prompts()
    with CaptureQueriesContext(connection) as captured:
        stuck.prompts_for(people)
    assert len(captured) == 3
    people += [stuck_service_user(team, coordinator) for _ in range(9)]
    many = prompts()
    with CaptureQueriesContext(connection) as captured:
        stuck.prompts_for(people)
    assert len(captured) == 3
    assert len(many) == 12
    assert all(many[pk] == prompts_ for pk, prompts_ in few.items())
    assert all([p.rule for p in found] == [
        Rule.REVIEW_OVERDUE, Rule.PAST_PLANNED_END, Rule.AWAITING_SIGNATURE,
        Rule.ASSESSMENT_WAITING, Rule.CARER_WELLBEING_FALLING] for found in many.values())
    # Nobody in care coordination: one query finds that out.
    Episode.objects.filter(service_user__in=people).update(discharged_on=today(),
                                                           discharge_plan="GP follow-up.")
    with CaptureQueriesContext(connection) as captured:
        assert stuck.prompts_for(people) == {p.pk: [] for p in people}
    assert len(captured) == 1


def test_the_team_page_works_prompts_out_once_a_request(db):
    """The header's things to do and the team's counts ask for the same people: the
    second asks no query of prompts_for within one request, and the counts agree."""
    team = Team.objects.create(name="Counting team")
    manager = UserFactory(roles=[Role.MANAGER])
    team.managers.add(manager)
    coordinator = UserFactory(roles=[Role.COORDINATOR])
    team.coordinators.add(coordinator)
    for _ in range(3):
        stuck_service_user(team, coordinator)

    def summary():
        return selectors.team_stuck_summary(viewer=User.objects.get(pk=manager.pk), team=team)

    alone = count_queries(summary)
    reads = current_request_reads.set({})
    try:
        assert selectors.teams_stuck_counts(viewer=manager) == [(team, 3)]
        assert count_queries(summary) == alone - 3
        assert summary().people_with_prompts == 3
    finally:
        current_request_reads.reset(reads)
    assert count_queries(summary) == alone  # outside a request, nothing is kept
