"""The care plan page at the size of a trust's longest plans (issue 15): its own queries do
not grow with its items, goals, progress notes, versions, answers or reviews, and what it
reads in fewer queries (JSON lists in a parent's row, the policy's basis forms for a plan
already opened) is exactly what the policy's rules give each role."""

from __future__ import annotations

import datetime as dt

import pytest
from django.db import connection
from django.http import Http404
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone

import carecoord.context_processors
from carecoord.audit.models import AccessEvent
from carecoord.records import selectors as record_selectors
from carecoord.records.models import CareTeamRole
from consent import policy
from consent.reviews.services import review_involvement_decide
from plans import selectors, services
from plans.models import GoalAgreement, PlanItem, PlanVersion, ProgressUpdate, Signature
from tests import clock
from tests.carecoord.careteam_helpers import (  # noqa: F401 (record is a fixture)
    NHS_NUMBER,
    add_to_care_team,
    professional,
    record,
)
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    make_plan,
    plan_with_content,
    propose,
    sign,
    write,
)

pytestmark = pytest.mark.django_db

TODAY = clock.today()


@pytest.fixture
def no_things_to_do(monkeypatch):
    """The header's things to do are every page's queries, counted and cached elsewhere
    (carecoord.todo); these tests count the plan page's own."""
    monkeypatch.setattr(carecoord.context_processors, "things_to_do_for_page", lambda viewer: [])


def _page_queries(client, url: str) -> int:
    client.get(url)  # the first view's one-off work (sessions, caches) is not the page's
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _goal(world, plan, n: int) -> PlanItem:
    goal = add_goal(plan, world.coordinator, title=f"Goal {n}")
    services.goal_agree(item=goal, agreed_by=world.coordinator, party="coordinator")
    services.progress_record(item=goal, recorded_by=world.service_user_account,
                             recorded_on=clock.days(-2), rating=n % 11, note=f"Note {n}")
    return goal


def _grow(world, plan, carer, *, items: int, start: int) -> None:
    """Items (a goal in four, agreed and with progress), a version answered, a review."""
    for n in range(start, start + items):
        if n % 4 == 0:
            _goal(world, plan, n)
        else:
            add_item(plan, "needs_support", world.coordinator, f"Support {n}")
    version = propose(plan, world.coordinator)
    sign(version, world.coordinator)
    services.review_record(plan=plan, recorded_by=world.coordinator,
                           held_on=TODAY - dt.timedelta(days=start + 1),
                           attendees="Alex, Sam", what_changed=f"Review {start}",
                           next_review_on=TODAY + dt.timedelta(weeks=8 + start),
                           carers_attended=[carer])
    services.carer_review_views_save(plan=plan, carer=carer, views=f"Views {start}",
                                     written_by=world.carer_account)


def test_the_plan_pages_own_queries_do_not_grow_with_80_items(world, no_things_to_do):
    carer = world.carer_relationship.carer
    review_involvement_decide(relationship=world.carer_relationship, involved=True,
                              decided_by=world.service_user_account)
    plan = make_plan(world)
    url = reverse("plan_detail", args=[plan.pk])
    client = client_for(world.coordinator)
    _grow(world, plan, carer, items=20, start=0)
    at_20 = _page_queries(client, url)

    _grow(world, plan, carer, items=60, start=20)
    assert plan.items.filter(removed_at__isnull=True).count() >= 80
    page = client.get(url).content.decode()
    assert f"Carers who came: {carer.name}" in page
    assert "Views 20" in page
    assert _page_queries(client, url) == at_20
    # The page's own six: the plan, its access event, the items (with goals' agreements and
    # progress), the versions (with their answers), the episode with the reviews and the
    # carers' views (and their access event), signposting; the rest are every request's
    # (session, user, second factor, roles) and the header's navigation. The page's own
    # were eleven, thirteen with reviews (19 and more in all).
    assert at_20 <= 14


def test_the_items_and_versions_are_the_policys_for_every_role_that_opens_the_plan(
        world, record):  # noqa: F811
    plan = record.care_plan
    removed = add_item(plan, "needs_support", world.coordinator, "Gone soon")
    services.item_remove(item=removed, removed_by=world.coordinator,
                         expected_revision=removed.revision)
    propose(plan, world.coordinator)
    psychologist, duty = professional("Dr Psych"), professional("Jo Duty")
    add_to_care_team(world, psychologist, CareTeamRole.PSYCHOLOGIST)
    add_to_care_team(world, duty, CareTeamRole.DUTY_WORKER)
    glass = professional("Kim Glass")
    assert client_for(glass).post(reverse("break_glass"), {
        "nhs_number": NHS_NUMBER,
        "reason": "Found by police on the bridge, distressed; needs crisis plan for "
                  "assessment."}).status_code == 302

    readers = [world.coordinator, world.service_user_account, psychologist, duty, glass]
    for viewer in readers:
        opened = selectors.plan_open(viewer=viewer, plan_id=plan.pk, surface="plan_detail")
        shown = {view.item.pk for section in selectors.plan_sections(viewer=viewer,
                                                                     opened=opened)
                 for view in section.items}
        assert shown == set(policy.items_visible_to(
            viewer, plan.items.filter(removed_at__isnull=True)).values_list("pk", flat=True))
        assert removed.pk not in shown
        versions = [row.version.pk for row in selectors.versions_for_plan(viewer=viewer,
                                                                          opened=opened)]
        assert versions == list(policy.versions_visible_to(viewer, plan.versions.all())
                                .order_by("-number").values_list("pk", flat=True))
    # The partial readers see part of it; everyone else does not find it at all.
    assert record.items["crisis_plan"].pk not in {
        view.item.pk for section in selectors.plan_sections(
            viewer=psychologist, opened=selectors.plan_open(
                viewer=psychologist, plan_id=plan.pk, surface="plan_detail"))
        for view in section.items}
    for outsider in (world.other_coordinator, world.carer_account, world.manager,
                     professional("Not on the team")):
        assert client_for(outsider).get(reverse("plan_detail",
                                                args=[plan.pk])).status_code == 404


def test_goal_agreements_progress_and_answers_read_as_json_are_the_stored_rows(world):
    world.service_user_account.preferred_name = "Ali"
    world.service_user_account.save()
    plan = make_plan(world)
    goal = _goal(world, plan, 3)
    services.goal_agree(item=goal, agreed_by=world.service_user_account, party="service_user")
    write(goal, world.coordinator, "New words: needs agreeing again.")
    # A note whose author's account has gone (the foreign key set to null).
    ProgressUpdate.objects.create(item=goal, recorded_by=None, recorded_on=clock.days(-1),
                                  rating=9, note="")
    version = propose(plan, world.coordinator)
    sign(version, world.coordinator)
    services.version_decline(version=version, signer=world.service_user_account,
                             role="service_user", reason="Not yet.")

    opened = selectors.plan_open(viewer=world.coordinator, plan_id=plan.pk,
                                 surface="plan_detail")
    [view] = [view for section in selectors.plan_sections(viewer=world.coordinator,
                                                          opened=opened)
              for view in section.items if view.item.pk == goal.pk]
    fields = ("pk", "item_id", "party", "revision", "agreed_by_id", "agreed_at")
    assert ([tuple(getattr(a, f) for f in fields) for a in view.agreements]
            == list(GoalAgreement.objects.filter(item=goal).order_by("pk")
                    .values_list(*fields)))
    assert [a.agreed_by.display_name for a in view.agreements] == ["Sam Coordinator", "Ali"]
    assert not view.agreed
    assert view.agreed_by == set()
    fields = ("pk", "recorded_on", "rating", "note", "recorded_by_id", "created_at")
    assert ([tuple(getattr(p, f) for f in fields) for p in view.progress]
            == list(ProgressUpdate.objects.filter(item=goal).order_by("recorded_on", "pk")
                    .values_list(*fields)))
    assert all(isinstance(p.recorded_on, dt.date) and timezone.is_aware(p.created_at)
               for p in view.progress)
    assert [p.recorded_by and p.recorded_by.display_name for p in view.progress] == [
        "Ali", None]

    [row] = selectors.versions_for_plan(viewer=world.coordinator, opened=opened)
    assert row.status == "declined"
    fields = ("pk", "signer_id", "role", "decision", "signed_at")
    assert ([tuple(getattr(s, f) for f in fields) for s in row.signatures]
            == list(Signature.objects.filter(version=version).order_by("signed_at", "pk")
                    .values_list(*fields)))
    page = client_for(world.coordinator).get(reverse("plan_detail", args=[plan.pk]))
    assert f"Not signed: {world.service_user.name} said why" in page.content.decode()
    assert "It has changed since it was last agreed" in page.content.decode()
    assert PlanVersion.objects.filter(plan=plan).count() == 1


def test_the_episode_reviews_and_carers_views_read_in_one_query_are_each_roles(world):
    carer = world.carer_relationship.carer
    review_involvement_decide(relationship=world.carer_relationship, involved=True,
                              decided_by=world.service_user_account)
    plan = make_plan(world)
    services.carer_review_views_save(plan=plan, carer=carer, views="Sleeping badly.",
                                     written_by=world.carer_account)
    services.review_record(plan=plan, recorded_by=world.coordinator, held_on=TODAY,
                           attendees="Alex, Sam, Linda", what_changed="New goals",
                           next_review_on=TODAY + dt.timedelta(weeks=8),
                           carers_attended=[carer])
    plan.refresh_from_db()
    services.carer_review_views_save(plan=plan, carer=carer, views="Walking helps.",
                                     written_by=world.carer_account)

    for viewer, sees_views in ((world.coordinator, True),
                               (world.service_user_account, False)):
        opened = selectors.plan_open(viewer=viewer, plan_id=plan.pk, surface="plan_detail")
        before = AccessEvent.objects.filter(action="carer_review_views.view").count()
        with CaptureQueriesContext(connection) as captured:
            reads = selectors.plan_page_reads(viewer=viewer, opened=opened)
        # One read (and, for the coordinator, the access event of the views read).
        assert [query["sql"].split()[0] for query in captured.captured_queries
                if query["sql"].startswith("SELECT")] == ["SELECT"]
        assert reads.episode == record_selectors.open_episode(service_user=world.service_user)
        assert reads.episode.planned_end_on == reads.episode.__class__.objects.get(
            pk=reads.episode.pk).planned_end_on
        [review] = reads.reviews
        assert (review.what_changed, review.carers_came, review.views_came) == (
            "New goals", [carer.name], [carer.name])
        assert review.recorded_by.display_name == "Sam Coordinator"
        assert [given.views for given in reads.carer_views] == (
            ["Walking helps."] if sees_views else [])
        assert [given.carer.name for given in reads.carer_views] == (
            [carer.name] if sees_views else [])
        after = AccessEvent.objects.filter(action="carer_review_views.view").count()
        assert after - before == (1 if sees_views else 0)


def _change(world, plan) -> None:
    """Something new in the plan, so that it can be proposed again."""
    if plan.kind == "wrap":
        add_item(plan, "wellness_toolbox", world.service_user_account, "Reading")
    elif plan.kind == "responsibility_agreement":
        add_responsibility(plan, world.coordinator, title="Another")
    else:
        add_goal(plan, world.coordinator)


def test_whether_the_viewer_may_sign_each_version_is_the_policys_answer(world):
    """`version_signable_on_basis` (from the rows the page read) against the policy's
    queryset form, for the person and the coordinator, through a version's life: waiting,
    answered by one, replaced, declined, agreed; on a care plan, a WRAP and a
    responsibility agreement naming a carer."""
    care_plan = plan_with_content(world)
    wrap = plan_with_content(world, "wrap")
    agreement = make_plan(world, "responsibility_agreement")
    add_responsibility(agreement, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    readers = (world.coordinator, world.service_user_account)

    def check(plan) -> None:
        for viewer in readers:
            opened = selectors.plan_open(viewer=viewer, plan_id=plan.pk, surface="plan_detail")
            rows = selectors.versions_for_plan(viewer=viewer, opened=opened)
            expected = set(policy.versions_signable_by(viewer, plan.versions.all())
                           .values_list("pk", flat=True))
            assert {row.version.pk for row in rows if row.signable} == expected

    for plan in (care_plan, wrap, agreement):
        check(plan)  # no version yet
        first = propose(plan, world.coordinator)
        check(plan)  # waiting for everyone
        sign(first, world.service_user_account)
        check(plan)  # answered by the person
        _change(world, plan)
        second = propose(plan, world.coordinator)
        check(plan)  # the first replaced
        services.version_decline(version=second, signer=world.service_user_account,
                                 role="service_user", reason="Not yet.")
        check(plan)  # declined
    _change(world, care_plan)
    third = propose(care_plan, world.coordinator)
    sign(third, world.service_user_account)
    sign(third, world.coordinator)
    check(care_plan)  # agreed


def test_opening_one_plan_agrees_with_the_plans_rule_for_every_viewer(world, record):  # noqa: F811
    """`plan_for_viewer` asks the plans rule's bases one after the other rather than
    building the whole predicate; for every viewer and plan kind it opens exactly the
    plans `plans_visible_to` lists, and on the basis `plan_basis` gives."""
    psychologist, duty, crisis = (professional("Dr Psych"), professional("Jo Duty"),
                                  professional("Cal Crisis"))
    add_to_care_team(world, psychologist, CareTeamRole.PSYCHOLOGIST)
    add_to_care_team(world, duty, CareTeamRole.DUTY_WORKER)
    add_to_care_team(world, crisis, CareTeamRole.CRISIS_TEAM)
    ended = professional("Ed Ended")
    place = add_to_care_team(world, ended, CareTeamRole.PSYCHIATRIST)
    # A place that ended yesterday (the service refuses to write an end in the past).
    type(place).objects.filter(pk=place.pk).update(started_on=clock.days(-30),
                                                   ended_on=clock.days(-1))
    glass = professional("Kim Glass")
    assert client_for(glass).post(reverse("break_glass"), {
        "nhs_number": NHS_NUMBER,
        "reason": "Found by police on the bridge, distressed; needs crisis plan for "
                  "assessment."}).status_code == 302
    plans = [record.care_plan, record.wrap,
             make_plan(world, "responsibility_agreement")]

    viewers = [world.coordinator, world.service_user_account, psychologist, duty, crisis,
               ended, glass, world.other_coordinator, world.other_service_user_account,
               world.carer_account, world.manager, world.admin, world.no_role]
    opened_by = {}
    for viewer in viewers:
        listed = set(policy.plans_visible_to(viewer).values_list("pk", flat=True))
        for plan in plans:
            if plan.pk in listed:
                opened, basis = policy.plan_for_viewer(viewer, plan.pk)
                assert opened == plan
                assert basis == policy.plan_basis(viewer, plan)
                opened_by.setdefault(plan.pk, set()).add(viewer.pk)
            else:
                with pytest.raises(Http404):
                    policy.plan_for_viewer(viewer, plan.pk)
    # The cases are not empty: the whole-record readers open every plan, the care-team
    # places and emergency access only the care plan.
    assert opened_by[record.care_plan.pk] == {
        world.coordinator.pk, world.service_user_account.pk, psychologist.pk, duty.pk,
        crisis.pk, glass.pk}
    assert opened_by[record.wrap.pk] == {world.coordinator.pk, world.service_user_account.pk}
    # A deactivated account opens nothing, though its allocation still stands.
    world.coordinator.is_active = False
    world.coordinator.save()
    assert not policy.plans_visible_to(world.coordinator).exists()
    for plan in plans:
        with pytest.raises(Http404):
            policy.plan_for_viewer(world.coordinator, plan.pk)
