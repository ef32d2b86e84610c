"""Names as people want them (issue 12, point 4): everyone is greeted and listed by the name
they asked to be called; staff who must identify someone also see the full name, date of
birth and NHS number (3-3-4) on the caseload, the record's header and the first page of a
plan's PDF; a carer never sees those."""

from __future__ import annotations

import io
import json

import pytest
from django.urls import reverse
from pypdf import PdfReader

from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.exports.pdf import html_to_pdf
from carecoord.records import services as record_services
from carecoord.records.models import Invitation
from carecoord.records.nhs_number import nhs_number_display
from consent.services import consent_decide_item
from plans import exports as plan_exports
from plans.sections import PlanKind
from tests import clock
from tests.conftest import client_for
from tests.factories import ServiceUserFactory
from tests.plans.factories import add_item, add_responsibility, make_plan, propose

NHS_NUMBER = "9434765919"
SPACED = "943 476 5919"


@pytest.fixture
def named(world):
    """Everyone has a full name and a shorter name they asked for."""
    names = {
        world.service_user_account: ("Alexandra Morgan", "Alex"),
        world.coordinator: ("Samantha Okafor", "Sam"),
        world.carer_account: ("Linda Carer-Smith", "Lin"),
        world.manager: ("Priyanka Manager", "Priya"),
        world.admin: ("Administrator Person", "Ade"),
    }
    for user, (full, preferred) in names.items():
        user.full_name, user.preferred_name = full, preferred
        user.save()
    service_user = world.service_user
    service_user.full_name, service_user.preferred_name = "Alexandra Morgan", "Alex"
    service_user.date_of_birth = clock.days(-365 * 30)
    service_user.nhs_number = NHS_NUMBER
    service_user.save()
    world.names = names
    return world


def _html(user, url) -> str:
    response = client_for(user).get(url)
    assert response.status_code == 200, url
    return response.content.decode()


def _born(world) -> tuple[str, ...]:
    dob = world.service_user.date_of_birth
    return (f"{dob:%-d %B %Y}", f"{dob:%-d %b %Y}", dob.isoformat())


MAIN_PAGES = {
    "service_user_account": ["/", "/service-users/{su}/who-has-looked/", "/notifications/"],
    "coordinator": ["/", "/service-users/{su}/", "/notifications/"],
    "carer_account": ["/", "/carers/me/", "/carers/people/{rel}/"],
    "manager": ["/", "/teams/{team}/", "/teams/{team}/reports/"],
}


@pytest.mark.parametrize("role", list(MAIN_PAGES))
def test_everyone_is_greeted_by_the_name_they_asked_for(named, role):
    user = getattr(named, role)
    full, preferred = named.names[user]
    assert f"Hello, {preferred}</h1>" in _html(user, "/")
    for template in MAIN_PAGES[role]:
        url = template.format(su=named.service_user.pk, rel=named.carer_relationship.pk,
                              team=named.team.pk)
        page = _html(user, url)
        # The header names them the same way; their own full name is nowhere.
        assert f"Signed in as </span>{preferred}" in page, url
        assert full not in page, url


def test_the_caseload_identifies_each_person(named):
    home = _html(named.coordinator, "/")
    caseload = home.split("Your caseload", 1)[1]
    assert ">Alex</a>" in caseload
    assert "Alexandra Morgan" in caseload
    assert SPACED in caseload
    assert _born(named)[1] in caseload


def test_the_teams_caseload_identifies_each_person_for_its_manager(named):
    page = _html(named.manager, f"/teams/{named.team.pk}/")
    assert "Alexandra Morgan" in page
    assert SPACED in page
    assert client_for(named.other_manager).get(f"/teams/{named.team.pk}/").status_code == 404


def test_the_record_header_identifies_the_person_for_staff_only(named):
    record_url = f"/service-users/{named.service_user.pk}/"
    staff = _html(named.coordinator, record_url)
    header = staff.split("<h1>", 1)[1].split("<h2", 1)[0]
    assert "Alex</h1>" in header
    assert 'data-testid="identity"' in header
    assert "Alexandra Morgan" in header
    assert SPACED in header
    own = _html(named.service_user_account, record_url)
    assert 'data-testid="identity"' not in own
    # The other person's record: 404 as ever.
    assert client_for(named.other_coordinator).get(record_url).status_code == 404


def test_nhs_numbers_read_3_3_4():
    assert nhs_number_display(NHS_NUMBER) == SPACED
    assert nhs_number_display("") == ""
    assert nhs_number_display("12") == "12"


# --- Carers never see what identifies the person ------------------------------------------


@pytest.fixture
def shared(named, django_capture_on_commit_callbacks):
    """A care plan item and a responsibility agreement shared with the carer."""
    care_plan = make_plan(named)
    item = add_item(care_plan, "needs_support", named.coordinator, "Help with shopping",
                    body="Lin drives on Saturdays.")
    consent_decide_item(item=item, carer=named.carer_relationship.carer, shared=True,
                        decided_by=named.service_user_account)
    agreement = make_plan(named, PlanKind.RESPONSIBILITY_AGREEMENT)
    held = add_responsibility(agreement, named.coordinator, holder="carer",
                              relationship_pk=named.carer_relationship.pk,
                              title="Collecting prescriptions")
    version = propose(agreement, named.coordinator)
    named.shared_version = version
    named.shared_items = (item, held)
    return named


def _identifying(world) -> tuple[str, ...]:
    return ("Alexandra Morgan", NHS_NUMBER, SPACED, *_born(world))


@pytest.fixture
def eager_tasks(settings):
    """Tasks run in-process (as tests/plans/test_pdf_exports.py does)."""
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_a_carers_pages_api_and_pdf_never_identify_the_person(
        shared, eager_tasks, django_capture_on_commit_callbacks):
    world = shared
    relationship = world.carer_relationship
    carer = client_for(world.carer_account)
    pages = {
        "home": "/",
        "own space": "/carers/me/",
        "person": f"/carers/people/{relationship.pk}/",
        "version": reverse("version_detail", args=[world.shared_version.pk]),
        "api people": "/api/v1/carer/people/",
        "api shared items": f"/api/v1/carer/people/{relationship.pk}/shared-items/",
    }
    seen = {}
    for name, url in pages.items():
        response = carer.get(url)
        assert response.status_code == 200, name
        seen[name] = response.content.decode()
        if response["Content-Type"].startswith("application/json"):
            seen[name] = json.dumps(response.json(), ensure_ascii=False)
    with django_capture_on_commit_callbacks(execute=True):
        carer.post(reverse("version_pdf_request", args=[world.shared_version.pk]))
    export = Export.objects.filter(requested_by=world.carer_account).latest("pk")
    assert export.status == Export.Status.READY, export.error
    seen["pdf"] = "\n".join(page.extract_text() for page in PdfReader(
        exports.exports_dir() / export.file_name).pages)

    assert "Help with shopping" in seen["person"]  # the pages are not simply empty
    assert "Collecting prescriptions" in seen["pdf"]
    for name, text in seen.items():
        assert "Alex" in text or name in {"own space", "api people"}, name
        for words in _identifying(world):
            assert words not in text, (name, words)
    # The plan's print page is not a carer's to open.
    care_plan = world.shared_items[0].plan
    assert carer.get(reverse("plan_print", args=[care_plan.pk])).status_code == 404


# --- The plan PDF's first page, and the fingerprint -------------------------------------------


def _pdf_pages(requester, version) -> list[str]:
    html, _ = plan_exports.version_pdf_html(requester=requester, version=version)
    content = html_to_pdf(html)
    return [" ".join(page.extract_text().split())
            for page in PdfReader(io.BytesIO(content)).pages]


def test_the_plan_pdfs_first_page_identifies_the_person_for_staff(shared):
    world = shared
    version = world.shared_version
    first = _pdf_pages(world.coordinator, version)[0]
    assert "Alexandra Morgan" in first
    assert SPACED in first
    assert _born(world)[0] in first
    assert "Content fingerprint (SHA-256)" in first
    assert "How do we know this has not changed?" not in first

    own = " ".join(_pdf_pages(world.service_user_account, version))
    assert SPACED not in own
    assert "How do we know this has not changed?" in own
    assert version.content_hash in own.replace(" ", "")


def test_the_version_page_puts_the_fingerprint_in_a_details_component(shared):
    world = shared
    url = reverse("version_detail", args=[world.shared_version.pk])
    for user in (world.service_user_account, world.carer_account, world.coordinator):
        html = _html(user, url)
        details = html.split('<details class="nhsuk-details">', 1)[1].split("</details>", 1)[0]
        assert "How do we know this has not changed?" in details
        assert world.shared_version.content_hash in details
        assert html.count(world.shared_version.content_hash) == 1


# --- Choosing the name when taking up an invitation --------------------------------------------


def test_a_new_account_is_greeted_by_the_name_on_its_record_or_the_one_it_chose(
        world, django_capture_on_commit_callbacks):
    accounts = []
    for chosen in ("", "Jojo"):
        service_user = ServiceUserFactory(team=world.team, preferred_name="Jo",
                                          email=f"jo{len(accounts)}@example.test")
        with django_capture_on_commit_callbacks(execute=True):
            _, token = record_services.invitation_create(service_user=service_user,
                                                         invited_by=world.coordinator)
        accounts.append(record_services.invitation_accept(
            token=token, password="a long pass phrase 93", full_name="Joanna Bloggs",
            preferred_name=chosen))
    assert [user.display_name for user in accounts] == ["Jo", "Jojo"]
    assert "Hello, Jojo</h1>" in _html(accounts[1], "/")
    assert Invitation.objects.filter(accepted_by__in=accounts).count() == 2


def test_changing_the_name_on_ones_record_changes_the_greeting(named):
    client = client_for(named.service_user_account)
    url = f"/service-users/{named.service_user.pk}/edit/"
    form = client.get(url).context["form"]
    data = {name: ("" if value is None else value) for name, value in form.initial.items()}
    data.update({"preferred_name": "Lexi", "version": named.service_user.version})
    response = client.post(url, {k: v for k, v in data.items() if k in form.fields})
    assert response.status_code == 302, response.context["form"].errors
    assert "Hello, Lexi</h1>" in _html(named.service_user_account, "/")
