"""Things to do (carecoord/todo/selectors.py): for each rule, the entry appears when it
should, links to the page where it is done, goes away when it is done, and never shows
anyone something they may not see; the home page, the header's count and the API show
the same list; the number of queries stays flat however big the caseload."""

from __future__ import annotations

import html
import io
import json

import pytest
from django.core.management import call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.records.models import Allocation, Episode, Role, User
from carecoord.todo.selectors import Entry, things_to_do
from consent import services as consent_services
from plans import services
from plans.models import GoalAgreement, Plan
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import (
    AllocationFactory,
    EpisodeFactory,
    ServiceUserFactory,
    UserFactory,
)
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
    sign,
    write,
)

pytestmark = pytest.mark.django_db

REASON = "The crisis plan does not say that my sister is the one to call."


def entries(user, kind: str | None = None) -> list[Entry]:
    found = things_to_do(viewer=user)
    return [e for e in found if kind is None or e.kind == kind]


def only(user, kind: str) -> Entry:
    found = entries(user, kind)
    assert len(found) == 1, found
    return found[0]


def all_words(found: list[Entry]) -> str:
    return " ".join(f"{e.text} {e.detail} {e.url}" for e in found)


def home_text(user) -> str:
    return html.unescape(client_for(user).get("/").content.decode())


def outsiders(world):
    return [world.other_coordinator, world.other_service_user_account,
            world.other_carer_account, world.other_manager, world.admin, world.no_role]


# --- Service user -------------------------------------------------------------------------


def test_a_version_to_sign_appears_links_to_it_and_goes_when_signed(world):
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)

    entry = only(world.service_user_account, "sign_version")
    assert entry.url == reverse("version_detail", args=[version.pk])
    assert entry.text == "Sign your care plan, or say why not"
    assert client_for(world.service_user_account).get(entry.url).status_code == 200
    page = home_text(world.service_user_account)
    assert "Sign your care plan, or say why not" in page
    assert f'href="{entry.url}"' in page
    # The coordinator has to sign too: theirs, not the service user's, entry.
    assert only(world.coordinator, "sign_version").text == "Sign Alex Service's care plan"

    sign(version, world.service_user_account)
    assert entries(world.service_user_account, "sign_version") == []
    assert "Sign your care plan" not in home_text(world.service_user_account)
    for user in [*outsiders(world), world.carer_account]:
        assert entries(user, "sign_version") == []


def test_declining_is_doing_it_too(world):
    version = propose(plan_with_content(world), world.coordinator)
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)
    assert entries(world.service_user_account, "sign_version") == []
    # Nobody is asked to sign around a "no".
    assert entries(world.coordinator, "sign_version") == []


def test_did_you_feel_listened_to_waits_for_the_answer(world):
    plan = plan_with_content(world)
    review = services.review_record(
        plan=plan, recorded_by=world.coordinator, held_on=clock.days(-1),
        attendees="Alex and Sam", what_changed="New goal", next_review_on=clock.days(90))
    entry = only(world.service_user_account, "listened")
    assert entry.url == reverse("review_answer", args=[review.pk])
    assert client_for(world.service_user_account).get(entry.url).status_code == 200

    services.review_listened_answer(review=review, answered_by=world.service_user_account,
                                    score=4, comment="Mostly.")
    assert entries(world.service_user_account, "listened") == []
    for user in [*outsiders(world), world.coordinator, world.carer_account]:
        assert entries(user, "listened") == []


def test_wrap_suggestions_are_one_entry_until_each_is_answered(world):
    wrap = plan_with_content(world, PlanKind.WRAP)
    first = services.suggestion_create(plan=wrap, section_code="wellness_toolbox",
                                       text="Music in the evening", suggested_by=world.coordinator)
    second = services.suggestion_create(plan=wrap, section_code="wellness_toolbox",
                                        text="A short walk", suggested_by=world.coordinator)
    entry = only(world.service_user_account, "wrap_suggestion")
    assert entry.count == 2
    assert entry.text == "2 suggestions for your WRAP to accept or dismiss"
    assert entry.url == reverse("plan_detail", args=[wrap.pk]) + f"#suggestion-{first.pk}"
    page = client_for(world.service_user_account).get(entry.url)
    assert f'id="suggestion-{first.pk}"' in page.content.decode()

    services.suggestion_answer(suggestion=first, answered_by=world.service_user_account,
                               accept=True)
    assert only(world.service_user_account, "wrap_suggestion").text == (
        "1 suggestion for your WRAP to accept or dismiss")
    services.suggestion_answer(suggestion=second, answered_by=world.service_user_account,
                               accept=False)
    assert entries(world.service_user_account, "wrap_suggestion") == []
    for user in [*outsiders(world), world.coordinator, world.carer_account]:
        assert entries(user, "wrap_suggestion") == []


def test_goals_wait_for_each_side_to_agree_their_current_words(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.coordinator, title="Get back to swimming")

    mine = only(world.service_user_account, "goal_agree")
    assert mine.text == "Agree your goal “Get back to swimming”, or change it"
    assert mine.url == reverse("plan_detail", args=[plan.pk]) + f"#item-{goal.pk}"
    theirs = only(world.coordinator, "goal_agree")
    assert theirs.text == "Agree the goal “Get back to swimming” on Alex Service's care plan"

    services.goal_agree(item=goal, agreed_by=world.service_user_account,
                        party=GoalAgreement.Party.SERVICE_USER)
    assert entries(world.service_user_account, "goal_agree") == []
    assert len(entries(world.coordinator, "goal_agree")) == 1
    services.goal_agree(item=goal, agreed_by=world.coordinator,
                        party=GoalAgreement.Party.COORDINATOR)
    assert entries(world.coordinator, "goal_agree") == []

    # Changing the words asks both again.
    write(goal, world.coordinator, "Once a week to start with.")
    assert len(entries(world.service_user_account, "goal_agree")) == 1
    assert len(entries(world.coordinator, "goal_agree")) == 1
    for user in [*outsiders(world), world.carer_account]:
        assert entries(user, "goal_agree") == []


# --- Coordinator ----------------------------------------------------------------------------


def test_a_decline_shows_on_the_coordinators_list_in_the_persons_words(world):
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)

    entry = only(world.coordinator, "version_declined")
    assert entry.text == "Alex Service declined to sign Alex Service's care plan (version 1)"
    assert entry.detail == REASON
    assert entry.url == reverse("version_detail", args=[version.pk])
    page = home_text(world.coordinator)
    assert f"In their words: “{REASON}”" in page

    # Done when a changed version is proposed.
    write(prompt_item(plan, "recovery_meaning"), world.coordinator, "Seeing my sister.")
    propose(plan, world.coordinator)
    assert entries(world.coordinator, "version_declined") == []
    for user in [*outsiders(world), world.carer_account, world.manager]:
        assert REASON not in all_words(things_to_do(viewer=user))


def test_a_version_waiting_for_others_names_who(world):
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)
    assert entries(world.coordinator, "awaiting_others") == []  # theirs to sign first
    sign(version, world.coordinator)

    entry = only(world.coordinator, "awaiting_others")
    assert entry.text == ("Alex Service's care plan (version 1) is waiting for Alex Service "
                          "to sign")
    assert entry.url == reverse("version_detail", args=[version.pk])
    sign(version, world.service_user_account)
    assert entries(world.coordinator, "awaiting_others") == []
    for user in outsiders(world):
        assert entries(user, "awaiting_others") == []


def test_an_overdue_review_links_to_recording_one(world):
    plan = plan_with_content(world)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.days(-1))
    entry = only(world.coordinator, "review_overdue")
    assert entry.url == reverse("review_add", args=[plan.pk])
    assert client_for(world.coordinator).get(entry.url).status_code == 200
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.today())  # due today: not yet
    assert entries(world.coordinator, "review_overdue") == []
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.days(-1))
    services.review_record(plan=plan, recorded_by=world.coordinator, held_on=clock.today(),
                           attendees="Alex", what_changed="-", next_review_on=clock.days(60))
    assert entries(world.coordinator, "review_overdue") == []
    for user in [*outsiders(world), world.service_user_account, world.carer_account]:
        assert entries(user, "review_overdue") == []


def test_getting_stuck_prompts_come_with_their_reasons(world):
    Episode.objects.filter(service_user=world.service_user).update(
        planned_end_on=clock.days(-10))
    entry = only(world.coordinator, "stuck")
    assert entry.text == "Alex Service may be getting stuck"
    assert "past its planned end" in entry.detail
    assert entry.url == reverse("service_user_detail", args=[world.service_user.pk])
    Episode.objects.filter(service_user=world.service_user).update(
        planned_end_on=clock.days(30))
    assert entries(world.coordinator, "stuck") == []


# --- Carer --------------------------------------------------------------------------------


def test_a_carer_named_on_a_responsibility_agreement_is_asked_to_sign_it(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    version = propose(plan, world.coordinator)

    entry = only(world.carer_account, "sign_version")
    assert entry.text == "Sign Alex Service's responsibility agreement, or say why not"
    assert entry.url == reverse("version_detail", args=[version.pk])
    assert client_for(world.carer_account).get(entry.url).status_code == 200
    sign(version, world.carer_account)
    assert entries(world.carer_account, "sign_version") == []
    assert entries(world.other_carer_account) == []


def test_a_carer_who_stops_caring_is_not_asked_to_sign(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    propose(plan, world.coordinator)
    world.carer_relationship.ended_on = clock.today()
    world.carer_relationship.save()
    assert entries(world.carer_account) == []


def test_newly_shared_is_grouped_links_to_it_and_goes_once_read(world):
    plan = plan_with_content(world)
    carer = world.carer_relationship.carer
    first = prompt_item(plan, "recovery_meaning")
    second = add_item(plan, "needs_support", world.coordinator, "Help with letters")
    secret = add_item(plan, "needs_support", world.coordinator, "Not for Linda")
    for item in (first, second):
        consent_services.consent_decide_item(item=item, carer=carer, shared=True,
                                             decided_by=world.service_user_account)

    entry = only(world.carer_account, "newly_shared")
    assert entry.count == 2
    assert entry.text == "Alex Service has shared 2 new things with you"
    person = reverse("carer_person", args=[world.carer_relationship.pk])
    assert entry.url.startswith(person + "#shared-item-")
    assert secret.title not in all_words(entries(world.carer_account))
    page = client_for(world.carer_account).get(person).content.decode()
    anchor = entry.url.split("#")[1]
    assert f'id="{anchor}"' in page
    # Read: gone.
    assert entries(world.carer_account, "newly_shared") == []

    consent_services.consent_decide_item(item=secret, carer=carer, shared=True,
                                         decided_by=world.service_user_account)
    again = only(world.carer_account, "newly_shared")
    assert again.count == 1
    assert again.url == f"{person}#shared-item-{secret.pk}"
    for user in [*outsiders(world), world.coordinator, world.service_user_account]:
        assert entries(user, "newly_shared") == []


def test_an_item_added_later_to_a_shared_section_is_new_when_it_is_added(world):
    plan = plan_with_content(world)
    consent_services.consent_decide_section(plan=plan, section="needs_support",
                                            carer=world.carer_relationship.carer, shared=True,
                                            decided_by=world.service_user_account)
    add_item(plan, "needs_support", world.coordinator, "Letters")
    client_for(world.carer_account).get(reverse("carer_person",
                                                args=[world.carer_relationship.pk]))
    assert entries(world.carer_account, "newly_shared") == []
    later = add_item(plan, "needs_support", world.coordinator, "Shopping")
    entry = only(world.carer_account, "newly_shared")
    assert entry.count == 1
    assert entry.url.endswith(f"#shared-item-{later.pk}")
    assert entry.detail == "In: Needs, and who does what (care plan)."


def test_withdrawn_sharing_is_not_new(world):
    plan = plan_with_content(world)
    carer = world.carer_relationship.carer
    item = prompt_item(plan, "recovery_meaning")
    consent_services.consent_decide_item(item=item, carer=carer, shared=True,
                                         decided_by=world.service_user_account)
    consent_services.consent_decide_item(item=item, carer=carer, shared=False,
                                         decided_by=world.service_user_account)
    assert entries(world.carer_account) == []


# --- Manager: counts only --------------------------------------------------------------------


def test_a_manager_sees_counts_for_their_team_and_no_names_or_words(world):
    plan = plan_with_content(world)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.days(-3))
    propose(plan, world.coordinator)
    Episode.objects.filter(service_user=world.service_user).update(
        planned_end_on=clock.days(-10))

    found = entries(world.manager)
    kinds = {e.kind: e for e in found}
    assert set(kinds) == {"team_reviews_overdue", "team_unsigned", "team_stuck"}
    team = world.team
    assert kinds["team_reviews_overdue"].text == f"{team.name}: 1 care plan review overdue"
    assert kinds["team_reviews_overdue"].url == reverse("report_detail",
                                                        args=[team.pk, "review-compliance"])
    assert kinds["team_unsigned"].text == f"{team.name}: 1 plan version waiting for signatures"
    assert kinds["team_stuck"].text == f"{team.name}: 1 person may be getting stuck"
    assert kinds["team_stuck"].url == reverse("team_detail", args=[team.pk])
    words = all_words(found)
    assert world.service_user.name not in words
    assert "friends" not in words  # the plan's text
    for entry in found:
        assert client_for(world.manager).get(entry.url.split("#")[0]).status_code == 200
    assert entries(world.other_manager) == []


# --- Surfaces ----------------------------------------------------------------------------


def test_the_header_counts_them_and_the_api_lists_the_same(world):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    add_goal(plan, world.coordinator)
    client = client_for(world.service_user_account)
    page = html.unescape(client.get(f"/service-users/{world.service_user.pk}/")
                         .content.decode())
    assert "Things to do (2)" in page

    response = client.get("/api/v1/things-to-do/")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 2
    assert [(r["kind"], r["url"], r["role"]) for r in body["results"]] == [
        (e.kind, e.url, e.hat) for e in things_to_do(viewer=world.service_user_account)]

    other = client_for(world.other_service_user_account).get("/api/v1/things-to-do/").json()
    assert other == {"count": 0, "results": []}


def test_the_api_answers_json_to_someone_signed_out(db):
    response = Client().get("/api/v1/things-to-do/")
    assert response.status_code in (401, 403)
    assert "detail" in json.loads(response.content)


def test_nothing_waiting_says_so(world):
    assert "Nothing is waiting for you at the moment." in home_text(world.no_role)
    assert "Things to do (0)" in home_text(world.no_role)


# --- Flat query counts -------------------------------------------------------------------


def _busy_person(world, *, coordinator, carer_account=None):
    """Another service user on `coordinator`'s caseload with one of everything."""
    account = UserFactory(roles=[Role.SERVICE_USER])
    service_user = ServiceUserFactory(team=world.team, user=account)
    AllocationFactory(episode=EpisodeFactory(service_user=service_user,
                                             planned_end_on=clock.days(-5)),
                      coordinator=coordinator)
    plan = services.plan_create(service_user=service_user, kind=PlanKind.CARE_PLAN,
                                created_by=coordinator)
    write(prompt_item(plan, "recovery_meaning"), account, "Cooking again.")
    add_goal(plan, coordinator)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.days(-2))
    version = services.version_propose(plan=plan, proposed_by=coordinator)
    services.version_decline(version=version, signer=account, role="service_user",
                             reason="Not yet.")
    wrap = services.plan_create(service_user=service_user, kind=PlanKind.WRAP,
                                created_by=account)
    add_item(wrap, "wellness_toolbox", account, "Music")
    wrap_version = services.version_propose(plan=wrap, proposed_by=account)
    assert wrap_version
    return account


def _queries(user) -> int:
    with CaptureQueriesContext(connection) as captured:
        found = things_to_do(viewer=user)
    assert found
    return len(captured)


@pytest.mark.postgresql_only
def test_queries_stay_flat_however_big_the_caseload_and_team(world, django_assert_max_num_queries):
    # One person of everything, and a coordinator who is also a manager, a service user
    # and a carer: every part runs.
    busy = UserFactory(roles=[Role.COORDINATOR, Role.MANAGER, Role.SERVICE_USER, Role.CARER])
    world.team.coordinators.add(busy)
    world.team.managers.add(busy)
    _busy_person(world, coordinator=busy)
    _queries(busy)  # once, to load what is loaded once (the person's roles)
    few = _queries(busy)
    for _ in range(6):
        _busy_person(world, coordinator=busy)
    many = _queries(busy)
    assert many == few
    with django_assert_max_num_queries(40):
        assert len(things_to_do(viewer=busy)) >= 7 * 4


def test_a_plain_service_users_list_is_a_handful_of_queries(world, django_assert_max_num_queries):
    plan = plan_with_content(world)
    propose(plan, world.coordinator)
    for _ in range(5):
        add_goal(plan, world.coordinator)
    with django_assert_max_num_queries(8):
        assert entries(world.service_user_account)


# --- The demo ----------------------------------------------------------------------------


def test_the_demo_leaves_something_waiting_for_every_demo_person(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    # Care-team professionals and the administrator have no part in these loops: nothing
    # waits for them unless an item of theirs does (their home page lists their teams).
    people = User.objects.filter(email__endswith="@demo.carecoord.test").exclude(
        email__startswith="admin@").exclude(
        role_grants__role=Role.PROFESSIONAL).distinct()
    waiting = {user.email: {e.kind for e in things_to_do(viewer=user)} for user in people}
    assert waiting, "the demo has people"
    nothing = sorted(email for email, kinds in waiting.items() if not kinds)
    assert nothing == []
    daniel = next(email for email in waiting if email.startswith("dan"))
    assert "sign_version" in waiting[daniel]
    assert "version_declined" in waiting["sam.okafor@demo.carecoord.test"]
    assert {"team_reviews_overdue", "team_unsigned", "team_stuck"} <= waiting[
        "manager@demo.carecoord.test"]


def test_a_coordinator_whose_allocation_ends_loses_the_persons_things_to_do(world):
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)
    add_goal(plan, world.coordinator)
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)
    Plan.objects.filter(pk=plan.pk).update(next_review_on=clock.days(-1))
    assert {e.kind for e in entries(world.coordinator)} >= {
        "version_declined", "goal_agree", "review_overdue"}

    Allocation.objects.filter(coordinator=world.coordinator).update(ended_on=clock.today())
    assert entries(world.coordinator) == []
    assert "the goal" not in home_text(world.coordinator)


# --- Issue 15: what the reads load ---------------------------------------------------------


def test_a_coordinators_list_never_loads_a_versions_snapshot(world):
    # The snapshot is a version's whole frozen plan (many kilobytes of JSON each): the
    # list needs only who signed and when. Loading it cost a second at a trust's size.
    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)

    def snapshots_loaded(kind: str) -> list[str]:
        with CaptureQueriesContext(connection) as captured:
            assert entries(world.coordinator, kind)
        return [q["sql"] for q in captured if '"plans_planversion"."snapshot"' in q["sql"]]

    assert snapshots_loaded("sign_version") == []
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason=REASON)
    assert snapshots_loaded("version_declined") == []


def test_declines_and_waiting_come_from_the_latest_version_only(world):
    # Both entries are read from one set of rows (each plan's latest version): a decline
    # of an older version is gone once a new one is proposed, and the new one waits.
    plan = plan_with_content(world)
    first = propose(plan, world.coordinator)
    services.version_decline(version=first, signer=world.service_user_account,
                             role="service_user", reason=REASON)
    assert [e.kind for e in entries(world.coordinator)
            if e.kind in {"version_declined", "awaiting_others"}] == ["version_declined"]
    write(prompt_item(plan, "recovery_meaning"), world.coordinator, "Seeing my sister.")
    second = propose(plan, world.coordinator)
    sign(second, world.coordinator)
    waiting = only(world.coordinator, "awaiting_others")
    assert waiting.url == reverse("version_detail", args=[second.pk])
    assert entries(world.coordinator, "version_declined") == []
    services.version_decline(version=second, signer=world.service_user_account,
                             role="service_user", reason="Not this one either.")
    assert [e.detail for e in entries(world.coordinator, "version_declined")] == [
        "Not this one either."]


def test_the_home_page_works_out_getting_stuck_once_and_each_request_afresh(world, monkeypatch):
    # The things to do and the caseload's "who may be getting stuck" list both need the
    # prompts: one request works them out once (about ten queries), the next one again.
    from carecoord.reporting import stuck

    calls = []
    prompts_for = stuck.prompts_for
    monkeypatch.setattr(stuck, "prompts_for",
                        lambda *args, **kwargs: calls.append(1) or prompts_for(*args, **kwargs))
    Episode.objects.filter(service_user=world.service_user).update(
        planned_end_on=clock.days(-10))
    client = client_for(world.coordinator)
    page = html.unescape(client.get("/").content.decode())
    assert len(calls) == 1
    assert "Alex Service may be getting stuck" in page  # the things to do
    assert "Who may be getting stuck" in page  # the caseload's list
    # Changed as the product changes it (a save: the things to do kept for the header
    # are thrown away, carecoord/todo/cache.py).
    episode = Episode.objects.get(service_user=world.service_user)
    episode.planned_end_on = clock.days(30)
    episode.save()
    page = html.unescape(client.get("/").content.decode())
    assert len(calls) == 2
    assert "may be getting stuck" not in page
    # Outside a request (a task, the API's tests, the shell) nothing is kept.
    entries(world.coordinator)
    entries(world.coordinator)
    assert len(calls) == 4


def test_the_header_asks_about_administration_only_for_administrators(world):
    def header(user) -> tuple[str, list[str]]:
        client = client_for(user)
        with CaptureQueriesContext(connection) as captured:
            page = client.get("/").content.decode()
        return page, [q["sql"] for q in captured if '"carecoord_user"."is_active" AND' in q["sql"]]

    page, asked = header(world.coordinator)
    assert asked == []
    assert reverse("administration:index") not in page
    page, asked = header(world.admin)
    assert len(asked) == 1
    assert reverse("administration:index") in page


# --- Queries a page (issue 15) ---------------------------------------------------------------


def test_waiting_for_a_carer_names_the_carer_and_counts_their_signature(world):
    # Who must sign and who has answered come as JSON rows with the versions: a named
    # carer is still waited for by name, and not once they have signed.
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    version = propose(plan, world.coordinator)
    sign(version, world.coordinator)
    carer_name = world.carer_relationship.carer.name
    text = only(world.coordinator, "awaiting_others").text
    assert text.endswith(f"is waiting for Alex Service and {carer_name} to sign")
    sign(version, world.carer_account)
    assert only(world.coordinator, "awaiting_others").text.endswith(
        "is waiting for Alex Service to sign")


def test_a_coordinators_versions_come_with_their_answers_in_one_query(
        world, monkeypatch, django_assert_max_num_queries):
    # Signatures and required signers are read with the latest versions, goals waiting
    # and carers' views with the plans, not each in a query of its own (five queries more
    # on every page's header before issue 15). Getting stuck (another room's queries) is
    # left out here.
    monkeypatch.setattr("carecoord.todo.selectors._SOURCES", [])
    coordinator = world.coordinator
    services.version_decline(version=propose(plan_with_content(world), coordinator),
                             signer=world.service_user_account, role="service_user",
                             reason="Not yet.")
    for _ in range(3):
        _busy_person(world, coordinator=coordinator)
    things_to_do(viewer=coordinator)  # the roles, once
    # The caseload's plans (with goals waiting and carers' views), their latest versions
    # (with answers, signers and whether the coordinator may sign each: a coordinator's
    # versions to sign are those), first meetings.
    with django_assert_max_num_queries(3):
        found = things_to_do(viewer=coordinator)
    assert len([e for e in found if e.kind == "version_declined"]) == 4
    assert {e.detail for e in found if e.kind == "version_declined"} == {"Not yet."}


def test_the_home_page_asks_once_whether_its_viewer_may_add_service_users(world):
    # The header's "Add a service user" and the home page's button: one question.
    client = client_for(world.coordinator)
    with CaptureQueriesContext(connection) as captured:
        page = client.get("/").content.decode()
    asked = [q["sql"] for q in captured if '"carecoord_team_coordinators"' in q["sql"]
             and "LIMIT 1" in q["sql"]]
    assert len(asked) == 1, asked
    assert page.count(reverse("service_user_create")) >= 2
    assert reverse("service_user_create") not in client_for(
        world.service_user_account).get("/").content.decode()


def test_a_coordinators_versions_to_sign_agree_with_the_policy_whatever_their_roles(world):
    # A coordinator who signs only as one takes their versions to sign from the caseload's
    # latest versions; with other roles, from the policy's whole queryset. Either way the
    # same versions as `versions_signable_by` gives them as a coordinator.
    from consent import policy

    plan = plan_with_content(world)
    version = propose(plan, world.coordinator)
    also_carer = UserFactory(roles=[Role.COORDINATOR, Role.CARER])
    world.team.coordinators.add(also_carer)
    _busy_person(world, coordinator=also_carer)
    for coordinator in (world.coordinator, also_carer, world.other_coordinator):
        expected = {
            reverse("version_detail", args=[v.pk])
            for v in policy.versions_signable_by(coordinator) if v.signing_as == "coordinator"
        }
        assert {e.url for e in entries(coordinator, "sign_version")} == expected
    assert {e.url for e in entries(world.coordinator, "sign_version")} == {
        reverse("version_detail", args=[version.pk])}
    sign(version, world.coordinator)
    assert entries(world.coordinator, "sign_version") == []
