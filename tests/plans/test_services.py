"""Plan writes as people meet them: a care plan that opens with the person's own words,
co-editing that never loses anyone's work, goals agreed by both sides, a crisis plan that
shows when it is not specific yet, WRAP suggestions only the owner applies, reviews, and
an audit event for every write."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core.exceptions import ValidationError

from carecoord.audit.models import AccessEvent
from carecoord.audit.services import audit_chain_extend, audit_chain_verify
from plans import selectors, services
from plans.models import ItemChange, Plan, PlanItem, ProgressUpdate, Review, Suggestion
from plans.sections import PlanKind
from plans.services import ItemConflictError, PlanActionError
from tests import clock
from tests.plans.factories import (
    CRISIS_PROMPT_CODES,
    add_goal,
    add_item,
    fill_crisis,
    make_plan,
    plan_with_content,
    prompt_item,
    propose,
    sign,
    write,
)


def _sections(viewer, plan) -> dict[str, selectors.SectionView]:
    opened = selectors.plan_open(viewer=viewer, plan_id=plan.pk, surface="test")
    return {view.section.code: view for view in
            selectors.plan_sections(viewer=viewer, opened=opened)}


def _content_revision(plan: Plan) -> int:
    return Plan.objects.values_list("content_revision", flat=True).get(pk=plan.pk)


# --- A new care plan starts with the person's own words -------------------------------


def test_a_new_care_plan_opens_with_recovery_and_hopes_then_the_crisis_prompts(world):
    plan = make_plan(world)

    items = list(plan.items.order_by("position", "pk"))
    assert [item.prompt for item in items[:2]] == ["recovery_meaning", "hopes"]
    assert [item.title for item in items[:2]] == [
        "What recovery means to me", "My hopes and aspirations",
    ]
    crisis = [item for item in items if item.section == "crisis"]
    assert [item.prompt for item in crisis] == CRISIS_PROMPT_CODES
    assert len(crisis) == 8
    assert all(item.is_empty for item in items)
    # The page shows the own-words sections first, too.
    assert list(_sections(world.coordinator, plan))[:2] == ["recovery_meaning", "hopes"]


def test_creating_the_same_kind_twice_returns_the_existing_plan(world):
    first = make_plan(world)
    again = make_plan(world, by=world.service_user_account)
    assert again.pk == first.pk
    assert Plan.objects.filter(service_user=world.service_user).count() == 1
    assert first.items.count() == 10


def test_attribution_recorded_in_meeting_then_in_the_service_users_own_words(world):
    plan = make_plan(world)  # created by the coordinator
    hopes = prompt_item(plan, "hopes")
    assert hopes.written_by == PlanItem.WrittenBy.RECORDED_IN_MEETING

    write(hopes, world.service_user_account, "To go back to college and train as a chef.")
    hopes.refresh_from_db()
    assert hopes.written_by == PlanItem.WrittenBy.SERVICE_USER
    assert hopes.author == world.service_user_account
    assert hopes.get_written_by_display() == "Written by the service user"

    write(hopes, world.coordinator, "To go back to college (said in our meeting).",
          recorded_in_meeting=True)
    hopes.refresh_from_db()
    assert hopes.written_by == PlanItem.WrittenBy.RECORDED_IN_MEETING

    write(hopes, world.coordinator, "To go back to college, and to cook for friends.")
    hopes.refresh_from_db()
    assert hopes.written_by == PlanItem.WrittenBy.COORDINATOR


def test_a_plan_the_service_user_starts_is_in_their_own_words(world):
    plan = make_plan(world, by=world.service_user_account)
    assert set(plan.items.values_list("written_by", flat=True)) == {
        PlanItem.WrittenBy.SERVICE_USER
    }


# --- Co-editing: revisions, history, conflicts ----------------------------------------


def test_an_update_increments_the_revision_and_keeps_who_and_before_after(world):
    plan = make_plan(world)
    item = prompt_item(plan, "recovery_meaning")
    assert item.revision == 1

    write(item, world.service_user_account, "Feeling like myself again.")
    write(item, world.coordinator, "Feeling like myself again, and working.")

    item.refresh_from_db()
    assert item.revision == 3
    assert item.body == "Feeling like myself again, and working."
    changes = list(item.changes.order_by("revision"))
    assert [(c.revision, c.action, c.changed_by) for c in changes] == [
        (2, "changed", world.service_user_account),
        (3, "changed", world.coordinator),
    ]
    assert changes[0].before["body"] == ""
    assert changes[0].after["body"] == "Feeling like myself again."
    assert changes[1].before["body"] == "Feeling like myself again."
    assert changes[1].after["body"] == "Feeling like myself again, and working."
    assert changes[1].after["revision"] == 3
    # The history page shows the newest change first.
    assert [c.revision for c in selectors.item_history(item=item)] == [3, 2]


def test_a_stale_save_raises_a_conflict_with_the_current_text_and_overwrites_nothing(world):
    plan = make_plan(world)
    item = prompt_item(plan, "hopes")
    # Both open the item at revision 1; the service user saves first.
    seen_by_coordinator = item.revision
    write(item, world.service_user_account, "To see my daughter every weekend.")
    revision_before = _content_revision(plan)

    with pytest.raises(ItemConflictError) as conflict:
        services.item_update(item=item, changed_by=world.coordinator,
                             expected_revision=seen_by_coordinator,
                             body="To find a job.")

    assert conflict.value.current.body == "To see my daughter every weekend."
    assert conflict.value.current.revision == 2
    item.refresh_from_db()
    assert item.body == "To see my daughter every weekend."
    assert item.written_by == PlanItem.WrittenBy.SERVICE_USER
    assert item.revision == 2
    assert item.changes.count() == 1
    assert _content_revision(plan) == revision_before


def test_saving_without_a_change_makes_no_new_revision(world):
    plan = make_plan(world)
    item = write(prompt_item(plan, "hopes"), world.service_user_account, "To travel.")
    revision_before = _content_revision(plan)
    events_before = AccessEvent.objects.count()

    write(item, world.service_user_account, "To travel.")
    write(item, world.coordinator, "To travel.")  # same words, other person: no change

    item.refresh_from_db()
    assert item.revision == 2
    assert item.changes.count() == 1
    assert item.written_by == PlanItem.WrittenBy.SERVICE_USER
    assert _content_revision(plan) == revision_before
    assert AccessEvent.objects.count() == events_before


def test_removing_an_item_is_soft_and_keeps_its_history(world):
    plan = make_plan(world)
    risk = add_item(plan, "risk", world.coordinator, "Going out alone at night",
                    body="Agreed to text Mum when home.")
    write(risk, world.coordinator, "Agreed to text Mum when I get home.")
    risk.refresh_from_db()

    services.item_remove(item=risk, removed_by=world.coordinator,
                         expected_revision=risk.revision)

    risk.refresh_from_db()
    assert risk.removed_at is not None
    assert risk.body == "Agreed to text Mum when I get home."  # content kept
    assert [c.action for c in risk.changes.order_by("revision")] == [
        "created", "changed", "removed",
    ]
    removed = risk.changes.get(action="removed")
    assert removed.changed_by == world.coordinator
    assert removed.before["body"] == "Agreed to text Mum when I get home."
    assert removed.after is None
    # It no longer shows on the plan.
    assert _sections(world.coordinator, plan)["risk"].items == []
    # And it cannot be edited any more.
    with pytest.raises(ItemConflictError):
        services.item_update(item=risk, changed_by=world.coordinator,
                             expected_revision=risk.revision, body="Back again")


def test_removing_with_a_stale_revision_is_a_conflict(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.coordinator)
    write(goal, world.service_user_account, "Swim once a week to start with.")
    with pytest.raises(ItemConflictError):
        services.item_remove(item=goal, removed_by=world.coordinator, expected_revision=1)
    goal.refresh_from_db()
    assert goal.removed_at is None


@pytest.mark.parametrize("prompt", ["recovery_meaning", "hopes", "early_signs",
                                    "advance_statement"])
def test_fixed_prompts_cannot_be_removed(world, prompt):
    plan = make_plan(world)
    item = prompt_item(plan, prompt)
    with pytest.raises(PlanActionError):
        services.item_remove(item=item, removed_by=world.coordinator,
                             expected_revision=item.revision)
    item.refresh_from_db()
    assert item.removed_at is None
    assert not item.changes.exists()


def test_free_items_cannot_be_added_to_fixed_question_sections(world):
    plan = make_plan(world)
    with pytest.raises(PlanActionError):
        add_item(plan, "crisis", world.coordinator, "Another crisis note")
    assert plan.items.filter(section="crisis").count() == 8


# --- Goals ----------------------------------------------------------------------------


def _goal_agreed(goal: PlanItem) -> bool:
    return services.goal_is_agreed(PlanItem.objects.get(pk=goal.pk))


def _agree(goal: PlanItem, user, party: str) -> None:
    goal.refresh_from_db()
    services.goal_agree(item=goal, agreed_by=user, party=party)


def test_a_goal_is_agreed_only_when_both_sides_agree_to_the_current_revision(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.service_user_account)
    assert not _goal_agreed(goal)

    _agree(goal, world.service_user_account, "service_user")
    assert not _goal_agreed(goal)
    assert _sections(world.coordinator, plan)["goals"].items[0].agreed_by == {"service_user"}

    _agree(goal, world.coordinator, "coordinator")
    assert _goal_agreed(goal)
    view = _sections(world.service_user_account, plan)["goals"].items[0]
    assert view.agreed
    assert view.agreed_by == {"service_user", "coordinator"}

    # Changing the goal afterwards needs both to agree again.
    write(goal, world.coordinator, "Swim three times a week.")
    assert not _goal_agreed(goal)
    assert not _sections(world.coordinator, plan)["goals"].items[0].agreed
    _agree(goal, world.service_user_account, "service_user")
    assert not _goal_agreed(goal)
    _agree(goal, world.coordinator, "coordinator")
    assert _goal_agreed(goal)


def test_nobody_agrees_to_words_they_have_not_seen(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.service_user_account)
    seen = goal.revision
    write(goal, world.service_user_account, "Swim every day.")
    with pytest.raises(ItemConflictError) as conflict:
        services.goal_agree(item=goal, agreed_by=world.coordinator, party="coordinator",
                            expected_revision=seen)
    assert conflict.value.current.body == "Swim every day."
    assert not goal.agreements.exists()


def test_one_side_agreeing_twice_does_not_make_a_goal_agreed(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.coordinator)
    _agree(goal, world.coordinator, "coordinator")
    _agree(goal, world.coordinator, "coordinator")
    assert goal.agreements.count() == 1
    assert not _goal_agreed(goal)


@pytest.mark.parametrize("rating", [11, -1])
def test_progress_ratings_outside_0_to_10_are_refused(world, rating):
    plan = make_plan(world)
    goal = add_goal(plan, world.service_user_account)
    with pytest.raises(ValidationError):
        services.progress_record(item=goal, recorded_by=world.service_user_account,
                                 recorded_on=dt.date(2025, 3, 1), rating=rating,
                                 note="How it went")
    assert not ProgressUpdate.objects.exists()


def test_progress_is_a_dated_timeline_in_date_order(world):
    plan = make_plan(world)
    goal = add_goal(plan, world.service_user_account)
    entries = [
        (dt.date(2025, 3, 10), 7, "Swam twice this week."),
        (dt.date(2025, 1, 5), 0, "Could not face going."),
        (dt.date(2025, 2, 1), 10, "Went with my friend — brilliant."),
    ]
    for recorded_on, rating, note in entries:
        services.progress_record(item=goal, recorded_by=world.service_user_account,
                                 recorded_on=recorded_on, rating=rating, note=note)

    timeline = _sections(world.coordinator, plan)["goals"].items[0].progress
    assert [(p.recorded_on, p.rating, p.note) for p in timeline] == sorted(entries)
    assert [p.rating for p in goal.progress.all()] == [0, 10, 7]


def test_progress_is_recorded_on_goals_only(world):
    plan = make_plan(world)
    with pytest.raises(PlanActionError):
        services.progress_record(item=prompt_item(plan, "hopes"),
                                 recorded_by=world.coordinator,
                                 recorded_on=dt.date(2025, 3, 1), rating=5, note="")


# --- The crisis plan must be specific --------------------------------------------------


def test_the_crisis_plan_is_incomplete_while_any_prompt_is_empty(world):
    plan = make_plan(world)
    crisis = _sections(world.coordinator, plan)["crisis"]
    assert crisis.incomplete
    assert [item.prompt for item in crisis.empty_prompts] == CRISIS_PROMPT_CODES

    fill_crisis(plan, world.service_user_account, skip=("responds_to", "advance_statement"))
    # Whitespace is not an answer.
    write(prompt_item(plan, "practical"), world.coordinator, "   \n  ")
    crisis = _sections(world.coordinator, plan)["crisis"]
    assert crisis.incomplete
    assert [item.prompt for item in crisis.empty_prompts] == [
        "responds_to", "practical", "advance_statement",
    ]

    write(prompt_item(plan, "practical"), world.coordinator, "My neighbour feeds the cat.")
    write(prompt_item(plan, "responds_to"), world.service_user_account, "My sister, Jo.")
    crisis = _sections(world.coordinator, plan)["crisis"]
    assert [item.prompt for item in crisis.empty_prompts] == ["advance_statement"]
    assert crisis.incomplete

    write(prompt_item(plan, "advance_statement"), world.service_user_account,
          "No haloperidol, please. I prefer to be treated at home.")
    crisis = _sections(world.coordinator, plan)["crisis"]
    assert crisis.empty_prompts == []
    assert not crisis.incomplete


def test_other_sections_are_never_flagged_incomplete(world):
    plan = make_plan(world)
    views = _sections(world.coordinator, plan)
    assert [code for code, view in views.items() if view.incomplete] == ["crisis"]


# --- WRAP suggestions -------------------------------------------------------------------


def _wrap_with_suggestion(world, text="Try the walking group on Thursdays."):
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    add_item(wrap, "wellness_toolbox", world.service_user_account, "Music",
             body="Playing guitar for half an hour.")
    suggestion = services.suggestion_create(plan=wrap, section_code="wellness_toolbox",
                                            text=text, suggested_by=world.coordinator)
    return wrap, suggestion


def _wrap_content(wrap):
    return [
        (item.pk, item.section, item.title, item.body, item.written_by, item.revision,
         item.removed_at)
        for item in PlanItem.objects.filter(plan=wrap).order_by("pk")
    ]


def test_a_suggestion_changes_nothing_until_the_owner_accepts_it(world):
    wrap, suggestion = _wrap_with_suggestion(world)
    toolbox = wrap.items.filter(section="wellness_toolbox")
    assert toolbox.count() == 1
    assert suggestion.status == Suggestion.Status.OPEN

    services.suggestion_answer(suggestion=suggestion, answered_by=world.service_user_account,
                               accept=True)

    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.ACCEPTED
    assert suggestion.answered_at is not None
    new = toolbox.exclude(title="Music").get()
    assert new.body == "Try the walking group on Thursdays."
    assert new.written_by == PlanItem.WrittenBy.SUGGESTION_ACCEPTED
    assert new.get_written_by_display() == (
        "Suggested by the care coordinator, accepted by the service user"
    )
    assert new.removed_at is None


def test_dismissing_a_suggestion_changes_nothing(world):
    wrap, suggestion = _wrap_with_suggestion(world)
    before = _wrap_content(wrap)
    revision_before = _content_revision(wrap)

    services.suggestion_answer(suggestion=suggestion, answered_by=world.service_user_account,
                               accept=False)

    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.DISMISSED
    assert _wrap_content(wrap) == before
    assert _content_revision(wrap) == revision_before


@pytest.mark.parametrize("first", [True, False], ids=["accepted", "dismissed"])
@pytest.mark.parametrize("second", [True, False], ids=["then-accept", "then-dismiss"])
def test_a_suggestion_is_answered_once(world, first, second):
    wrap, suggestion = _wrap_with_suggestion(world)
    services.suggestion_answer(suggestion=suggestion, answered_by=world.service_user_account,
                               accept=first)
    content = _wrap_content(wrap)
    with pytest.raises(PlanActionError):
        services.suggestion_answer(suggestion=suggestion,
                                   answered_by=world.service_user_account, accept=second)
    suggestion.refresh_from_db()
    assert suggestion.status == ("accepted" if first else "dismissed")
    assert _wrap_content(wrap) == content


def test_a_suggestion_must_name_a_section_the_wrap_has(world):
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    with pytest.raises(KeyError):
        services.suggestion_create(plan=wrap, section_code="crisis", text="x",
                                   suggested_by=world.coordinator)
    assert not Suggestion.objects.exists()


# --- Reviews ----------------------------------------------------------------------------


def _review(world, plan, held_on=None, next_review_on=None) -> Review:
    held_on = held_on or clock.today()
    return services.review_record(
        plan=plan, recorded_by=world.coordinator, held_on=held_on,
        attendees="Alex, Sam (care coordinator), Linda (Mum)",
        what_changed="Added the walking group to my goals.",
        next_review_on=next_review_on or held_on + dt.timedelta(weeks=12),
        carers_attended=[world.carer_relationship.carer],
    )


def test_a_review_sets_the_plans_next_review_date(world):
    plan = make_plan(world)
    held_on = dt.date(2025, 4, 1)
    review = _review(world, plan, held_on, dt.date(2025, 7, 1))

    plan.refresh_from_db()
    assert plan.next_review_on == dt.date(2025, 7, 1)
    review.refresh_from_db()
    assert review.held_on == held_on
    assert review.recorded_by == world.coordinator
    assert list(review.carers_attended.all()) == [world.carer_relationship.carer]
    assert review.listened_score is None


@pytest.mark.parametrize("days_after", [0, -1], ids=["same-day", "before"])
def test_the_next_review_must_be_after_this_one(world, days_after):
    plan = make_plan(world)
    _review(world, plan, dt.date(2025, 1, 1), dt.date(2025, 3, 1))
    held_on = dt.date(2025, 4, 1)
    with pytest.raises(ValidationError) as error:
        _review(world, plan, held_on, held_on + dt.timedelta(days=days_after))
    assert "next_review_on" in error.value.message_dict
    plan.refresh_from_db()
    assert plan.next_review_on == dt.date(2025, 3, 1)
    assert plan.reviews.count() == 1


@pytest.mark.parametrize("score", [1, 5])
def test_the_service_user_says_whether_they_felt_listened_to(world, score):
    review = _review(world, make_plan(world))
    services.review_listened_answer(review=review, answered_by=world.service_user_account,
                                    score=score, comment="Sam asked what I wanted first.")
    review.refresh_from_db()
    assert review.listened_score == score
    assert review.listened_comment == "Sam asked what I wanted first."
    assert review.listened_answered_at is not None


@pytest.mark.parametrize("score", [6, 0])
def test_listened_scores_outside_1_to_5_are_refused(world, score):
    review = _review(world, make_plan(world))
    with pytest.raises(ValidationError):
        services.review_listened_answer(review=review, answered_by=world.service_user_account,
                                        score=score, comment="")
    review.refresh_from_db()
    assert review.listened_score is None
    assert review.listened_answered_at is None


def test_reviews_are_for_care_plans(world):
    wrap = plan_with_content(world, PlanKind.WRAP)
    with pytest.raises(PlanActionError):
        _review(world, wrap)
    assert not Review.objects.exists()


# --- Every write is audited, and the chain stays whole ---------------------------------


@pytest.fixture
def scene(world):
    """A care plan with a goal and a review, a WRAP with a suggestion, and a version."""
    care_plan = plan_with_content(world)
    goal = add_goal(care_plan, world.coordinator)
    risk = add_item(care_plan, "risk", world.coordinator, "Driving again", body="With L plates")
    wrap, suggestion = _wrap_with_suggestion(world)
    second = services.suggestion_create(plan=wrap, section_code="triggers",
                                        text="Anniversaries", suggested_by=world.coordinator)
    review = _review(world, care_plan)
    return {"world": world, "care_plan": care_plan, "goal": goal, "risk": risk,
            "wrap": wrap, "suggestion": suggestion, "second_suggestion": second,
            "review": review}


def _propose_care_plan(s):
    return propose(s["care_plan"], s["world"].coordinator)


WRITES = {
    "plan.create": ("coordinator", lambda s: make_plan(
        s["world"], PlanKind.RESPONSIBILITY_AGREEMENT)),
    "plan_item.create": ("coordinator", lambda s: add_item(
        s["care_plan"], "needs_support", s["world"].coordinator, "Help with benefits")),
    "plan_item.update": ("service_user_account", lambda s: write(
        prompt_item(s["care_plan"], "hopes"), s["world"].service_user_account, "To travel")),
    "plan_item.remove": ("coordinator", lambda s: services.item_remove(
        item=s["risk"], removed_by=s["world"].coordinator,
        expected_revision=s["risk"].revision)),
    "goal.agree": ("service_user_account", lambda s: services.goal_agree(
        item=s["goal"], agreed_by=s["world"].service_user_account, party="service_user")),
    "goal.progress": ("service_user_account", lambda s: services.progress_record(
        item=s["goal"], recorded_by=s["world"].service_user_account,
        recorded_on=dt.date(2025, 5, 1), rating=6, note="Went once")),
    "plan_version.propose": ("coordinator", _propose_care_plan),
    "plan_version.sign": ("service_user_account", lambda s: sign(
        _propose_care_plan(s), s["world"].service_user_account)),
    "plan_version.decline": ("service_user_account", lambda s: services.version_decline(
        version=_propose_care_plan(s), signer=s["world"].service_user_account,
        role="service_user", reason="Not yet")),
    "review.record": ("coordinator", lambda s: _review(s["world"], s["care_plan"])),
    "review.listened_answer": ("service_user_account", lambda s: services.review_listened_answer(
        review=s["review"], answered_by=s["world"].service_user_account, score=4,
        comment="Mostly")),
    "suggestion.create": ("coordinator", lambda s: services.suggestion_create(
        plan=s["wrap"], section_code="post_crisis", text="A quiet day after",
        suggested_by=s["world"].coordinator)),
    "suggestion.accept": ("service_user_account", lambda s: services.suggestion_answer(
        suggestion=s["suggestion"], answered_by=s["world"].service_user_account,
        accept=True)),
    "suggestion.dismiss": ("service_user_account", lambda s: services.suggestion_answer(
        suggestion=s["second_suggestion"], answered_by=s["world"].service_user_account,
        accept=False)),
}


@pytest.mark.parametrize("action", list(WRITES))
def test_every_write_records_an_access_event_and_the_chain_stays_whole(scene, action):
    world = scene["world"]
    actor_attr, do = WRITES[action]
    actor = getattr(world, actor_attr)
    last_id = AccessEvent.objects.order_by("-id").values_list("id", flat=True).first() or 0

    do(scene)

    new = list(AccessEvent.objects.filter(id__gt=last_id).order_by("id"))
    assert action in [event.action for event in new], (
        f"no {action!r} event; got {[event.action for event in new]}"
    )
    event = next(event for event in new if event.action == action)
    assert event.actor == actor
    assert event.service_user == world.service_user
    assert event.target
    assert audit_chain_extend() > 0
    assert audit_chain_verify() is None


def test_a_whole_care_plan_session_leaves_a_valid_chain(scene):
    world = scene["world"]
    fill_crisis(scene["care_plan"], world.service_user_account)
    version = propose(scene["care_plan"], world.coordinator)
    sign(version, world.service_user_account)
    sign(version, world.coordinator)
    assert audit_chain_extend() > 0
    assert audit_chain_verify() is None
    actions = set(AccessEvent.objects.filter(service_user=world.service_user)
                  .values_list("action", flat=True))
    assert {"plan.create", "plan_item.create", "plan_item.update", "plan_version.propose",
            "plan_version.sign", "review.record", "suggestion.create"} <= actions
    assert ItemChange.objects.filter(item__plan=scene["care_plan"]).count() >= 9
