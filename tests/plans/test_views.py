"""The plan pages as people meet them, through Django's test client: what each person
sees in the HTML when a care plan is started, written together, agreed goal by goal,
proposed, signed or declined, reviewed and printed — and that nobody outside the plan
gets anything but "not found"."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils import timezone
from django.utils.dateformat import format as date_format

from plans import services
from plans.models import (
    GoalAgreement,
    ItemChange,
    Plan,
    PlanItem,
    PlanVersion,
    ProgressUpdate,
    Review,
    Signature,
    Suggestion,
)
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.forms import date_parts, typed
from tests.plans.factories import add_item, make_plan, prompt_item, propose, write

# --- Reading pages the way people do ----------------------------------------------------


def _page(response) -> str:
    return response.content.decode()


def _plain(markup: str) -> str:
    """Markup as the words on the screen (tags gone, entities decoded, spaces collapsed)."""
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    markup = re.sub(r"<[^>]+>", " ", markup)
    return " ".join(html_lib.unescape(markup).split())


def _text(response) -> str:
    return _plain(_page(response))


def _between(markup: str, start: str, *ends: str) -> str:
    """The markup from `start` up to the first of `ends` after it (or to the end)."""
    begin = markup.index(start)
    stops = [i for i in (markup.find(end, begin + len(start)) for end in ends) if i != -1]
    return markup[begin:min(stops) if stops else len(markup)]


def _item_card(response, item: PlanItem) -> str:
    """The words of one item's card on the plan page."""
    return _plain(_between(_page(response), f'id="item-{item.pk}"', "app-plan-item", "</section>"))


def _section(response, code: str) -> str:
    return _between(_page(response), f'id="section-{code}"', "</section>")


def _crisis_warning(response) -> str | None:
    section = _section(response, "crisis")
    if "nhsuk-warning-callout" not in section:
        return None
    return _plain(_between(section, "nhsuk-warning-callout", "app-plan-item", "</section>"))


def _textarea(response, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{name}"[^>]*>(.*?)</textarea>', _page(response),
                      re.S)
    assert match, f"no textarea {name!r} on the page"
    return html_lib.unescape(match.group(1)).strip("\r\n")


def _input_value(response, input_id: str) -> str:
    match = re.search(rf'<input[^>]*id="{input_id}"[^>]*>', _page(response))
    assert match, f"no input #{input_id} on the page"
    value = re.search(r'value="([^"]*)"', match.group(0))
    return html_lib.unescape(value.group(1)) if value else ""


def _form_revision(response) -> int:
    return int(_input_value(response, "id_revision"))


def _signed_row(response) -> str:
    """The "Signed" row of the plan page's summary."""
    return _plain(_between(_page(response), '<dt class="nhsuk-summary-list__key">Signed</dt>',
                           "</dd>"))


def _long_date(value: dt.date) -> str:
    return date_format(value, "j F Y")


def _plan_url(plan) -> str:
    return reverse("plan_detail", args=[plan.pk])


def _edit_url(item) -> str:
    return reverse("item_edit", args=[item.pk])


def _goal_data(title="Swim at the leisure centre again", body="Twice a week, with my brother.",
               domain="connectedness", target_on: dict | None = None) -> dict:
    """`target_on`: the date boxes as typed (tests.forms.typed), or a good date."""
    return {"title": title, "body": body, "domain": domain,
            **(target_on or date_parts("target_on", clock.days(540)))}


def _propose(client, plan) -> PlanVersion:
    response = client.post(reverse("version_propose", args=[plan.pk]))
    version = plan.versions.order_by("-number").first()
    assert version is not None, _text(client.get(_plan_url(plan)))
    assert response.status_code == 302
    assert response["Location"] == reverse("version_detail", args=[version.pk])
    return version


def _sign(client, version, password=PASSWORD):
    return client.post(reverse("version_detail", args=[version.pk]),
                       {"action": "sign", "sign-password": password})


@pytest.fixture
def care_plan(world) -> Plan:
    return make_plan(world)


# --- Starting a care plan ---------------------------------------------------------------


def test_starting_a_care_plan_opens_with_own_words_then_the_crisis_questions(
    world, coordinator_client
):
    response = coordinator_client.post(
        reverse("plan_start", args=[world.service_user.pk, PlanKind.CARE_PLAN])
    )

    plan = Plan.objects.get(service_user=world.service_user, kind=PlanKind.CARE_PLAN)
    assert response.status_code == 302
    assert response["Location"] == _plan_url(plan)

    page = coordinator_client.get(_plan_url(plan))
    assert page.status_code == 200
    text = _text(page)
    assert f"{world.service_user.name}'s care plan" in text
    headings = re.findall(r'<h2 id="section-[a-z_]+-heading">([^<]+)</h2>', _page(page))
    assert headings[:2] == ["What recovery means to me", "My hopes and aspirations"]
    assert "Crisis and contingency plan" in headings
    assert headings.index("Crisis and contingency plan") > 1

    # Every crisis question is asked, in plain words, and each is listed as unanswered.
    warning = _crisis_warning(page)
    assert warning is not None
    assert "This crisis plan is not complete" in warning
    assert "These questions have not been answered yet" in warning
    for prompt in CRISIS_PROMPTS:
        assert prompt.title in warning, prompt.title
        assert prompt.title in _plain(_section(page, "crisis"))


def test_the_crisis_warning_lists_only_what_is_unanswered_and_goes_when_all_eight_are_written(
    world, care_plan, coordinator_client
):
    prompts = list(CRISIS_PROMPTS)
    for index, prompt in enumerate(prompts):
        item = prompt_item(care_plan, prompt.code)
        edit = coordinator_client.get(_edit_url(item))
        assert edit.status_code == 200
        saved = coordinator_client.post(_edit_url(item), {
            "revision": _form_revision(edit),
            "body": f"For {prompt.title.lower()}: something specific to Alex.",
        })
        assert saved.status_code == 302, _text(saved)

        page = coordinator_client.get(_plan_url(care_plan))
        warning = _crisis_warning(page)
        unanswered = prompts[index + 1:]
        if not unanswered:
            assert warning is None
            assert "This crisis plan is not complete" not in _text(page)
            break
        assert warning is not None
        for answered in prompts[:index + 1]:
            assert answered.title not in warning
        for waiting in unanswered:
            assert waiting.title in warning
        if len(unanswered) == 1:
            assert "This question has not been answered yet" in warning

    text = _text(coordinator_client.get(_plan_url(care_plan)))
    for prompt in prompts:
        assert f"For {prompt.title.lower()}: something specific to Alex." in text


# --- Attribution --------------------------------------------------------------------------


def test_attribution_shows_who_wrote_each_item(world, care_plan, coordinator_client,
                                               service_user_client):
    hopes = prompt_item(care_plan, "hopes")
    recovery = prompt_item(care_plan, "recovery_meaning")

    response = coordinator_client.post(_edit_url(hopes), {
        "revision": hopes.revision,
        "body": "To go back to college and train as a chef.",
        "recorded_in_meeting": "on",
    })
    assert response.status_code == 302
    response = service_user_client.post(_edit_url(recovery), {
        "revision": recovery.revision, "body": "Seeing my friends and cooking for myself.",
    })
    assert response.status_code == 302
    needs = add_item(care_plan, "needs_support", world.coordinator, "Housing",
                     body="Help with the housing application.")

    for client in (coordinator_client, service_user_client):
        page = client.get(_plan_url(care_plan))
        hopes_card = _item_card(page, hopes)
        assert "To go back to college and train as a chef." in hopes_card
        assert "Recorded by the care coordinator in a meeting" in hopes_card
        recovery_card = _item_card(page, recovery)
        assert "Seeing my friends and cooking for myself." in recovery_card
        assert "Written by the service user" in recovery_card
        assert "Recorded by the care coordinator" not in recovery_card
        assert "Written by the care coordinator" in _item_card(page, needs)


# --- Co-editing without lost work ---------------------------------------------------------


def test_a_stale_save_gets_the_conflict_page_with_both_texts_and_nothing_is_lost(
    world, care_plan, coordinator_client, service_user_client
):
    item = prompt_item(care_plan, "recovery_meaning")
    theirs = "Being able to go to work and see my friends at the weekend."
    mine = "Alex said: working again, and weekends with friends (from our meeting)."

    coordinator_form = coordinator_client.get(_edit_url(item))
    service_user_form = service_user_client.get(_edit_url(item))
    assert coordinator_form.status_code == service_user_form.status_code == 200
    opened_at = _form_revision(coordinator_form)
    assert _form_revision(service_user_form) == opened_at

    saved = service_user_client.post(_edit_url(item), {"revision": opened_at, "body": theirs})
    assert saved.status_code == 302

    conflict = coordinator_client.post(_edit_url(item), {"revision": opened_at, "body": mine,
                                                         "recorded_in_meeting": "on"})
    assert conflict.status_code == 409
    text = _text(conflict)
    assert "Someone else changed this while you were writing" in text
    assert theirs in text  # what is saved now
    assert mine in text  # what they typed
    assert _textarea(conflict, "body") == mine  # still in the form, ready to save
    item.refresh_from_db()
    assert item.body == theirs  # nothing overwritten
    new_revision = _form_revision(conflict)
    assert new_revision == item.revision == opened_at + 1
    assert "Save my version" in text

    again = coordinator_client.post(_edit_url(item), {"revision": new_revision, "body": mine,
                                                      "recorded_in_meeting": "on"})
    assert again.status_code == 302
    item.refresh_from_db()
    assert item.body == mine
    assert item.written_by == PlanItem.WrittenBy.RECORDED_IN_MEETING
    # Both saves are in its history, so the service user's words are still there too.
    changes = list(ItemChange.objects.filter(item=item).order_by("revision"))
    assert [(c.changed_by, c.before["body"], c.after["body"]) for c in changes] == [
        (world.service_user_account, "", theirs),
        (world.coordinator, theirs, mine),
    ]
    history = _text(coordinator_client.get(reverse("item_history", args=[item.pk])))
    assert theirs in history
    assert mine in history


# --- Forms keep what people typed ---------------------------------------------------------


def test_a_goal_without_a_title_or_with_an_impossible_date_keeps_what_was_typed(
    care_plan, coordinator_client
):
    url = reverse("item_add", args=[care_plan.pk, "goals"])
    body = "Walk to the shop on my own, then to the park."

    no_title = coordinator_client.post(url, _goal_data(title="", body=body))
    assert no_title.status_code == 200
    text = _text(no_title)
    assert "There is a problem" in text
    assert "Write the goal" in text
    assert _textarea(no_title, "body") == body

    bad_date = coordinator_client.post(url, _goal_data(
        title="Walk on my own", body=body,
        target_on=typed("target_on", "31", "2", str(clock.days(540).year))))
    assert bad_date.status_code == 200
    text = _text(bad_date)
    assert "There is a problem" in text
    assert "Target date must be a real date" in text
    # What was typed stays in the boxes, even though it is not a date.
    assert _input_value(bad_date, "id_target_on_day") == "31"
    assert _input_value(bad_date, "id_target_on_month") == "2"
    assert _textarea(bad_date, "body") == body
    assert _input_value(bad_date, "id_title") == "Walk on my own"
    assert not care_plan.items.filter(section="goals").exists()


# --- WRAP belongs to the service user -----------------------------------------------------


def _wrap_state(plan) -> list[tuple]:
    return list(plan.items.order_by("pk").values_list(
        "pk", "title", "body", "details", "revision", "written_by", "removed_at"))


def test_a_coordinator_cannot_change_wrap_content_on_any_page(world, coordinator_client,
                                                              service_user_client):
    wrap = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    walking = add_item(wrap, "wellness_toolbox", world.service_user_account, "Walking the dog",
                       body="Every morning, whatever the weather.")
    supporters = prompt_item(wrap, "supporters")
    suggestion = services.suggestion_create(plan=wrap, section_code="wellness_toolbox",
                                            text="Calling your sister on Sundays.",
                                            suggested_by=world.coordinator)
    before = _wrap_state(wrap)
    edit = {"revision": walking.revision, "title": "Walking", "body": "Coordinator's words."}

    attempts = [
        ("get", _edit_url(walking), {}),
        ("post", _edit_url(walking), edit),
        ("get", _edit_url(supporters), {}),
        ("post", _edit_url(supporters), {"revision": supporters.revision, "body": "Mum."}),
        ("get", reverse("item_add", args=[wrap.pk, "wellness_toolbox"]), {}),
        ("post", reverse("item_add", args=[wrap.pk, "wellness_toolbox"]),
         {"title": "Coordinator's item", "body": "Added by the coordinator."}),
        ("post", reverse("item_remove", args=[walking.pk]), {"revision": walking.revision}),
        ("post", reverse("suggestion_answer", args=[suggestion.pk, "accept"]), {}),
        ("post", reverse("suggestion_answer", args=[suggestion.pk, "dismiss"]), {}),
    ]
    for method, url, data in attempts:
        response = getattr(coordinator_client, method)(url, data)
        assert response.status_code == 404, (method, url, response.status_code)
        assert _wrap_state(wrap) == before, (method, url)
    suggestion.refresh_from_db()
    assert suggestion.status == Suggestion.Status.OPEN

    # They can read it, with no way to change it, and may suggest something.
    page = coordinator_client.get(_plan_url(wrap))
    assert page.status_code == 200
    assert "Every morning, whatever the weather." in _text(page)
    assert _edit_url(walking) not in _page(page)
    assert reverse("item_remove", args=[walking.pk]) not in _page(page)
    assert "Calling your sister on Sundays." in _text(page)
    assert f"Waiting for {world.service_user.name} to accept or dismiss it." in _text(page)

    sent = coordinator_client.post(reverse("suggestion_add", args=[wrap.pk, "triggers"]),
                                   {"text": "Noticing when the bills pile up."})
    assert sent.status_code == 302
    assert _wrap_state(wrap) == before  # a suggestion changes nothing by itself
    mine = Suggestion.objects.get(plan=wrap, section="triggers")

    own_page = service_user_client.get(_plan_url(wrap))
    assert "Noticing when the bills pile up." in _plain(_section(own_page, "triggers"))
    assert reverse("suggestion_answer", args=[mine.pk, "accept"]) in _page(own_page)

    accepted = service_user_client.post(reverse("suggestion_answer", args=[mine.pk, "accept"]),
                                        follow=True)
    assert accepted.status_code == 200
    assert "The suggestion has been added to your WRAP." in _text(accepted)
    added = wrap.items.get(section="triggers", prompt="")
    assert added.body == "Noticing when the bills pile up."
    card = _item_card(accepted, added)
    assert "Noticing when the bills pile up." in card
    assert "Suggested by the care coordinator, accepted by the service user" in card
    mine.refresh_from_db()
    assert mine.status == Suggestion.Status.ACCEPTED


# --- Goals: agreed by both, progress over time --------------------------------------------


def test_a_goal_is_agreed_only_when_the_service_user_and_the_coordinator_both_agree(
    world, care_plan, coordinator_client, service_user_client
):
    su_name = world.service_user.name
    proposed = service_user_client.post(reverse("item_add", args=[care_plan.pk, "goals"]),
                                        _goal_data())
    assert proposed.status_code == 302
    goal = care_plan.items.get(section="goals")
    assert goal.written_by == PlanItem.WrittenBy.SERVICE_USER

    own = _item_card(service_user_client.get(_plan_url(care_plan)), goal)
    assert "Swim at the leisure centre again" in own
    assert "Not agreed yet" in own
    assert "Waiting for you and your care coordinator to agree" in own
    assert "Connectedness" in own
    assert date_format(clock.days(540), "j F Y") in own
    coordinator_card = _item_card(coordinator_client.get(_plan_url(care_plan)), goal)
    assert f"Waiting for {su_name} and you to agree" in coordinator_card
    assert "I agree to this goal" in coordinator_card

    agreed = coordinator_client.post(reverse("goal_agree", args=[goal.pk]),
                                     {"revision": goal.revision}, follow=True)
    assert agreed.status_code == 200
    card = _item_card(agreed, goal)
    assert f"You agreed. Waiting for {su_name} to agree" in card
    assert "Not agreed yet" in card
    assert "I agree to this goal" not in card
    own = _item_card(service_user_client.get(_plan_url(care_plan)), goal)
    assert "agreed. Waiting for you to agree" in own
    assert "Not agreed yet" in own

    agreed = service_user_client.post(reverse("goal_agree", args=[goal.pk]),
                                      {"revision": goal.revision}, follow=True)
    card = _item_card(agreed, goal)
    assert "Not agreed yet" not in card
    assert "Agreed" in card
    assert f"Agreed by you and {world.coordinator.display_name}" in card
    assert f"Agreed by {su_name} and you" in _item_card(
        coordinator_client.get(_plan_url(care_plan)), goal)
    assert set(GoalAgreement.objects.filter(item=goal).values_list("party", "agreed_by")) == {
        ("coordinator", world.coordinator.pk), ("service_user", world.service_user_account.pk),
    }


def test_a_goal_names_the_coordinator_who_agreed_exactly_as_they_are_named(
    world, care_plan, coordinator_client, service_user_client
):
    """"Sam Coordinator agreed", not "Sam coordinator agreed": a person's name is never
    re-cased."""
    service_user_client.post(reverse("item_add", args=[care_plan.pk, "goals"]), _goal_data())
    goal = care_plan.items.get(section="goals")
    coordinator_client.post(reverse("goal_agree", args=[goal.pk]), {"revision": goal.revision})

    own = _item_card(service_user_client.get(_plan_url(care_plan)), goal)

    expected = f"{world.coordinator.display_name} agreed. Waiting for you to agree"
    assert expected in own, f"expected “{expected}” in: {own}"


def test_agreeing_to_words_that_changed_since_the_page_was_opened_records_nothing(
    world, care_plan, coordinator_client, service_user_client
):
    service_user_client.post(reverse("item_add", args=[care_plan.pk, "goals"]), _goal_data())
    goal = care_plan.items.get(section="goals")
    seen_revision = goal.revision
    changed = coordinator_client.post(_edit_url(goal), {
        "revision": goal.revision, **_goal_data(title="Swim once a week"),
    })
    assert changed.status_code == 302

    response = service_user_client.post(reverse("goal_agree", args=[goal.pk]),
                                        {"revision": seen_revision}, follow=True)

    assert response.status_code == 200
    assert "This goal changed after you opened the page" in _text(response)
    assert not GoalAgreement.objects.filter(item=goal).exists()
    assert "Not agreed yet" in _item_card(response, goal)
    assert "Swim once a week" in _item_card(response, goal)


def test_progress_is_shown_as_a_timeline_and_a_wrong_rating_keeps_the_input(
    world, care_plan, service_user_client
):
    service_user_client.post(reverse("item_add", args=[care_plan.pk, "goals"]), _goal_data())
    goal = care_plan.items.get(section="goals")
    url = reverse("progress_add", args=[goal.pk])
    today = clock.today()

    saved = service_user_client.post(url, {**date_parts("recorded_on", today), "rating": "7",
                                           "note": "Went twice this week."}, follow=True)
    assert saved.status_code == 200
    table = _plain(_between(_page(saved), 'class="nhsuk-table app-progress-table"', "</table>"))
    assert f"{_long_date(today)} 7 Went twice this week." in table
    assert "app-progress-chart" in _page(saved)

    wrong = service_user_client.post(url, {**date_parts("recorded_on", today), "rating": "11",
                                           "note": "Went three times!"})
    assert wrong.status_code == 200
    text = _text(wrong)
    assert "There is a problem" in text
    assert "Enter a number from 0 to 10" in text
    assert _input_value(wrong, "id_rating") == "11"
    assert _textarea(wrong, "note") == "Went three times!"
    assert list(ProgressUpdate.objects.filter(item=goal).values_list("rating", flat=True)) == [7]


# --- Versions and signatures --------------------------------------------------------------


def test_propose_sign_agree_then_edit_starts_a_new_draft_and_the_diff_shows_the_change(
    world, care_plan, coordinator_client, service_user_client
):
    recovery = prompt_item(care_plan, "recovery_meaning")
    first_words = "Being able to see my friends and cook for myself."
    write(recovery, world.service_user_account, first_words)

    version = _propose(coordinator_client, care_plan)
    page = coordinator_client.get(reverse("version_detail", args=[version.pk]))
    text = _text(page)
    assert version.content_hash in text
    assert len(version.content_hash) == 64
    assert "Waiting for signatures" in text
    assert first_words in text

    wrong = _sign(coordinator_client, version, password="not-my-password")
    assert wrong.status_code == 200
    page = _page(wrong)
    assert 'id="id_sign-password-error"' in page, "the error is not on the password field"
    error = _plain(_between(page, 'id="id_sign-password-error"', "<input", "</div>"))
    assert "The password is not right" in error
    password_input = re.search(r'<input[^>]*id="id_sign-password"[^>]*>', page).group(0)
    assert "nhsuk-input--error" in password_input
    assert "id_sign-password-error" in password_input  # aria-describedby
    assert "There is a problem" in _text(wrong)
    assert not Signature.objects.filter(version=version).exists()

    assert _sign(coordinator_client, version).status_code == 302
    assert "Waiting for signatures" in _text(
        service_user_client.get(reverse("version_detail", args=[version.pk])))
    assert _sign(service_user_client, version).status_code == 302

    version.refresh_from_db()
    assert version.agreed_at is not None
    agreed_on = f"Agreed on {_long_date(timezone.localdate(version.agreed_at))}"
    assert agreed_on in _text(service_user_client.get(reverse("version_detail",
                                                              args=[version.pk])))
    for client in (coordinator_client, service_user_client):
        row = _signed_row(client.get(_plan_url(care_plan)))
        assert f"Version 1: {agreed_on}" in row
        assert "changes since then" not in row

    # The service user changes their words: a new draft; version 1 stays as agreed.
    second_words = "Seeing my friends, cooking, and going back to work part-time."
    edit = service_user_client.get(_edit_url(recovery))
    assert service_user_client.post(_edit_url(recovery), {
        "revision": _form_revision(edit), "body": second_words,
    }).status_code == 302
    row = _signed_row(service_user_client.get(_plan_url(care_plan)))
    assert f"Version 1: {agreed_on}" in row
    assert "There are changes since then that nobody has signed yet." in row
    old = _text(service_user_client.get(reverse("version_detail", args=[version.pk])))
    assert first_words in old
    assert second_words not in old
    assert agreed_on in old

    second = _propose(service_user_client, care_plan)
    assert second.number == 2
    assert "Waiting for signatures" in _text(
        coordinator_client.get(reverse("version_detail", args=[second.pk])))

    diff = coordinator_client.get(reverse("version_diff", args=[care_plan.pk, 1, 2]))
    assert diff.status_code == 200
    rows = re.findall(r'<tr class="nhsuk-table__row">(.*?)</tr>',
                      _between(_page(diff), "<tbody", "</tbody>"), re.S)
    assert len(rows) == 1
    cells = re.findall(r'<td class="nhsuk-table__cell">(.*?)</td>', rows[0], re.S)
    assert "Changed" in _plain(cells[0])
    assert "What recovery means to me" in _plain(cells[0])
    assert first_words in _plain(cells[1])
    assert second_words not in _plain(cells[1])
    assert second_words in _plain(cells[2])
    assert first_words not in _plain(cells[2])
    # The plan page links the two.
    assert reverse("version_diff", args=[care_plan.pk, 1, 2]) in _page(
        coordinator_client.get(_plan_url(care_plan)))


def test_a_service_user_who_declines_has_their_reason_shown_in_their_words(
    world, care_plan, coordinator_client, service_user_client
):
    write(prompt_item(care_plan, "hopes"), world.service_user_account, "To train as a chef.")
    version = _propose(coordinator_client, care_plan)
    reason = "I'm not signing until my sister's name is in the crisis plan."

    declined = service_user_client.post(reverse("version_detail", args=[version.pk]),
                                        {"action": "decline", "decline-reason": reason})
    assert declined.status_code == 302

    text = _text(coordinator_client.get(reverse("version_detail", args=[version.pk])))
    assert f"Not signed: {world.service_user.name} said why" in text
    assert reason in text
    assert "Did not sign" in text
    assert "Waiting for signatures" not in text
    assert Signature.objects.get(version=version).decision == Signature.Decision.DECLINED
    assert f"Version 1: Not signed: {world.service_user.name} said why" in _signed_row(
        coordinator_client.get(_plan_url(care_plan)))


# --- Reviews --------------------------------------------------------------------------------


def test_a_review_sets_the_next_date_asks_if_they_felt_listened_to_and_shows_on_the_caseload(
    world, care_plan, coordinator_client, service_user_client
):
    today = clock.today()
    next_review = today + dt.timedelta(weeks=10)
    carer = world.carer_relationship.carer
    assert coordinator_client.get(reverse("review_add", args=[care_plan.pk])).status_code == 200

    recorded = coordinator_client.post(reverse("review_add", args=[care_plan.pk]), {
        **date_parts("held_on", today),
        "attendees": "Alex, Sam (care coordinator), Alex's mum",
        "carers_attended": [carer.pk],
        "what_changed": "Added a goal about going back to college.",
        **date_parts("next_review_on", next_review),
    })
    assert recorded.status_code == 302, _text(recorded)
    review = Review.objects.get(plan=care_plan)

    plan_text = _text(coordinator_client.get(_plan_url(care_plan)))
    assert f"Next review {_long_date(next_review)}" in plan_text
    assert "Added a goal about going back to college." in plan_text
    assert f"Carers who came: {carer.name}" in plan_text
    assert f"Did {world.service_user.name} feel listened to? Not answered yet." in plan_text

    home = service_user_client.get(reverse("home"))
    assert "Did you feel listened to?" in _text(home)
    assert reverse("review_answer", args=[review.pk]) in _page(home)

    answer = service_user_client.post(reverse("review_answer", args=[review.pk]),
                                      {"score": "4", "comment": "Sam listened, mostly."})
    assert answer.status_code == 302
    for client in (coordinator_client, service_user_client):
        text = _text(client.get(_plan_url(care_plan)))
        assert "Mostly (4 out of 5)" in text
        assert "“Sam listened, mostly.”" in text
    assert reverse("review_answer", args=[review.pk]) not in _page(
        service_user_client.get(reverse("home")))

    caseload = _plain(_between(_page(coordinator_client.get(reverse("home"))),
                               "caseload-heading", "</table>"))
    assert world.service_user.name in caseload
    assert f"Next care plan review {date_format(next_review, 'j M Y')}" in caseload
    assert "Overdue" not in caseload

    overdue = today - dt.timedelta(days=3)
    Plan.objects.filter(pk=care_plan.pk).update(next_review_on=overdue)
    caseload = _plain(_between(_page(coordinator_client.get(reverse("home"))),
                               "caseload-heading", "</table>"))
    assert f"Overdue {date_format(overdue, 'j M Y')}" in caseload
    assert "Overdue" in _text(coordinator_client.get(_plan_url(care_plan)))


# --- Print view ---------------------------------------------------------------------------


def test_the_print_view_shows_the_plan_without_any_buttons(world, care_plan, coordinator_client):
    write(prompt_item(care_plan, "recovery_meaning"), world.service_user_account,
          "Cooking for my friends again.")
    add_item(care_plan, "goals", world.service_user_account, "Swim again",
             body="At the leisure centre.", details={"domain": "hope",
                                                     "target_on": clock.days(540)})
    propose(care_plan, world.coordinator)

    response = coordinator_client.get(reverse("plan_print", args=[care_plan.pk]))

    assert response.status_code == 200
    page = _page(response)
    text = _text(response)
    assert "Cooking for my friends again." in text
    assert "Swim again" in text
    assert "What recovery means to me" in text
    assert "<form" not in page
    assert "<button" not in page
    assert "/edit/" not in page
    assert "I agree to this goal" not in text
    assert "Ask for signatures" not in text


# --- Nobody else sees any of it -----------------------------------------------------------


OUTSIDERS = ["other_coordinator", "carer_account", "manager", "admin",
             "other_service_user_account", "no_role"]


@pytest.mark.parametrize("outsider", OUTSIDERS)
def test_people_outside_the_plan_get_not_found_everywhere(world, care_plan, outsider):
    item = prompt_item(care_plan, "recovery_meaning")
    write(item, world.service_user_account, "Private words about recovery.")
    first = propose(care_plan, world.coordinator)
    write(item, world.service_user_account, "Private words, changed.")
    second = propose(care_plan, world.coordinator)
    client = client_for(getattr(world, outsider))

    pages = [
        _plan_url(care_plan),
        _edit_url(item),
        reverse("version_detail", args=[first.pk]),
        reverse("version_detail", args=[second.pk]),
        reverse("version_diff", args=[care_plan.pk, first.number, second.number]),
        reverse("plan_print", args=[care_plan.pk]),
        reverse("item_history", args=[item.pk]),
    ]
    seen = {url: client.get(url).status_code for url in pages}
    assert seen == dict.fromkeys(pages, 404)

    writes = [
        (_edit_url(item), {"revision": item.revision + 2, "body": "Overwritten."}),
        (reverse("version_detail", args=[second.pk]),
         {"action": "sign", "sign-password": PASSWORD}),
        (reverse("version_propose", args=[care_plan.pk]), {}),
        (reverse("item_add", args=[care_plan.pk, "goals"]), _goal_data()),
        (reverse("plan_start", args=[world.service_user.pk, PlanKind.WRAP]), {}),
    ]
    posted = {url: client.post(url, data).status_code for url, data in writes}
    assert posted == dict.fromkeys(posted, 404)
    item.refresh_from_db()
    assert item.body == "Private words, changed."
    assert not Signature.objects.filter(version__plan=care_plan).exists()
    assert care_plan.versions.count() == 2
    assert not care_plan.items.filter(section="goals").exists()
    assert not Plan.objects.filter(service_user=world.service_user,
                                   kind=PlanKind.WRAP).exists()


# --- A fixed number of queries however long the plan ----------------------------------------


def _add_goals(world, plan, count: int, start: int) -> None:
    today = clock.today()
    for number in range(start, start + count):
        goal = add_item(plan, "goals", world.service_user_account, f"Goal {number}",
                        body=f"About goal {number}.",
                        details={"domain": "hope", "target_on": clock.days(400)})
        services.goal_agree(item=goal, agreed_by=world.coordinator, party="coordinator")
        for day in range(5):
            services.progress_record(item=goal, recorded_by=world.service_user_account,
                                     recorded_on=today - dt.timedelta(days=10 - day),
                                     rating=day + 3, note=f"Update {day}")


def _shape(sql: str) -> str:
    """A query with its values taken out, so repeats of one query can be counted."""
    sql = re.sub(r"'[^']*'", "?", sql)
    sql = re.sub(r'"s\d+_x\d+"', "?", sql)  # savepoint names
    sql = re.sub(r"\b\d+\b", "?", sql)
    return re.sub(r"IN \((\?, )*\?\)", "IN (...)", sql)


def _plan_page_queries(client, plan) -> list[str]:
    client.get(_plan_url(plan))  # warm caches (session, user, content types)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(_plan_url(plan))
    assert response.status_code == 200
    return [_shape(query["sql"]) for query in captured.captured_queries]


@pytest.mark.parametrize("viewer", ["coordinator", "service_user_account"])
def test_the_plan_page_makes_the_same_number_of_queries_for_3_goals_and_for_30(
    world, care_plan, viewer
):
    client = client_for(getattr(world, viewer))
    _add_goals(world, care_plan, 3, start=1)
    few = _plan_page_queries(client, care_plan)
    assert _text(client.get(_plan_url(care_plan))).count("Progress on “Goal") == 3

    _add_goals(world, care_plan, 27, start=4)
    many = _plan_page_queries(client, care_plan)
    assert _text(client.get(_plan_url(care_plan))).count("Progress on “Goal") == 30

    grown = {shape[:300]: many.count(shape) - few.count(shape) for shape in set(many)
             if many.count(shape) > few.count(shape)}
    assert len(many) == len(few), (
        f"{len(few)} queries with 3 goals, {len(many)} with 30 (N+1). Queries that grew, "
        f"with how many more times they ran: {grown}"
    )
