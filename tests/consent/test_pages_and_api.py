"""The consent pages and API as people meet them: plain words that match the decisions,
the coordinator recording a decision with its basis, forms that keep what was typed,
JSON errors (never a 500), "not found" for everyone else, a constant number of queries
on the carer's pages however much is shared — and no surface at all through which a
carer reaches a crisis item that was not shared with them."""

from __future__ import annotations

import html
import json
import re

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from carecoord.records.models import Role
from consent.models import ConsentDecision, DecidedAs, PlanItemUserObjectPermission
from consent.services import consent_decide_item, consent_decide_section
from plans import services as plan_services
from plans.exports import version_pdf_html
from plans.models import Plan, PlanItem
from plans.sections import CRISIS_PROMPTS, PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.forms import date_parts
from tests.plans.factories import add_item, make_plan, prompt_item, propose, sign, write

JSON = "application/json"
CRISIS_CODES = [prompt.code for prompt in CRISIS_PROMPTS]
OUTSIDERS = ["other_coordinator", "carer_account", "other_carer_account", "manager", "admin",
             "other_service_user_account", "other_manager", "no_role"]


# --- Helpers --------------------------------------------------------------------------


def plain(markup: str) -> str:
    markup = re.sub(r"<(script|style)\b.*?</\1>", " ", markup, flags=re.S)
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", markup)).split())


def text(response) -> str:
    return plain(response.content.decode())


def row_for(response, title: str) -> str:
    """The words of the overview table's row for one item."""
    rows = re.findall(r'<tr class="nhsuk-table__row" role="row">(.*?)</tr>',
                      response.content.decode(), flags=re.S)
    matching = [plain(row) for row in rows if plain(row).startswith(title)]
    assert len(matching) == 1, f"{len(matching)} rows for {title!r}"
    return matching[0]


def textarea(response, name: str) -> str:
    match = re.search(rf'<textarea[^>]*name="{re.escape(name)}"[^>]*>(.*?)</textarea>',
                      response.content.decode(), flags=re.S)
    assert match, f"no textarea {name!r}"
    return html.unescape(match.group(1)).strip()


def assert_json_error(response, status: int) -> dict:
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith(JSON)
    body = response.json()
    assert "error" in body
    assert "detail" in body
    return body


@pytest.fixture
def mum(world):
    """The world's carer, called Mum by the service user."""
    carer = world.carer_relationship.carer
    carer.preferred_name = "Mum"
    carer.save()
    return world.carer_relationship


@pytest.fixture
def dad(world):
    user = UserFactory(roles=[Role.CARER], full_name="David Carer")
    return CarerRelationshipFactory(
        carer=CarerFactory(user=user, email=user.email, full_name="David Carer",
                           preferred_name="Dad"),
        service_user=world.service_user, relationship="Dad")


@pytest.fixture
def care_plan(world) -> Plan:
    plan = make_plan(world)
    for code in CRISIS_CODES:
        write(prompt_item(plan, code), world.service_user_account, f"Crisis answer {code}.")
    return plan


def someone_elses_wrap(world) -> tuple[Plan, PlanItem]:
    plan = plan_services.plan_create(service_user=world.other_service_user, kind=PlanKind.WRAP,
                                     created_by=world.other_service_user_account)
    item = add_item(plan, "wellness_toolbox", world.other_service_user_account, "Not theirs")
    return plan, item


def overview_url(world) -> str:
    return f"/consent/service-users/{world.service_user.pk}/"


def carer_url(world, relationship) -> str:
    return f"/consent/service-users/{world.service_user.pk}/carers/{relationship.pk}/"


def preview_url(world, relationship) -> str:
    return carer_url(world, relationship) + "preview/"


def decisions_api(world) -> str:
    return f"/api/v1/service-users/{world.service_user.pk}/consent/decisions/"


def rules_api(world) -> str:
    return f"/api/v1/service-users/{world.service_user.pk}/consent/section-rules/"


def post_json(client: Client, url: str, data) -> object:
    body = data if isinstance(data, str | bytes) else json.dumps(data)
    return client.post(url, body, content_type=JSON)


# --- The consent page speaks plainly --------------------------------------------------


def test_the_consent_page_says_who_can_see_each_item_in_plain_words(
    world, mum, dad, care_plan
):
    shared = prompt_item(care_plan, "who_to_contact")
    private = prompt_item(care_plan, "advance_statement")
    by_rule = add_item(care_plan, "needs_support", world.service_user_account,
                       "Lifts to appointments")
    consent_decide_item(item=shared, carer=mum.carer, shared=True,
                        decided_by=world.service_user_account)
    consent_decide_section(plan=care_plan, section="needs_support", carer=dad.carer,
                           shared=True, decided_by=world.service_user_account)

    own_client = client_for(world.service_user_account)
    for client in (own_client, client_for(world.coordinator)):
        response = client.get(overview_url(world))
        assert response.status_code == 200
        row = row_for(response, shared.title)
        assert "Mum can see this" in row
        assert "Dad cannot see this" in row
        assert "Mum" in row.split("Who can see this:")[1].split(".")[0]

        row = row_for(response, private.title)
        assert "Mum cannot see this" in row
        assert "Dad cannot see this" in row
        # Who exactly, instead of "Nobody else can see this" (the names are the policy's:
        # tests/consent/test_readers.py).
        who = row.split("Who can see this:")[1].split(".")[0]
        if client is own_client:
            assert who.strip() == "you and your care coordinator, Sam Coordinator"
        else:
            assert who.strip() == f"{world.service_user.name} and you (their care coordinator)"
        assert "Mum can see this" not in row
        assert "Dad can see this" not in row

        row = row_for(response, by_rule.title)
        assert "Dad can see this" in row
        assert "shared the whole section" in row
        assert "Mum cannot see this" in row

    # After a withdrawal the page says so straight away.
    consent_decide_item(item=shared, carer=mum.carer, shared=False,
                        decided_by=world.service_user_account)
    response = client_for(world.service_user_account).get(overview_url(world))
    row = row_for(response, shared.title)
    assert "Mum cannot see this" in row
    assert row.split("Who can see this:")[1].split(".")[0].strip() == (
        "you and your care coordinator, Sam Coordinator")


def test_the_coordinator_records_a_decision_with_its_basis_and_the_service_user_sees_it(
    world, mum, care_plan
):
    item = prompt_item(care_plan, "who_to_contact")
    coordinator = client_for(world.coordinator)
    page = coordinator.get(carer_url(world, mum))
    assert page.status_code == 200
    assert "On what basis are you recording this for them?" in text(page)

    response = coordinator.post(carer_url(world, mum), {
        "items": [item.pk], "action": "share",
        "basis": "Asked for this in our meeting on 3 March",
        "note": "Alex wants Mum to have the numbers.",
    })
    assert response.status_code == 302
    decision = ConsentDecision.objects.get()
    assert decision.decided_as == DecidedAs.PROFESSIONAL
    assert decision.decided_by == world.coordinator
    assert decision.basis == "Asked for this in our meeting on 3 March"
    assert decision.note == "Alex wants Mum to have the numbers."

    own = text(client_for(world.service_user_account).get(overview_url(world)))
    assert "Basis: Asked for this in our meeting on 3 March" in own
    assert "Alex wants Mum to have the numbers." in own
    assert "Crisis answer who_to_contact." in text(
        client_for(world.carer_account).get(f"/carers/people/{mum.pk}/"))


def test_the_service_user_shares_and_stops_sharing_from_the_page_without_a_basis(
    world, mum, care_plan
):
    item = prompt_item(care_plan, "early_signs")
    client = client_for(world.service_user_account)
    page = client.get(carer_url(world, mum))
    assert "On what basis" not in text(page)
    response = client.post(carer_url(world, mum), {"items": [item.pk], "action": "share"})
    assert response.status_code == 302
    assert response.url == carer_url(world, mum)
    assert ConsentDecision.objects.get().decided_as == DecidedAs.SERVICE_USER
    preview = text(client.get(preview_url(world, mum)))
    assert "Crisis answer early_signs." in preview
    assert "Crisis answer advance_statement." not in preview

    response = client.post(carer_url(world, mum), {"items": [item.pk], "action": "stop"})
    assert response.status_code == 302
    assert "Crisis answer early_signs." not in text(client.get(preview_url(world, mum)))


def test_a_whole_section_is_shared_from_the_page(world, mum, care_plan):
    client = client_for(world.service_user_account)
    response = client.post(carer_url(world, mum), {"sections": [f"{care_plan.pk}-crisis"],
                                                    "action": "share"})
    assert response.status_code == 302
    page = text(client.get(carer_url(world, mum)))
    assert "Shares the whole section, including anything added later" in page
    preview = text(client.get(preview_url(world, mum)))
    for code in CRISIS_CODES:
        assert f"Crisis answer {code}." in preview


# --- Forms keep what was typed ----------------------------------------------------------


def test_a_coordinator_without_a_basis_gets_an_error_and_keeps_the_note(world, mum, care_plan):
    item = prompt_item(care_plan, "who_to_contact")
    response = client_for(world.coordinator).post(carer_url(world, mum), {
        "items": [item.pk], "action": "share", "note": "Talked it through with Alex",
    })
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Say on what basis you are recording this for them" in page
    assert textarea(response, "note") == "Talked it through with Alex"
    assert f'value="{item.pk}" aria-describedby="choose-item-{item.pk}-hint" checked' in \
        response.content.decode()
    assert not ConsentDecision.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()


def test_an_end_date_in_the_past_is_an_error_by_the_field_and_keeps_the_note(
    world, mum, care_plan
):
    item = prompt_item(care_plan, "who_to_contact")
    response = client_for(world.service_user_account).post(carer_url(world, mum), {
        "items": [item.pk], "action": "share",
        **date_parts("expires_on", "2001-01-01"),
        "note": "Only for the holiday",
    })
    assert response.status_code == 200
    assert "The end date for sharing must be today or later" in text(response)
    assert textarea(response, "note") == "Only for the holiday"
    page = response.content.decode()
    assert 'name="expires_on_year" value="2001"' in page
    assert 'name="expires_on_day" value="1"' in page
    assert not ConsentDecision.objects.exists()


@pytest.mark.parametrize("data", [
    {"items": ["nonsense"], "action": "share"},
    {"items": ["abc"], "action": "stop"},
    {"sections": ["1-DROP TABLE"], "action": "share"},
])
def test_a_form_for_nothing_on_the_page_is_not_found(world, mum, care_plan, data):
    response = client_for(world.service_user_account).post(carer_url(world, mum), data)
    assert response.status_code == 404


def test_an_item_or_plan_of_someone_else_cannot_be_decided_through_the_page(
    world, mum, care_plan
):
    other_plan, other_item = someone_elses_wrap(world)
    client = client_for(world.service_user_account)
    response = client.post(carer_url(world, mum), {"items": [other_item.pk],
                                                    "action": "share"})
    assert response.status_code == 404
    response = client.post(carer_url(world, mum), {
        "sections": [f"{other_plan.pk}-wellness_toolbox"], "action": "share"})
    assert response.status_code == 404
    response = client.post(carer_url(world, mum), {
        "sections": [f"{care_plan.pk}-no_such_section"], "action": "share"})
    assert response.status_code == 404
    # One thing not on the page spoils the whole submission: nothing is decided.
    mine = prompt_item(care_plan, "early_signs")
    response = client.post(carer_url(world, mum), {"items": [mine.pk, other_item.pk],
                                                    "action": "share"})
    assert response.status_code == 404
    assert not ConsentDecision.objects.exists()


# --- Everyone else: not found -------------------------------------------------------------


@pytest.mark.parametrize("who", OUTSIDERS)
def test_nobody_else_reaches_the_consent_pages_or_api(world, mum, care_plan, who):
    item = prompt_item(care_plan, "early_signs")
    client = client_for(getattr(world, who))
    for url in (overview_url(world), carer_url(world, mum), preview_url(world, mum)):
        assert client.get(url).status_code == 404, url
    response = client.post(carer_url(world, mum), {"items": [item.pk], "action": "share"})
    assert response.status_code == 404
    for url in (decisions_api(world), rules_api(world)):
        assert_json_error(client.get(url), 404)
    assert_json_error(post_json(client, decisions_api(world), {
        "carer_relationship": mum.pk, "item": item.pk, "shared": True}), 404)
    assert_json_error(post_json(client, rules_api(world), {
        "carer_relationship": mum.pk, "plan": care_plan.pk, "section": "crisis",
        "shared": True}), 404)
    assert not ConsentDecision.objects.exists()


def test_signed_out_people_are_sent_to_sign_in_and_the_api_answers_json(world, mum):
    client = Client()
    assert client.get(overview_url(world)).status_code == 302
    assert client.get(preview_url(world, mum)).status_code == 302
    response = client.get(decisions_api(world))
    assert response.status_code in (401, 403)
    assert response["Content-Type"].startswith(JSON)


def test_a_former_carers_consent_page_is_not_found(world, mum, care_plan):
    from carers.services import carer_relationship_end

    carer_relationship_end(relationship=mum, ended_by=world.coordinator)
    client = client_for(world.service_user_account)
    assert client.get(carer_url(world, mum)).status_code == 404
    assert client.get(preview_url(world, mum)).status_code == 404
    assert client.get(overview_url(world)).status_code == 200


# --- The consent API --------------------------------------------------------------------


def test_the_service_user_decides_through_the_api_and_the_coordinator_reads(
    world, mum, care_plan
):
    item = prompt_item(care_plan, "who_to_contact")
    service_user = client_for(world.service_user_account)
    response = post_json(service_user, decisions_api(world), {
        "carer_relationship": mum.pk, "item": item.pk, "shared": True,
        "expires_on": clock.today().isoformat(), "note": "For this week"})
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["shared"] is True
    assert body["item"] == {"id": item.pk, "title": item.title}
    assert body["carer_relationship"] == mum.pk
    assert body["decided_as"] == "service_user"
    assert body["expires_on"] == clock.today().isoformat()
    assert PlanItemUserObjectPermission.objects.filter(
        user=world.carer_account, content_object=item).exists()

    response = post_json(service_user, rules_api(world), {
        "carer_relationship": mum.pk, "plan": care_plan.pk, "section": "needs_support",
        "shared": True})
    assert response.status_code == 201, response.content
    assert response.json()["in_effect"] is True

    coordinator = client_for(world.coordinator)
    response = coordinator.get(decisions_api(world))
    assert response.status_code == 200
    results = response.json()["results"]
    assert [r["item"] for r in results] == [None, {"id": item.pk, "title": item.title}]
    response = coordinator.get(rules_api(world))
    assert response.status_code == 200
    assert [(r["section"], r["shared"]) for r in response.json()["results"]] == [
        ("needs_support", True)]

    body = assert_json_error(post_json(coordinator, decisions_api(world), {
        "carer_relationship": mum.pk, "item": item.pk, "shared": False,
        "basis": "Asked in our meeting"}), 403)
    assert "service user" in body["detail"]
    assert_json_error(post_json(coordinator, rules_api(world), {
        "carer_relationship": mum.pk, "plan": care_plan.pk, "section": "crisis",
        "shared": True, "basis": "Asked in our meeting"}), 403)
    assert ConsentDecision.objects.count() == 2


def test_bad_input_to_the_consent_api_is_a_json_400_never_a_500(world, mum, care_plan):
    other_plan, other_item = someone_elses_wrap(world)
    other_relationship = world.other_carer_account.carer_record.relationships.get()
    item = prompt_item(care_plan, "who_to_contact")
    client = client_for(world.service_user_account)
    good = {"carer_relationship": mum.pk, "item": item.pk, "shared": True}

    bad_decisions = [
        {},
        {**good, "shared": "perhaps"},
        {**good, "item": "one"},
        {**good, "item": 2**70},
        {**good, "item": -1},
        {**good, "item": other_item.pk},
        {**good, "carer_relationship": other_relationship.pk},
        {**good, "carer_relationship": None},
        {**good, "expires_on": "next Tuesday"},
        {**good, "expires_on": "2001-01-01"},  # refused by the consent services
        {**good, "note": "x" * 5000},
        [good],
        "not json at all",
        "[" * 5000,
    ]
    for data in bad_decisions:
        assert_json_error(post_json(client, decisions_api(world), data), 400)

    good_rule = {"carer_relationship": mum.pk, "plan": care_plan.pk, "section": "crisis",
                 "shared": True}
    bad_rules = [
        {**good_rule, "section": "wellness_toolbox"},  # a WRAP section on a care plan
        {**good_rule, "section": ""},
        {**good_rule, "section": "x" * 500},
        {**good_rule, "plan": other_plan.pk},
        {**good_rule, "plan": 0},
        {**good_rule, "expires_on": "2001-01-01"},
        {"shared": True},
    ]
    for data in bad_rules:
        assert_json_error(post_json(client, rules_api(world), data), 400)

    assert not ConsentDecision.objects.exists()
    assert not PlanItemUserObjectPermission.objects.exists()
    assert_json_error(client.get(
        f"/api/v1/service-users/{world.other_service_user.pk}/consent/decisions/"), 404)
    assert_json_error(client.get("/api/v1/service-users/999999999/consent/decisions/"), 404)


# --- A constant number of queries ----------------------------------------------------------


def _queries(client: Client, url: str) -> int:
    client.get(url)  # warm up (session, content types)
    with CaptureQueriesContext(connection) as queries:
        response = client.get(url)
    assert response.status_code == 200
    return len(queries)


def test_the_carers_pages_make_the_same_number_of_queries_for_2_items_and_for_20(
    world, mum, care_plan
):
    consent_decide_section(plan=care_plan, section="needs_support", carer=mum.carer,
                           shared=True, decided_by=world.service_user_account)
    for n in range(2):
        add_item(care_plan, "needs_support", world.service_user_account, f"Shared {n}")
    carer = client_for(world.carer_account)
    service_user = client_for(world.service_user_account)
    urls = {
        "carer page": (carer, f"/carers/people/{mum.pk}/"),
        "carer API": (carer, f"/api/v1/carer/people/{mum.pk}/shared-items/"),
        "preview": (service_user, preview_url(world, mum)),
    }
    with_two = {name: _queries(client, url) for name, (client, url) in urls.items()}

    for n in range(2, 20):
        add_item(care_plan, "needs_support", world.service_user_account, f"Shared {n}")
    for code in CRISIS_CODES[:4]:  # shared one by one too, with their own decisions
        consent_decide_item(item=prompt_item(care_plan, code), carer=mum.carer, shared=True,
                            decided_by=world.service_user_account)
    response = carer.get(f"/api/v1/carer/people/{mum.pk}/shared-items/")
    assert len(response.json()["results"]) == 24
    with_many = {name: _queries(client, url) for name, (client, url) in urls.items()}
    assert with_many == with_two


def test_the_carers_pages_stay_within_a_small_query_budget(
    world, mum, care_plan, django_assert_max_num_queries
):
    consent_decide_section(plan=care_plan, section="crisis", carer=mum.carer, shared=True,
                           decided_by=world.service_user_account)
    client = client_for(world.carer_account)
    client.get(f"/carers/people/{mum.pk}/")
    # (21: the page also asks whether she is involved in the person's reviews.)
    with django_assert_max_num_queries(21):
        assert client.get(f"/carers/people/{mum.pk}/").status_code == 200
    with django_assert_max_num_queries(20):
        assert client.get(f"/api/v1/carer/people/{mum.pk}/shared-items/").status_code == 200


# --- No way round: a crisis item that was not shared --------------------------------------


def test_a_carer_without_consent_reaches_a_crisis_item_by_no_surface(world, mum, care_plan):
    """Something else is shared (so the carer has a page with content), the crisis plan
    is not; the plan has agreed and proposed versions. Every way in is closed."""
    shared = add_item(care_plan, "needs_support", world.service_user_account,
                      "Lifts to appointments", body="Mum drives on Tuesdays.")
    consent_decide_item(item=shared, carer=mum.carer, shared=True,
                        decided_by=world.service_user_account)
    crisis = prompt_item(care_plan, "advance_statement")
    first = propose(care_plan, world.service_user_account)
    sign(first, world.service_user_account)
    sign(first, world.coordinator)
    write(crisis, world.service_user_account, "Crisis answer advance_statement, changed.")
    second = propose(care_plan, world.coordinator)
    crisis_items = list(care_plan.items.filter(section="crisis"))
    secrets = [f"Crisis answer {code}" for code in CRISIS_CODES]

    carer = client_for(world.carer_account)
    owner = client_for(world.service_user_account)
    # The owner sees it all (so the URLs are right) ...
    assert owner.get(f"/plans/{care_plan.pk}/").status_code == 200
    assert owner.get(f"/plans/{care_plan.pk}/versions/1/compare/2/").status_code == 200
    assert owner.get(f"/plans/items/{crisis.pk}/history/").status_code == 200

    def assert_no_crisis_content(where: str, page: str) -> None:
        page = html.unescape(page)
        for secret in secrets:
            assert secret not in page, (where, secret)
        for item in crisis_items:
            assert item.title not in page, (where, item.title)
        assert "Crisis and contingency plan" not in page, where

    # ... the carer: their own pages, and the versions of a plan with something shared
    # with them, show only what is shared ...
    for url in ("/", f"/carers/people/{mum.pk}/", f"/api/v1/carer/people/{mum.pk}/shared-items/",
                "/notifications/", f"/plans/versions/{first.pk}/",
                f"/plans/versions/{second.pk}/", f"/api/v1/versions/{first.pk}/",
                f"/api/v1/versions/{second.pk}/", f"/api/v1/items/{shared.pk}/",
                f"/plans/items/{shared.pk}/history/"):
        response = carer.get(url)
        assert response.status_code in (200, 404), url
        assert_no_crisis_content(url, response.content.decode())
    assert "Mum drives on Tuesdays." in text(carer.get(f"/carers/people/{mum.pk}/"))
    for version in (first, second):
        response = carer.get(f"/plans/versions/{version.pk}/")
        if response.status_code == 200:
            assert "Mum drives on Tuesdays." in text(response)
        # A PDF of it holds what the page holds, asked of the policy as the carer.
        pdf_html, _ = version_pdf_html(requester=world.carer_account, version=version)
        assert_no_crisis_content(f"PDF of version {version.number}", pdf_html)

    # ... and every other way in is "not found".
    not_found = [
        f"/plans/{care_plan.pk}/", f"/plans/{care_plan.pk}/print/",
        f"/plans/{care_plan.pk}/versions/1/compare/2/",
        f"/plans/{care_plan.pk}/versions/2/compare/1/",
        f"/api/v1/plans/{care_plan.pk}/", f"/api/v1/plans/{care_plan.pk}/versions/",
        f"/api/v1/service-users/{world.service_user.pk}/plans/",
        overview_url(world), carer_url(world, mum), preview_url(world, mum),
        decisions_api(world), rules_api(world),
    ]
    for item in crisis_items:
        not_found += [f"/api/v1/items/{item.pk}/", f"/plans/items/{item.pk}/history/",
                      f"/plans/items/{item.pk}/edit/"]
    for url in not_found:
        assert carer.get(url).status_code == 404, url
    # Still not after the section is shared with someone else.
    consent_decide_section(plan=care_plan, section="crisis",
                           carer=CarerRelationshipFactory(
                               carer=CarerFactory(user=UserFactory(roles=[Role.CARER])),
                               service_user=world.service_user).carer,
                           shared=True, decided_by=world.service_user_account)
    for item in crisis_items:
        assert carer.get(f"/api/v1/items/{item.pk}/").status_code == 404
    assert "Crisis answer" not in carer.get(f"/carers/people/{mum.pk}/").content.decode()
