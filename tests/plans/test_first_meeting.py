"""The first meeting (issue 11, point 5; ADR 0017): an allocated care coordinator goes
through five questions, one a page, starting with "What does recovery mean to you?";
every answer is saved on the server as a draft, any step can be skipped and come back to,
and "Save to the care plan" writes the opening sections in the person's own words (said
by them, recorded by the coordinator), which the service user can then change. Anyone
else gets "not found"."""

from __future__ import annotations

import datetime as dt
import html as html_lib
import re

import pytest
from django.urls import reverse

from carecoord.audit.models import AccessEvent
from carecoord.records.models import Episode
from carecoord.todo.selectors import things_to_do
from plans.models import FirstMeeting, Plan, PlanItem
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.plans.factories import add_item, make_plan

pytestmark = pytest.mark.django_db

RECOVERY = "Being able to go to the allotment with my dad again, and sleeping through."
HOPES = "A part-time job in a garden centre by the summer."
MATTERS = "My dog, Bramble. Having my own front door."
WHO = "My dad Pete, and my friend Jo from college."


def _plain(response) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", response.content.decode(), flags=re.S)
    return " ".join(html_lib.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def _step(world, code: str) -> str:
    return reverse("first_meeting_step", args=[world.service_user.pk, code])


def _check(world) -> str:
    return reverse("first_meeting_check", args=[world.service_user.pk])


def _answers(world) -> dict:
    meeting = FirstMeeting.objects.filter(episode__service_user=world.service_user).first()
    return meeting.answers if meeting else {}


def _date_data(day: dt.date) -> dict:
    return {"day": str(day.day), "month": str(day.month), "year": str(day.year)}


def _answer_all(client, world, end: dt.date) -> None:
    for code, text in (("recovery", RECOVERY), ("hopes", HOPES), ("what_matters", MATTERS),
                       ("who_matters", WHO)):
        assert client.post(_step(world, code), {"answer": text}).status_code == 302
    assert client.post(_step(world, "planned_end"), _date_data(end)).status_code == 302


# --- Each step ---------------------------------------------------------------------------


def test_the_first_question_is_what_recovery_means_to_them(world):
    client = client_for(world.coordinator)
    start = client.get(reverse("first_meeting", args=[world.service_user.pk]))
    assert start.status_code == 302
    assert start.url == _step(world, "recovery")
    page = _plain(client.get(start.url))
    assert "Step 1 of 5" in page
    assert "What does recovery mean to you?" in page
    assert "Skip this question" in page
    assert 'data-module="nhsuk-character-count"' in client.get(start.url).content.decode()


@pytest.mark.parametrize(("code", "number", "following", "text"), [
    ("recovery", 1, "hopes", RECOVERY),
    ("hopes", 2, "what_matters", HOPES),
    ("what_matters", 3, "who_matters", MATTERS),
    ("who_matters", 4, "planned_end", WHO),
])
def test_each_text_step_saves_its_answer_on_the_server_and_moves_on(world, code, number,
                                                                    following, text):
    client = client_for(world.coordinator)
    assert f"Step {number} of 5" in _plain(client.get(_step(world, code)))
    response = client.post(_step(world, code), {"answer": f"  {text}  "})
    assert response.status_code == 302
    assert response.url == _step(world, following)
    assert _answers(world) == {code: text}
    # Coming back shows what was saved, ready to change.
    assert text in _plain(client.get(_step(world, code)))
    assert AccessEvent.objects.filter(action="first_meeting.step_save",
                                      actor=world.coordinator).count() == 1


def test_who_matters_prompts_to_ask_about_sharing_with_links_to_carers_and_consent(world):
    page = client_for(world.coordinator).get(_step(world, "who_matters")).content.decode()
    assert reverse("carer_add", args=[world.service_user.pk]) in page
    assert reverse("consent_overview", args=[world.service_user.pk]) in page
    assert "what they would want each of them to see" in page


def test_the_planned_end_is_nhs_date_boxes_and_goes_to_the_check_page(world):
    client = client_for(world.coordinator)
    page = client.get(_step(world, "planned_end")).content.decode()
    assert "Step 5 of 5" in _plain(client.get(_step(world, "planned_end")))
    for part in ("day", "month", "year"):
        assert f'name="{part}"' in page
    assert "nhsuk-date-input" in page
    end = clock.days(180)
    response = client.post(_step(world, "planned_end"), _date_data(end))
    assert response.status_code == 302
    assert response.url == _check(world)
    assert _answers(world) == {"planned_end": end.isoformat()}


@pytest.mark.parametrize(("data", "message"), [
    ({"day": "", "month": "", "year": ""}, "Enter the date care coordination is planned to end"),
    ({"day": "12", "month": "", "year": ""}, "The date must include a month and a year"),
    ({"day": "31", "month": "2", "year": "2030"}, "Enter a real date"),
    ({"day": "1x", "month": "2", "year": "2030"}, "Enter a real date"),
])
def test_a_date_that_is_not_a_date_is_refused_with_what_was_typed_kept(world, data, message):
    response = client_for(world.coordinator).post(_step(world, "planned_end"), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in _plain(response)
    assert "nhsuk-error-summary" in page
    for part, value in data.items():
        assert f'name="{part}" type="text" inputmode="numeric" value="{value}"' in page
    assert _answers(world) == {}


def test_the_planned_end_has_sane_bounds(world):
    client = client_for(world.coordinator)
    episode = Episode.objects.get(service_user=world.service_user)
    too_soon = clock.days(27)
    response = client.post(_step(world, "planned_end"), _date_data(too_soon))
    assert response.status_code == 200
    assert "at least 4 weeks from today" in _plain(response)
    too_late = episode.started_on + dt.timedelta(days=731)
    response = client.post(_step(world, "planned_end"), _date_data(too_late))
    assert "within 2 years of the start of care coordination" in _plain(response)
    assert _answers(world) == {}
    latest = episode.started_on + dt.timedelta(days=730)
    assert client.post(_step(world, "planned_end"), _date_data(latest)).status_code == 302
    assert client.post(_step(world, "planned_end"),
                       _date_data(clock.days(28))).status_code == 302


def test_an_answer_too_long_is_refused_and_the_text_is_kept(world):
    client = client_for(world.coordinator)
    long_text = "I want to feel like me again. " * 70  # over 2,000 characters
    response = client.post(_step(world, "recovery"), {"answer": long_text})
    assert response.status_code == 200
    assert "Answer must be 2000 characters or fewer" in _plain(response)
    assert html_lib.escape(long_text.strip()) in response.content.decode()
    assert _answers(world) == {}


def test_an_empty_answer_asks_to_write_it_down_or_skip(world):
    response = client_for(world.coordinator).post(_step(world, "hopes"), {"answer": "   "})
    assert response.status_code == 200
    assert (f"Write down what {world.service_user.name} said, or choose “Skip this question”"
            in _plain(response))


def test_a_step_that_does_not_exist_is_not_found(world):
    assert client_for(world.coordinator).get(_step(world, "favourite_colour")).status_code == 404


# --- Skip and resume ---------------------------------------------------------------------


def test_skip_and_come_back_progress_on_the_record_page_and_in_things_to_do(world):
    client = client_for(world.coordinator)
    record_url = reverse("service_user_detail", args=[world.service_user.pk])
    assert "First meeting: not started yet" in _plain(client.get(record_url))

    # Skip the first question: nothing is saved for it.
    first = client.get(_step(world, "recovery")).content.decode()
    assert f'href="{_step(world, "hopes")}"' in first  # "Skip this question"
    client.post(_step(world, "hopes"), {"answer": HOPES})
    client.post(_step(world, "who_matters"), {"answer": WHO})
    assert set(_answers(world)) == {"hopes", "who_matters"}

    page = _plain(client.get(record_url))
    assert "First meeting: 2 of 5 steps done — continue" in page
    entries = [e for e in things_to_do(viewer=world.coordinator) if e.kind == "first_meeting"]
    assert [(e.text, e.detail, e.url) for e in entries] == [(
        f"Finish the first meeting with {world.service_user.name}", "2 of 5 steps done.",
        reverse("first_meeting", args=[world.service_user.pk]))]
    assert "Finish the first meeting with" in _plain(client.get(reverse("home")))

    # "Continue" comes back to the first question not answered, then the next.
    resume = client.get(reverse("first_meeting", args=[world.service_user.pk]))
    assert resume.url == _step(world, "recovery")
    client.post(_step(world, "recovery"), {"answer": RECOVERY})
    assert client.get(reverse("first_meeting", args=[world.service_user.pk])).url == _step(
        world, "what_matters")
    assert "First meeting: 3 of 5 steps done" in _plain(client.get(record_url))

    # The check page shows each answer, and what is still to answer.
    check = _plain(client.get(_check(world)))
    assert "3 of 5 steps done" in check
    assert RECOVERY in check
    assert HOPES in check
    assert WHO in check
    assert check.count("Not answered yet") == 2

    # The draft lives on the server: another browser (a new session) sees the same.
    assert "3 of 5 steps done" in _plain(client_for(world.coordinator).get(_check(world)))

    # Nobody else's things to do mention it.
    for person in (world.other_coordinator, world.service_user_account, world.manager):
        assert not [e for e in things_to_do(viewer=person) if e.kind == "first_meeting"]


def test_saving_with_nothing_answered_is_refused(world):
    response = client_for(world.coordinator).post(_check(world))
    assert response.status_code == 400
    assert "Answer at least one question before saving" in _plain(response)
    assert not Plan.objects.filter(service_user=world.service_user).exists()


# --- Saved to the care plan, in their words ------------------------------------------------


def test_saving_writes_the_opening_sections_in_their_words_and_the_planned_end(world):
    client = client_for(world.coordinator)
    end = clock.days(200)
    _answer_all(client, world, end)
    response = client.post(_check(world))
    plan = Plan.objects.get(service_user=world.service_user, kind=PlanKind.CARE_PLAN)
    assert response.status_code == 302
    assert response.url == reverse("plan_detail",
                                                                   args=[plan.pk])
    items = {(i.section, i.title): i for i in PlanItem.objects.filter(plan=plan)}
    expected = {
        ("recovery_meaning", "What recovery means to me"): RECOVERY,
        ("hopes", "My hopes and aspirations"): HOPES,
        ("needs_support", "What matters to me"): MATTERS,
        ("carer_involvement", "Who matters to me"): WHO,
    }
    for key, body in expected.items():
        item = items[key]
        assert item.body == body
        assert item.written_by == PlanItem.WrittenBy.SAID_BY_SERVICE_USER
        assert item.author == world.coordinator
        assert item.own_words
    # One item says when coordination ends: the episode's own, kept in step with it.
    [planned] = [i for (section, _), i in items.items() if section == "planned_end"]
    assert planned.prompt == "planned_end_date"
    assert planned.body == f"Care coordination is planned to end on {end:%-d %B %Y}."
    assert Episode.objects.get(service_user=world.service_user).planned_end_on == end

    meeting = FirstMeeting.objects.get(episode__service_user=world.service_user)
    assert meeting.finished_at is not None
    assert meeting.plan == plan
    assert AccessEvent.objects.filter(action="first_meeting.finish").count() == 1
    assert AccessEvent.objects.filter(action="episode.update").count() == 1

    plan_page = _plain(client.get(response.url))
    assert RECOVERY in plan_page
    assert "In the service user's words, recorded by the care coordinator" in plan_page

    # Done: it leaves the record page and the things to do; the steps lead to the plan.
    record = _plain(client.get(reverse("service_user_detail", args=[world.service_user.pk])))
    assert "First meeting:" not in record
    assert not [e for e in things_to_do(viewer=world.coordinator) if e.kind == "first_meeting"]
    again = client.get(_step(world, "recovery"))
    assert again.status_code == 302
    assert again.url == reverse("plan_detail", args=[plan.pk])
    assert client.post(_check(world)).url == reverse("plan_detail", args=[plan.pk])
    assert PlanItem.objects.filter(plan=plan, section="carer_involvement").count() == 1


def test_skipped_questions_leave_the_care_plan_as_it_was(world):
    client = client_for(world.coordinator)
    episode = Episode.objects.get(service_user=world.service_user)
    client.post(_step(world, "recovery"), {"answer": RECOVERY})
    client.post(_check(world))
    plan = Plan.objects.get(service_user=world.service_user, kind=PlanKind.CARE_PLAN)
    assert plan.items.get(prompt="recovery_meaning").body == RECOVERY
    assert plan.items.get(prompt="hopes").body == ""
    assert not plan.items.filter(section__in=["needs_support", "carer_involvement",
                                              "planned_end"]).exists()
    assert Episode.objects.get(pk=episode.pk).planned_end_on == episode.planned_end_on


def test_saving_is_one_transaction_nothing_is_written_if_any_part_is_refused(world):
    client = client_for(world.coordinator)
    _answer_all(client, world, clock.days(200))
    episode = Episode.objects.get(service_user=world.service_user)
    # The episode now refuses the planned end (it is written last, after the items).
    meeting = FirstMeeting.objects.get(episode=episode)
    meeting.answers = {**meeting.answers,
                       "planned_end": (episode.started_on - dt.timedelta(days=1)).isoformat()}
    meeting.save()
    events = AccessEvent.objects.count()
    response = client.post(_check(world))
    assert response.status_code == 400
    assert "cannot be saved as it is" in _plain(response)
    assert not Plan.objects.filter(service_user=world.service_user).exists()
    assert not PlanItem.objects.filter(plan__service_user=world.service_user).exists()
    assert FirstMeeting.objects.get(pk=meeting.pk).finished_at is None
    assert Episode.objects.get(pk=episode.pk).planned_end_on == episode.planned_end_on
    assert not AccessEvent.objects.filter(action__in=["first_meeting.finish", "plan.create",
                                                      "plan_item.create"]).exists()
    assert AccessEvent.objects.count() == events + 1  # only the page's own read


def test_the_service_user_reads_and_changes_their_words_afterwards(world):
    coordinator = client_for(world.coordinator)
    _answer_all(coordinator, world, clock.days(200))
    coordinator.post(_check(world))
    plan = Plan.objects.get(service_user=world.service_user, kind=PlanKind.CARE_PLAN)
    who = plan.items.get(section="carer_involvement", title="Who matters to me")
    # A coordinator's own item in the same section stays theirs.
    theirs = add_item(plan, "carer_involvement", world.coordinator, "Carer's assessment",
                      "Offer Pete a carer's assessment.")

    service_user = client_for(world.service_user_account)
    page = service_user.get(reverse("plan_detail", args=[plan.pk]))
    assert WHO in _plain(page)
    assert RECOVERY in _plain(page)
    markup = page.content.decode()
    assert reverse("item_edit", args=[who.pk]) in markup
    assert reverse("item_edit", args=[theirs.pk]) not in markup

    changed = "My dad Pete. Jo is more of a friend than a carer."
    response = service_user.post(reverse("item_edit", args=[who.pk]),
                                 {"revision": who.revision, "body": changed, "title": who.title})
    assert response.status_code == 302
    who.refresh_from_db()
    assert who.body == changed
    assert who.written_by == PlanItem.WrittenBy.SERVICE_USER
    assert who.own_words  # still theirs to change

    recovery = plan.items.get(prompt="recovery_meaning")
    response = service_user.post(reverse("item_edit", args=[recovery.pk]),
                                 {"revision": recovery.revision, "body": "Sleeping through."})
    assert response.status_code == 302
    assert service_user.get(reverse("item_edit", args=[theirs.pk])).status_code == 404
    assert service_user.post(reverse("item_edit", args=[theirs.pk]),
                             {"revision": theirs.revision, "body": "x",
                              "title": "x"}).status_code == 404
    # And through the API, the same rule.
    who.refresh_from_db()
    etag = service_user.get(f"/api/v1/items/{who.pk}/").headers["ETag"]
    api = service_user.patch(f"/api/v1/items/{who.pk}/", {"body": "Dad."},
                             content_type="application/json", HTTP_IF_MATCH=etag)
    assert api.status_code == 200, api.content
    who.refresh_from_db()
    assert who.body == "Dad."


# --- Only the allocated coordinator ------------------------------------------------------


def _surfaces(world) -> list[tuple[str, str, dict | None]]:
    return [
        ("get", reverse("first_meeting", args=[world.service_user.pk]), None),
        ("get", _step(world, "recovery"), None),
        ("post", _step(world, "recovery"), {"answer": "Not theirs to write."}),
        ("get", _step(world, "planned_end"), None),
        ("post", _step(world, "planned_end"), _date_data(clock.days(100))),
        ("get", _check(world), None),
        ("post", _check(world), {}),
    ]


@pytest.mark.parametrize("who", [
    "other_coordinator", "service_user_account", "carer_account", "manager",
    "other_manager", "admin", "no_role", "other_service_user_account",
])
def test_nobody_but_the_allocated_coordinator_finds_it(world, who):
    client_for(world.coordinator).post(_step(world, "hopes"), {"answer": HOPES})
    client = client_for(getattr(world, who))
    for method, url, data in _surfaces(world):
        response = getattr(client, method)(url, data) if data is not None else getattr(
            client, method)(url)
        assert response.status_code == 404, (who, method, url)
    assert _answers(world) == {"hopes": HOPES}
    assert not Plan.objects.filter(service_user=world.service_user).exists()


def test_signed_out_people_are_sent_to_sign_in(client, world):
    response = client.get(_step(world, "recovery"))
    assert response.status_code == 302
    assert "sign-in" in response.url


def test_a_coordinator_whose_allocation_ended_no_longer_finds_it(world):
    client = client_for(world.coordinator)
    client.post(_step(world, "hopes"), {"answer": HOPES})
    world.coordinator.allocations.update(ended_on=clock.today())
    for method, url, data in _surfaces(world):
        response = getattr(client, method)(url, data) if data is not None else getattr(
            client, method)(url)
        assert response.status_code == 404, (method, url)
    assert not [e for e in things_to_do(viewer=world.coordinator) if e.kind == "first_meeting"]


def test_a_discharged_episode_has_no_first_meeting(world):
    client = client_for(world.coordinator)
    Episode.objects.filter(service_user=world.service_user).update(discharged_on=clock.today())
    assert client.get(_step(world, "recovery")).status_code == 404


def test_a_new_episode_offers_the_first_meeting_and_a_long_standing_plan_does_not(world):
    client = client_for(world.coordinator)
    record_url = reverse("service_user_detail", args=[world.service_user.pk])
    assert "First meeting: not started yet" in _plain(client.get(record_url))
    make_plan(world)
    assert "First meeting:" not in _plain(client.get(record_url))
    # ... though it can still be held, from its address.
    assert client.get(_step(world, "recovery")).status_code == 200


def test_a_re_referral_is_offered_a_first_meeting_though_the_plan_is_older(world):
    client = client_for(world.coordinator)
    record_url = reverse("service_user_detail", args=[world.service_user.pk])
    plan = make_plan(world)
    # The care plan dates from an earlier episode: this one started after it.
    episode = Episode.objects.get(service_user=world.service_user)
    Plan.objects.filter(pk=plan.pk).update(
        created_at=dt.datetime.combine(episode.started_on - dt.timedelta(days=200),
                                       dt.time(12), tzinfo=dt.UTC))
    assert "First meeting: not started yet" in _plain(client.get(record_url))


def test_a_second_coordinator_allocated_to_the_episode_may_continue_it(world, django_user_model):
    other = ServiceUserFactory(team=world.team)
    AllocationFactory(episode=EpisodeFactory(service_user=other), coordinator=world.coordinator)
    episode = Episode.objects.get(service_user=world.service_user)
    AllocationFactory(episode=episode, coordinator=world.other_coordinator)
    client_for(world.coordinator).post(_step(world, "hopes"), {"answer": HOPES})
    response = client_for(world.other_coordinator).get(_check(world))
    assert response.status_code == 200
    assert HOPES in _plain(response)
