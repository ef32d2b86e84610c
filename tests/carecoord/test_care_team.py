"""A care team beyond one coordinator (security issue 13, point 12): each care-team role
sees the parts of a record the policy's table allows — on the pages, the API and the PDF —
and everything else is not found; the end date is honoured; only the allocated
coordinator or the team's manager changes the care team; the service user sees who is on
it."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command
from django.urls import reverse
from pypdf import PdfReader

from carecoord.audit.models import AccessEvent
from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from carecoord.records.models import CareTeamMember, CareTeamRole, Role
from consent import policy
from consent.policy import Area, Basis
from tests import clock
from tests.carecoord.careteam_helpers import (  # noqa: F401 (record is a fixture)
    WORDS,
    add_to_care_team,
    item_url,
    plan_url,
    professional,
    record,
    record_url,
)
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory, UserFactory
from tests.forms import date_parts

# What each role should see, written out here (not read from the policy's table), so a
# change to the table must change this test too.
EXPECTED = {
    CareTeamRole.PSYCHIATRIST: {"contacts", "care_plan", "goal", "crisis_plan",
                                "advance_statement"},
    CareTeamRole.DUTY_WORKER: {"contacts", "crisis_plan"},
    CareTeamRole.CRISIS_TEAM: {"contacts", "crisis_plan", "advance_statement"},
    CareTeamRole.PSYCHOLOGIST: {"contacts", "care_plan", "goal"},
    CareTeamRole.OTHER: {"contacts"},
}
ITEM_KEYS = ("care_plan", "goal", "crisis_plan", "advance_statement", "wrap")


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def test_the_table_is_what_the_policy_holds():
    assert {role: {str(a) for a in areas} for role, areas in policy.AREAS_BY_ROLE.items()} == {
        role: {key for key in keys if key != "goal"} for role, keys in EXPECTED.items()
    }
    assert {Area.CRISIS_PLAN, Area.ADVANCE_STATEMENT} == policy.BREAK_GLASS_AREAS


@pytest.mark.parametrize("role", list(EXPECTED))
def test_each_role_sees_its_areas_and_nothing_else_on_pages_and_api(
        world, record, role):  # noqa: F811
    member = professional()
    add_to_care_team(world, member, role)
    client = client_for(member)
    allowed = EXPECTED[role]

    # The record's page: contact details, no carers, no consent.
    page = client.get(record_url(world))
    assert page.status_code == 200
    text = page.content.decode()
    assert WORDS["contacts"] in text
    assert WORDS["discharge_plan"] not in text
    assert WORDS["discharge_plan"] in client_for(world.coordinator).get(
        record_url(world)).content.decode()
    assert world.carer_relationship.carer.name not in text
    assert reverse("consent_overview", args=[world.service_user.pk]) not in text
    assert client.get(reverse("consent_overview",
                              args=[world.service_user.pk])).status_code == 404

    # The care plan's page shows exactly the allowed items.
    sees_care_plan = bool(allowed & {"care_plan", "crisis_plan", "advance_statement"})
    page = client.get(plan_url(record.care_plan))
    assert page.status_code == (200 if sees_care_plan else 404)
    api = client.get(reverse("api_plan", args=[record.care_plan.pk]))
    assert api.status_code == (200 if sees_care_plan else 404)
    assert api["Content-Type"].startswith("application/json")
    for key in ITEM_KEYS:
        visible = key in allowed
        assert (WORDS[key] in page.content.decode()) is visible, (role, key)
        assert (WORDS[key] in api.content.decode()) is visible, (role, key)
        item = record.items[key]
        assert client.get(item_url(item)).status_code == (200 if visible else 404), key
        assert client.get(reverse("api_item", args=[item.pk])).status_code == (
            200 if visible else 404), key

    # Never the WRAP, never the reviews, never a diff of versions; never an edit.
    assert client.get(plan_url(record.wrap)).status_code == 404
    assert client.get(reverse("api_plan", args=[record.wrap.pk])).status_code == 404
    assert client.get(reverse("api_plan_reviews",
                              args=[record.care_plan.pk])).status_code == 404
    assert client.get(reverse("item_edit", args=[record.items["crisis_plan"].pk])
                      ).status_code == 404
    assert client.get(reverse("api_service_user",
                              args=[world.service_user.pk])).status_code == 200

    # Every read is audited with the care-team basis.
    assert AccessEvent.objects.filter(actor=member, action="service_user_record.view",
                                      basis=str(Basis.CARE_TEAM)).exists()
    if sees_care_plan:
        assert AccessEvent.objects.filter(actor=member, action="plan_detail.view",
                                          basis=str(Basis.CARE_TEAM)).exists()


@pytest.mark.parametrize("role", [CareTeamRole.DUTY_WORKER, CareTeamRole.PSYCHIATRIST,
                                  CareTeamRole.OTHER])
def test_the_pdf_holds_only_the_roles_areas(world, record, role,  # noqa: F811
                                            django_capture_on_commit_callbacks):
    member = professional()
    add_to_care_team(world, member, role)
    client = client_for(member)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(reverse("version_pdf_request", args=[record.version.pk]))
    if role == CareTeamRole.OTHER:
        assert response.status_code == 404
        assert client.get(reverse("version_detail",
                                  args=[record.version.pk])).status_code == 404
        assert not Export.objects.filter(requested_by=member).exists()
        return
    assert response.status_code == 302
    export = Export.objects.filter(requested_by=member).latest("pk")
    assert export.status == Export.Status.READY, export.error
    reader = PdfReader(exports.exports_dir() / export.file_name)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    for key in ("care_plan", "crisis_plan", "advance_statement"):
        assert (WORDS[key] in text) is (key in EXPECTED[role]), (role, key)
    assert f"Made for {member.display_name}, on" in text
    assert "Shared with" not in text
    # The version page shows the same entries.
    page = client.get(reverse("version_detail", args=[record.version.pk])).content.decode()
    for key in ("care_plan", "crisis_plan", "advance_statement"):
        assert (WORDS[key] in page) is (key in EXPECTED[role]), (role, key)


def test_the_end_date_is_honoured(world, record):  # noqa: F811
    member = professional()
    add_to_care_team(world, member, CareTeamRole.CRISIS_TEAM, ended_on=clock.days(3))
    client = client_for(member)
    urls = [record_url(world), plan_url(record.care_plan),
            item_url(record.items["advance_statement"]),
            reverse("api_plan", args=[record.care_plan.pk]),
            reverse("api_service_user", args=[world.service_user.pk])]
    # Signing in again each day: an idle session ends (SESSION_IDLE_MINUTES).
    with clock.travel_to(clock.days(3)):
        client = client_for(member)
        for url in urls:
            assert client.get(url).status_code == 200, url
    with clock.travel_to(clock.days(4)):
        client = client_for(member)
        for url in urls:
            assert client.get(url).status_code == 404, url
        assert client.get(reverse("api_service_users")).json()["results"] == []


def test_a_place_counts_from_its_start_date_and_stops_when_ended(world, record):  # noqa: F811
    member = professional()
    place = add_to_care_team(world, member, CareTeamRole.PSYCHIATRIST,
                             started_on=clock.days(2))
    client = client_for(member)
    assert client.get(plan_url(record.care_plan)).status_code == 404
    with clock.travel_to(clock.days(2)):
        client = client_for(member)
        assert client.get(plan_url(record.care_plan)).status_code == 200
        coordinator = client_for(world.coordinator)
        response = coordinator.post(reverse("care_team_end", args=[place.pk]))
        assert response.status_code == 302
        # Ended now: not found at once, on every surface.
        assert client.get(plan_url(record.care_plan)).status_code == 404
        assert client.get(record_url(world)).status_code == 404
        assert client.get(reverse("api_item",
                                  args=[record.items["crisis_plan"].pk])).status_code == 404
    assert AccessEvent.objects.filter(actor=world.coordinator, action="care_team.end").exists()


def test_the_coordinator_adds_a_member_on_the_care_team_page(world, record):  # noqa: F811
    member = professional("Dr Nadia Okafor")
    coordinator = client_for(world.coordinator)
    page = coordinator.get(record_url(world)).content.decode()
    assert reverse("care_team_manage", args=[world.service_user.pk]) in page
    response = coordinator.post(reverse("care_team_manage", args=[world.service_user.pk]), {
        "member": member.pk, "care_team_role": CareTeamRole.PSYCHIATRIST,
        **date_parts("started_on", clock.today()), **date_parts("ended_on", ""),
    })
    assert response.status_code == 302
    place = CareTeamMember.objects.get(member=member)
    assert place.care_team_role == CareTeamRole.PSYCHIATRIST
    assert place.added_by == world.coordinator
    assert AccessEvent.objects.filter(actor=world.coordinator, action="care_team.add",
                                      target=f"care_team_member:{place.pk}").exists()
    assert Notification.objects.filter(user=member, text__contains="care team").exists()
    page = coordinator.get(record_url(world)).content.decode()
    assert "Dr Nadia Okafor" in page
    assert reverse("care_team_end", args=[place.pk]) in page
    assert client_for(member).get(plan_url(record.care_plan)).status_code == 200


def test_the_team_manager_adds_and_ends_without_seeing_the_record(world, record):  # noqa: F811
    member = professional()
    manager = client_for(world.manager)
    url = reverse("care_team_manage", args=[world.service_user.pk])
    assert manager.get(url).status_code == 200
    assert WORDS["contacts"] not in manager.get(url).content.decode()
    response = manager.post(url, {"member": member.pk,
                                  "care_team_role": CareTeamRole.DUTY_WORKER,
                                  **date_parts("started_on", clock.today())})
    assert response.status_code == 302
    place = CareTeamMember.objects.get(member=member)
    assert manager.get(record_url(world)).status_code == 404
    assert manager.post(reverse("care_team_end", args=[place.pk])).status_code == 302
    assert client_for(member).get(record_url(world)).status_code == 404
    # Another team's manager: not found.
    other = client_for(world.other_manager)
    assert other.get(url).status_code == 404


def test_a_coordinator_cannot_add_themselves_to_another_teams_record(world, record):  # noqa: F811
    outsider = UserFactory(roles=[Role.COORDINATOR])
    world.other_team.coordinators.add(outsider)
    other_record = ServiceUserFactory(team=world.other_team)
    AllocationFactory(episode=EpisodeFactory(service_user=other_record), coordinator=outsider)
    client = client_for(outsider)
    url = reverse("care_team_manage", args=[world.service_user.pk])
    assert client.get(url).status_code == 404
    response = client.post(url, {"member": outsider.pk,
                                 "care_team_role": CareTeamRole.PSYCHIATRIST,
                                 **date_parts("started_on", clock.today())})
    assert response.status_code == 404
    assert not CareTeamMember.objects.exists()
    assert client.get(record_url(world)).status_code == 404
    # Nor may the allocated coordinator name themselves (they are not a choice).
    coordinator = client_for(world.coordinator)
    response = coordinator.post(url, {"member": world.coordinator.pk,
                                      "care_team_role": CareTeamRole.PSYCHIATRIST,
                                      **date_parts("started_on", clock.today())})
    assert response.status_code == 200
    assert not CareTeamMember.objects.exists()
    assert not policy.may_join_care_team(world.coordinator, world.service_user,
                                         world.coordinator)


def test_a_care_team_member_cannot_add_or_end_others(world, record):  # noqa: F811
    member = professional()
    place = add_to_care_team(world, member, CareTeamRole.PSYCHIATRIST)
    other = professional("Sam Duty")
    client = client_for(member)
    url = reverse("care_team_manage", args=[world.service_user.pk])
    assert client.get(url).status_code == 404
    assert client.post(url, {"member": other.pk, "care_team_role": CareTeamRole.DUTY_WORKER,
                             **date_parts("started_on", clock.today())}).status_code == 404
    assert client.post(reverse("care_team_end", args=[place.pk])).status_code == 404
    assert list(CareTeamMember.objects.values_list("member_id", flat=True)) == [member.pk]
    place.refresh_from_db()
    assert place.ended_at is None


def test_the_service_user_sees_their_care_team(world, record):  # noqa: F811
    member = professional("Dr Nadia Okafor")
    add_to_care_team(world, member, CareTeamRole.PSYCHIATRIST, started_on=clock.days(-10))
    page = client_for(world.service_user_account).get(record_url(world)).content.decode()
    assert "Your care team" in page
    assert "Dr Nadia Okafor" in page
    assert "psychiatrist" in page
    assert f"Since {clock.days(-10):%-d %B %Y}" in page
    # A carer or another service user sees nothing of it.
    assert client_for(world.carer_account).get(record_url(world)).status_code == 404


def test_the_demo_has_a_psychiatrist_and_a_duty_worker_made_once(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    call_command("seed_demo", stdout=io.StringIO())
    call_command("seed_demo", stdout=io.StringIO())
    places = {(p.member.email, p.care_team_role, p.service_user.full_name)
              for p in CareTeamMember.objects.select_related("member", "service_user")}
    assert places == {
        ("dr.adebayo@demo.carecoord.test", CareTeamRole.PSYCHIATRIST, "Alexandra Morgan"),
        ("duty.worker@demo.carecoord.test", CareTeamRole.DUTY_WORKER, "Daniel Reid"),
    }
    psychiatrist = CareTeamMember.objects.get(care_team_role=CareTeamRole.PSYCHIATRIST)
    client = client_for(psychiatrist.member)
    assert client.get(record_url_of(psychiatrist.service_user)).status_code == 200
    duty = CareTeamMember.objects.get(care_team_role=CareTeamRole.DUTY_WORKER)
    # The duty worker is on Dan's care team, not Alex's.
    assert client_for(duty.member).get(
        record_url_of(psychiatrist.service_user)).status_code == 404


def record_url_of(service_user) -> str:
    return reverse("service_user_detail", args=[service_user.pk])


def test_a_professional_finds_their_care_teams_on_their_home_page(world, record):  # noqa: F811
    member = professional()
    add_to_care_team(world, member, CareTeamRole.DUTY_WORKER)
    home = client_for(member).get(reverse("home")).content.decode()
    assert "Care teams you are on" in home
    assert record_url(world) in home
    assert "duty worker" in home
    assert reverse("break_glass") in home


def test_the_care_team_api_and_fhir_list_the_team_for_record_readers_only(
        world, record):  # noqa: F811
    member = professional("Dr Nadia Okafor")
    add_to_care_team(world, member, CareTeamRole.PSYCHIATRIST, started_on=clock.days(-10))
    url = f"/api/v1/service-users/{world.service_user.pk}/care-team/"
    for reader in (world.service_user_account, world.coordinator):
        response = client_for(reader).get(url)
        assert response.status_code == 200
        [row] = response.json()["results"]
        assert (row["name"], row["care_team_role"]) == ("Dr Nadia Okafor", "psychiatrist")
        assert row["started_on"] == clock.days(-10).isoformat()
    for outsider in (world.carer_account, world.other_coordinator, world.manager,
                     world.other_service_user_account):
        response = client_for(outsider).get(url)
        assert response.status_code == 404, outsider
        assert response.json()["error"] == "not_found"
    # The FHIR export's CareTeam names the member, for the record's full readers...
    bundle = client_for(world.coordinator).get(
        f"/api/v1/service-users/{world.service_user.pk}/fhir").json()
    [team] = [e["resource"] for e in bundle["entry"]
              if e["resource"]["resourceType"] == "CareTeam"]
    assert "Dr Nadia Okafor" in str(team)
    # ...while the member, who sees areas of the record and not the whole, gets no export.
    assert client_for(member).get(
        f"/api/v1/service-users/{world.service_user.pk}/fhir").status_code == 404


def test_a_care_team_member_reads_no_episode_or_discharge_plan_through_the_api(
        world, record):  # noqa: F811
    """Discharge plans are outside every care-team area: not through the episodes API
    either, though the member may open the record's contacts."""
    member = professional("Lee Duty")
    add_to_care_team(world, member, CareTeamRole.DUTY_WORKER, started_on=clock.days(-1))
    client = client_for(member)
    episode = world.service_user.episodes.get()
    listed = client.get(f"/api/v1/service-users/{world.service_user.pk}/episodes/")
    assert listed.status_code == 200
    assert listed.json()["results"] == []
    assert client.get(f"/api/v1/episodes/{episode.pk}/").status_code == 404
    assert WORDS["discharge_plan"] not in listed.content.decode()
    # The coordinator still reads them.
    coordinator = client_for(world.coordinator).get(f"/api/v1/episodes/{episode.pk}/")
    assert coordinator.json()["discharge_plan"] == WORDS["discharge_plan"]
