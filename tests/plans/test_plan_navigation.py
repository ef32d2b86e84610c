"""Long plans you can find your way in (issue 12, point 2): every plan and version page
opens with a contents list of its sections, each with its state in words (complete,
incomplete, not started, needs your signature), and the way to the signing form is at the
top of the plan page as well as the bottom — for those who may sign, and nobody else. A
carer sees no sign of the sections not shared with them.

And the plan page stays quick however long the plan (issue 15): the record is checked once
per page, not once per section."""

from __future__ import annotations

import html as html_lib
import re

import pytest
from django.db import connection
from django.http import Http404, HttpRequest, HttpResponse
from django.template import engines
from django.test.utils import CaptureQueriesContext
from django.urls import path, reverse

from carecoord.records.models import CareTeamRole
from carecoord.urls import urlpatterns as site_urlpatterns
from consent import policy
from consent.services import consent_decide_item
from plans import services
from plans.sections import (
    CARE_PLAN_SECTIONS,
    CRISIS_PROMPTS,
    WRAP_SECTIONS,
    ItemType,
    Part,
    PlanKind,
    Section,
    State,
    section,
    section_state,
    sections_for,
)
from tests import clock
from tests.carecoord.careteam_helpers import add_to_care_team, professional
from tests.conftest import client_for
from tests.plans.factories import (
    add_goal,
    add_item,
    add_responsibility,
    fill_crisis,
    make_plan,
    prompt_item,
    propose,
    sign,
    write,
)

# --- A page that is only the chrome every page has (header, things to do, messages) -------


def _chrome_only(request: HttpRequest) -> HttpResponse:
    page = engines["django"].from_string(
        '{% extends "base.html" %}{% block content %}<h1>Nothing here</h1>{% endblock %}')
    return HttpResponse(page.render({}, request))


urlpatterns = [path("test-chrome-only/", _chrome_only), *site_urlpatterns]


# --- Reading pages ------------------------------------------------------------------------


def _page(response) -> str:
    assert response.status_code == 200, response.status_code
    return response.content.decode()


def _plain(markup: str) -> str:
    markup = re.sub(r"<[^>]+>", " ", markup)
    return " ".join(html_lib.unescape(markup).split())


def _contents(markup: str) -> list[dict]:
    """The contents list as (anchor, title, state words) rows, in order."""
    match = re.search(r'<nav class="nhsuk-contents-list[^"]*"[^>]*>(.*?)</nav>', markup, re.S)
    assert match, "no contents list on the page"
    rows = []
    for item in re.findall(r'<li class="nhsuk-contents-list__item">(.*?)</li>', match.group(1),
                           re.S):
        link = re.search(r'href="#([^"]+)">(.*?)</a>', item, re.S)
        tag = re.search(r'<strong class="nhsuk-tag[^"]*">(.*?)</strong>', item, re.S)
        detail = re.search(r'app-contents-list__detail">(.*?)</span>', item, re.S)
        rows.append({"anchor": link.group(1), "title": _plain(link.group(2)),
                     "state": _plain(tag.group(1)) if tag else None,
                     "detail": _plain(detail.group(1)) if detail else ""})
    return rows


def _state_of(markup: str, title: str) -> tuple[str | None, str]:
    row = next(row for row in _contents(markup) if row["title"] == title)
    return row["state"], row["detail"]


def _sign_links(markup: str) -> list[str]:
    return re.findall(r'<a class="app-sign-link" href="([^"]+)"', markup)


def _plan_url(plan) -> str:
    return reverse("plan_detail", args=[plan.pk])


def _version_url(version) -> str:
    return reverse("version_detail", args=[version.pk])


# --- The state of a section, worked out in one pure function --------------------------------

CRISIS = section(PlanKind.CARE_PLAN, "crisis")
GOALS = section(PlanKind.CARE_PLAN, "goals")
NEEDS = section(PlanKind.CARE_PLAN, "needs_support")


def _prompts(section_: Section, answered: int) -> list[Part]:
    return [Part(prompt=p.code, written=index < answered)
            for index, p in enumerate(section_.prompts)]


@pytest.mark.parametrize(("plan_section", "parts", "state", "detail"), [
    (CRISIS, _prompts(CRISIS, 0), State.NOT_STARTED, ""),
    (CRISIS, _prompts(CRISIS, 3), State.INCOMPLETE, "3 of 8 questions answered"),
    (CRISIS, _prompts(CRISIS, 8), State.COMPLETE, ""),
    (NEEDS, [], State.NOT_STARTED, ""),
    (NEEDS, [Part(prompt="", written=True)], State.COMPLETE, ""),
    (GOALS, [], State.NOT_STARTED, ""),
    (GOALS, [Part("", True, agreed=True), Part("", True, agreed=False)], State.INCOMPLETE,
     "1 goal not agreed yet"),
    (GOALS, [Part("", True, agreed=False), Part("", True, agreed=False)], State.INCOMPLETE,
     "2 goals not agreed yet"),
    (GOALS, [Part("", True, agreed=True)], State.COMPLETE, ""),
    # A frozen version does not know about agreement: its goals are written, that is all.
    (GOALS, [Part("", True, agreed=None)], State.COMPLETE, ""),
    # Prompts answered but an added item is not needed to be complete; one answered of one.
    (section(PlanKind.CARE_PLAN, "recovery_meaning"),
     [Part("recovery_meaning", written=True)], State.COMPLETE, ""),
    (section(PlanKind.WRAP, "wrap_crisis"),
     [Part("supporters", True), Part("medication", False)], State.INCOMPLETE,
     "1 of 2 questions answered"),
])
def test_a_sections_state_says_what_it_has_and_what_it_lacks(plan_section, parts, state,
                                                             detail):
    result = section_state(plan_section, parts)
    assert (result.state, result.detail) == (state, detail)
    assert result.label == State(state).label
    assert result.tag_class.startswith("nhsuk-tag--")


def test_every_state_has_words_and_a_colour_of_its_own():
    colours = {section_state(CRISIS, _prompts(CRISIS, n)).tag_class for n in (0, 3, 8)}
    assert len(colours) == 3
    assert {s.label for s in State} == {"Complete", "Incomplete", "Not started",
                                        "Needs your signature"}


# --- The contents list on every plan and version page --------------------------------------


def _assert_links_resolve(markup: str) -> list[dict]:
    rows = _contents(markup)
    assert rows
    for row in rows:
        targets = len(re.findall(rf'\bid="{re.escape(row["anchor"])}"', markup))
        assert targets == 1, (
            f"the contents link #{row['anchor']} ({row['title']}) has {targets} places to go")
    return rows


@pytest.mark.parametrize(("kind", "sections"), [
    (PlanKind.CARE_PLAN, CARE_PLAN_SECTIONS),
    (PlanKind.WRAP, WRAP_SECTIONS),
    (PlanKind.RESPONSIBILITY_AGREEMENT, None),
])
@pytest.mark.parametrize("viewer", ["coordinator", "service_user_account"])
def test_every_plan_page_has_a_contents_list_whose_links_land_on_the_page(world, kind,
                                                                          sections, viewer):
    plan = make_plan(world, kind)
    markup = _page(client_for(getattr(world, viewer)).get(_plan_url(plan)))
    rows = _assert_links_resolve(markup)
    titles = [row["title"] for row in rows]
    expected = [s.title for s in (sections or
                                  [section(kind, "responsibilities")])]
    assert titles[:len(expected)] == expected
    assert "Versions and signatures" in titles
    assert ("Reviews" in titles) == (kind == PlanKind.CARE_PLAN)
    assert 'aria-labelledby="contents-heading"' in markup
    assert "On this page" in _plain(markup)


def test_the_print_view_has_the_contents_list_too(world):
    plan = make_plan(world)
    markup = _page(client_for(world.coordinator).get(reverse("plan_print", args=[plan.pk])))
    _assert_links_resolve(markup)


@pytest.mark.parametrize("kind", [PlanKind.CARE_PLAN, PlanKind.WRAP])
def test_a_version_page_has_a_contents_list_of_its_sections(world, kind):
    plan = make_plan(world, kind)
    if kind == PlanKind.CARE_PLAN:
        write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
              "Cooking for my friends again.")
    else:
        add_item(plan, "triggers", world.service_user_account, "Loud places",
                 body="I leave and walk.")
    version = propose(plan, world.coordinator if kind == PlanKind.CARE_PLAN
                      else world.service_user_account)
    markup = _page(client_for(world.service_user_account).get(_version_url(version)))
    rows = _assert_links_resolve(markup)
    titles = [row["title"] for row in rows]
    if kind == PlanKind.CARE_PLAN:
        assert titles[:2] == ["What recovery means to me", "My hopes and aspirations"]
        assert "My goals" not in titles  # nothing in it: not in this version at all
        assert _state_of(markup, "My hopes and aspirations")[0] == "Not started"
        assert _state_of(markup, "What recovery means to me")[0] == "Complete"
        assert _state_of(markup, "Crisis and contingency plan") == ("Not started", "")
    else:
        assert "Triggers and action plan" in titles
    assert titles[-2:] == ["Signatures", "Sign this version"]
    assert _state_of(markup, "Sign this version")[0] == "Needs your signature"


def test_what_changed_between_versions_lists_the_sections_that_changed(world):
    plan = make_plan(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To train as a chef.")
    propose(plan, world.coordinator)
    add_item(plan, "risk", world.coordinator, "Cycling to work", body="With lights.")
    write(prompt_item(plan, "hopes"), world.service_user_account, "To open a café.")
    add_item(plan, "risk", world.coordinator, "Living alone", body="Weekly visits.")
    propose(plan, world.coordinator)
    url = reverse("version_diff", args=[plan.pk, 1, 2])
    markup = _page(client_for(world.coordinator).get(url))
    rows = _assert_links_resolve(markup)
    assert [row["title"] for row in rows] == [
        "My hopes and aspirations (1 change)", "Risk and positive risk-taking (2 changes)"]
    assert client_for(world.other_coordinator).get(url).status_code == 404


def test_the_care_plan_page_shows_how_far_each_section_has_got(world):
    plan = make_plan(world)
    client = client_for(world.coordinator)
    before = _page(client.get(_plan_url(plan)))
    assert _state_of(before, "Crisis and contingency plan") == ("Not started", "")
    assert _state_of(before, "My goals") == ("Not started", "")

    fill_crisis(plan, world.coordinator, skip=("advance_statement", "practical"))
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account,
          "Seeing my friends.")
    goal = add_goal(plan, world.service_user_account)
    add_item(plan, "risk", world.coordinator, "Cycling to work", body="With lights.")
    after = _page(client.get(_plan_url(plan)))
    assert _state_of(after, "Crisis and contingency plan") == (
        "Incomplete", f"{len(CRISIS_PROMPTS) - 2} of {len(CRISIS_PROMPTS)} questions answered")
    assert _state_of(after, "What recovery means to me") == ("Complete", "")
    assert _state_of(after, "My hopes and aspirations")[0] == "Not started"
    assert _state_of(after, "Risk and positive risk-taking") == ("Complete", "")
    assert _state_of(after, "My goals") == ("Incomplete", "1 goal not agreed yet")

    services.goal_agree(item=goal, agreed_by=world.service_user_account, party="service_user")
    goal.refresh_from_db()
    services.goal_agree(item=goal, agreed_by=world.coordinator, party="coordinator")
    fill_crisis(plan, world.coordinator)
    done = _page(client.get(_plan_url(plan)))
    assert _state_of(done, "My goals") == ("Complete", "")
    assert _state_of(done, "Crisis and contingency plan") == ("Complete", "")
    # Not colour alone: the tag carries the words.
    assert re.search(r'<strong class="nhsuk-tag nhsuk-tag--green">Complete</strong>', done)


# --- The way to the signing form: top and bottom, for signers only -------------------------


def test_a_signer_gets_the_sign_link_at_the_top_and_the_bottom_and_nobody_else(world):
    plan = make_plan(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To train as a chef.")
    coordinator = client_for(world.coordinator)
    service_user = client_for(world.service_user_account)
    assert _sign_links(_page(service_user.get(_plan_url(plan)))) == []

    version = propose(plan, world.coordinator)
    target = f"{_version_url(version)}#sign"
    for client, words in ((service_user, "Sign your care plan"),
                          (coordinator, f"Sign {world.service_user.name}'s care plan")):
        markup = _page(client.get(_plan_url(plan)))
        assert _sign_links(markup) == [target, target]  # the top, and the versions section
        top, bottom = (m.start() for m in re.finditer('class="app-sign-link"', markup))
        assert top < markup.index('id="about-heading"') < markup.index('id="versions"') < bottom
        assert words in _plain(markup)
        assert _state_of(markup, "Versions and signatures")[0] == "Needs your signature"
        # The link lands on the signing form, at the bottom of the version page, whose
        # top links to it too.
        version_page = _page(client.get(_version_url(version)))
        assert (version_page.index('href="#sign"') < version_page.index('id="signatures"')
                < version_page.index('id="sign"'))

    sign(version, world.coordinator)
    signed = _page(coordinator.get(_plan_url(plan)))
    assert _sign_links(signed) == []
    assert _state_of(signed, "Versions and signatures")[0] is None
    assert _sign_links(_page(service_user.get(_plan_url(plan)))) == [target, target]


def test_nobody_but_the_service_user_signs_a_wrap_so_only_they_get_the_link(world):
    plan = make_plan(world, PlanKind.WRAP, by=world.service_user_account)
    add_item(plan, "wellness_toolbox", world.service_user_account, "Walking the dog")
    version = propose(plan, world.service_user_account)
    assert len(_sign_links(_page(client_for(world.service_user_account)
                                 .get(_plan_url(plan))))) == 2
    coordinator_page = _page(client_for(world.coordinator).get(_plan_url(plan)))
    assert _sign_links(coordinator_page) == []
    version_page = _page(client_for(world.coordinator).get(_version_url(version)))
    assert "Sign this version" not in [row["title"] for row in _contents(version_page)]
    assert 'href="#sign"' not in version_page
    assert 'id="sign"' not in version_page


def test_other_people_get_not_found_for_the_plan_and_version_pages(world):
    plan = make_plan(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To train as a chef.")
    version = propose(plan, world.coordinator)
    for outsider in (world.other_coordinator, world.other_service_user_account,
                     world.other_carer_account, world.manager):
        client = client_for(outsider)
        assert client.get(_plan_url(plan)).status_code == 404
        assert client.get(_version_url(version)).status_code == 404


# --- A carer sees no sign of what was not shared with them ----------------------------------


def test_a_carer_sees_only_the_sections_shared_with_them_and_no_states(world):
    plan = make_plan(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To train as a chef.")
    fill_crisis(plan, world.coordinator, skip=("advance_statement",))
    add_item(plan, "risk", world.coordinator, "Living alone", body="Weekly visits.")
    shared = prompt_item(plan, "early_signs")
    consent_decide_item(item=shared, carer=world.carer_relationship.carer, shared=True,
                        decided_by=world.service_user_account)
    version = propose(plan, world.coordinator)

    carer = client_for(world.carer_account)
    assert carer.get(_plan_url(plan)).status_code == 404
    markup = _page(carer.get(_version_url(version)))
    rows = _assert_links_resolve(markup)
    assert [row["title"] for row in rows] == ["Crisis and contingency plan", "Signatures"]
    # Not "Incomplete" (from the one entry they see) nor anything else: no state at all.
    assert all(row["state"] is None for row in rows)
    text = _plain(markup)
    for unshared in ("My hopes and aspirations", "Risk and positive risk-taking",
                     "To train as a chef.", "Living alone", "questions answered"):
        assert unshared not in text
    assert _sign_links(markup) == []


def test_a_care_team_member_sees_only_their_areas_sections_and_no_states(world):
    """A duty worker reads the crisis plan but not the advance statement: a state worked
    out from what they see would be wrong (and would speak of what they may not see)."""
    plan = make_plan(world)
    write(prompt_item(plan, "hopes"), world.service_user_account, "To train as a chef.")
    fill_crisis(plan, world.coordinator, skip=("advance_statement",))
    duty_worker = professional("Jo Duty")
    add_to_care_team(world, duty_worker, CareTeamRole.DUTY_WORKER)
    markup = _page(client_for(duty_worker).get(_plan_url(plan)))
    rows = _assert_links_resolve(markup)
    assert [row["title"] for row in rows] == ["Crisis and contingency plan",
                                              "Versions and signatures"]
    assert all(row["state"] is None for row in rows)
    assert "questions answered" not in _plain(markup)
    assert _sign_links(markup) == []


def test_a_carer_named_on_a_responsibility_agreement_is_shown_the_way_to_sign(world):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, holder="carer",
                       relationship_pk=world.carer_relationship.pk)
    version = propose(plan, world.coordinator)
    markup = _page(client_for(world.carer_account).get(_version_url(version)))
    rows = _assert_links_resolve(markup)
    assert rows[-1]["title"] == "Sign this version"
    assert rows[-1]["state"] == "Needs your signature"
    # The sections they see carry no state: they see only the parts that name them.
    assert all(row["state"] is None for row in rows[:-1])


# --- Queries: the record is checked once, however long the plan ------------------------------


def _grow(world, plan, count: int) -> None:
    """Add items until the plan has `count` live items: goals with progress, needs, risks."""
    today = clock.today()
    sections = ["goals", "needs_support", "risk", "carer_involvement", "planned_end"]
    number = 0
    while plan.items.filter(removed_at__isnull=True).count() < count:
        code = sections[number % len(sections)]
        if section(PlanKind.CARE_PLAN, code).item_type == ItemType.GOAL:
            goal = add_goal(plan, world.service_user_account, title=f"Goal {number}")
            services.goal_agree(item=goal, agreed_by=world.coordinator, party="coordinator")
            services.progress_record(item=goal, recorded_by=world.service_user_account,
                                     recorded_on=today, rating=5, note="Going well.")
        else:
            add_item(plan, code, world.coordinator, f"Item {number}", body="Words.")
        number += 1


def _queries(client, url: str) -> list[str]:
    client.get(url)  # warm what is cached per process (content types, sessions)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(url)
    assert response.status_code == 200
    # Savepoints are the test's own: each test runs in a transaction, so every atomic
    # block the page enters shows as SAVEPOINT and RELEASE. Served for real (autocommit)
    # they are not statements sent at all.
    return [query["sql"] for query in captured.captured_queries
            if not re.match(r"(RELEASE )?SAVEPOINT ", query["sql"])]


RECORD_CHECK = re.compile(r'AS "own", EXISTS\(')  # consent.policy.record_basis's query


@pytest.mark.urls(__name__)
def test_the_coordinators_care_plan_page_checks_the_record_once_and_stays_flat(world):
    plan = make_plan(world)
    write(prompt_item(plan, "recovery_meaning"), world.service_user_account, "Friends.")
    sign(propose(plan, world.coordinator), world.coordinator)
    services.review_record(plan=plan, recorded_by=world.coordinator, held_on=clock.today(),
                           attendees="Alex, Sam", what_changed="New goals.",
                           next_review_on=clock.days(180), carers_attended=[])
    client = client_for(world.coordinator)
    url = _plan_url(plan)

    _grow(world, plan, 25)
    propose(plan, world.coordinator)  # a version waiting for the coordinator's signature
    few = _queries(client, url)
    _grow(world, plan, 80)
    many = _queries(client, url)
    assert plan.items.filter(removed_at__isnull=True).count() == 80
    assert len(many) == len(few), f"{len(few)} queries with 25 items, {len(many)} with 80"

    # The allocation check ran 13 times a page (once per section and per permission).
    assert sum(bool(RECORD_CHECK.search(sql)) for sql in many) <= 1
    # What the plan page costs beyond what every page of this person costs (the header's
    # things to do and notifications, the session): at most 15 queries, 80 items or not.
    chrome = _queries(client, "/test-chrome-only/")
    assert len(many) - len(chrome) <= 15, (
        f"{len(many)} queries for the plan page, {len(chrome)} for an empty page")
    assert len(_sign_links(_page(client.get(url)))) == 2


@pytest.mark.parametrize("kind", list(PlanKind))
def test_the_plan_pages_basis_answers_agree_with_the_policys_viewer_rules(world, kind):
    """The page asks the rules once with the basis the plan was opened on; for every
    person who can open it, the answers are those of the rules asked about the viewer."""
    plan = make_plan(world, kind)
    openers = [world.coordinator, world.service_user_account]
    for viewer in (*openers, world.other_coordinator, world.carer_account, world.manager):
        try:
            _, basis = policy.plan_for_viewer(viewer, plan.pk)
        except Http404:
            assert viewer not in openers
            assert policy.plan_basis(viewer, plan) is None
            continue
        assert basis == policy.plan_basis(viewer, plan)
        assert policy.can_propose_on_basis(basis) == policy.can_propose_version(viewer, plan)
        assert policy.can_suggest_on_basis(basis, plan) == policy.can_suggest(viewer, plan)
        assert (policy.can_record_review_on_basis(basis, plan)
                == policy.can_record_review(viewer, plan))
        for plan_section in sections_for(kind):
            assert (policy.section_editable_on_basis(basis, plan, plan_section.code)
                    == policy.can_edit_section(viewer, plan, plan_section.code))
