"""The pages care coordinators, managers, service users and carers use for records,
episodes, allocations and carers, and the demo data."""

from __future__ import annotations

import datetime as dt
import html
import io
import re

import pytest
from django.core.management import call_command
from django.test import Client
from django.utils import dateformat

from carecoord.records.models import Allocation, Episode, Role, ServiceUser, Team, User
from carers.models import Carer, CarerRelationship
from tests import clock
from tests.conftest import client_for
from tests.factories import (
    AllocationFactory,
    EpisodeFactory,
    ServiceUserFactory,
    UserFactory,
)
from tests.forms import date_parts

NHS_NUMBER_ERROR = "Enter a valid NHS number: 10 digits, like 943 476 5919."


def text(response) -> str:
    return html.unescape(response.content.decode())


def long_date(value: dt.date) -> str:
    return dateformat.format(value, "j F Y")


def today() -> dt.date:
    return clock.today()


def record_url(record: ServiceUser) -> str:
    return f"/service-users/{record.pk}/"


def allocate_new_record(team: Team, coordinator: User, **episode) -> ServiceUser:
    record = ServiceUserFactory(team=team)
    AllocationFactory(episode=EpisodeFactory(service_user=record, **episode),
                      coordinator=coordinator)
    return record


# --- Adding a service user -------------------------------------------------------------


def create_data(team: Team, **overrides) -> dict:
    start = today()
    data = {
        "team": team.pk,
        "full_name": "Morgan Ellis-Price",
        "preferred_name": "Mo",
        "pronouns": "they/them",
        "date_of_birth": "1991-07-23",  # written out as typed in the boxes below
        "nhs_number": "943 476 5919",
        "email": "mo.ellis@example.test",
        "phone": "07700 900123",
        "address": "12 Quay Street\nHexham",
        "preferred_contact": "text",
        "contact_notes": "Please do not leave voicemails.",
        "started_on": start.isoformat(),
        "planned_end_on": (start + dt.timedelta(weeks=26)).isoformat(),
    }
    data.update(overrides)
    return _as_boxes(data)


_DATES = ("date_of_birth", "started_on", "planned_end_on", "discharged_on")


def _as_boxes(data: dict) -> dict:
    """Dates as a person types them: day, month and year boxes (tests/forms.py)."""
    for name in _DATES:
        if name in data:
            data.update(date_parts(name, data.pop(name)))
    return data


def test_coordinator_adds_a_service_user(world):
    client = client_for(world.coordinator)
    form = text(client.get("/service-users/new/"))
    assert "Add a service user" in form
    assert f'type="hidden" name="team" value="{world.team.pk}"' in form  # only one team

    response = client.post("/service-users/new/", create_data(world.team))
    record = ServiceUser.objects.get(full_name="Morgan Ellis-Price")
    assert response.status_code == 302
    assert response.url == record_url(record)

    assert record.team == world.team
    assert record.nhs_number == "9434765919"
    assert record.preferred_contact == "text"
    assert record.date_of_birth == dt.date(1991, 7, 23)
    episode = record.episodes.get()
    assert episode.is_open
    assert episode.started_on == today()
    assert episode.planned_end_on == today() + dt.timedelta(weeks=26)
    assert list(Allocation.objects.active().filter(episode=episode)
                .values_list("coordinator", flat=True)) == [world.coordinator.pk]

    page = text(client.get(response.url))
    assert "Mo's record has been created. You are their care coordinator." in page
    assert "<h1>Mo</h1>" in page
    assert "943 476 5919" in page
    assert "Text message" in page
    assert "Week 1 of 26 planned" in page


def test_coordinator_in_two_teams_chooses_the_team(world):
    world.other_team.coordinators.add(world.coordinator)
    client = client_for(world.coordinator)
    form = text(client.get("/service-users/new/"))
    assert 'type="hidden" name="team"' not in form
    assert world.other_team.name in form
    response = client.post("/service-users/new/", create_data(world.other_team))
    assert response.status_code == 302
    assert ServiceUser.objects.get(full_name="Morgan Ellis-Price").team == world.other_team


def test_adding_to_a_team_you_are_not_in_is_refused(world):
    client = client_for(world.coordinator)
    response = client.post("/service-users/new/", create_data(world.other_team))
    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert not ServiceUser.objects.filter(full_name="Morgan Ellis-Price").exists()


@pytest.mark.parametrize("who", ["manager", "service_user_account", "carer_account", "no_role"])
def test_only_coordinators_can_add_service_users(world, who):
    client = client_for(getattr(world, who))
    assert client.get("/service-users/new/").status_code == 404
    assert client.post("/service-users/new/", create_data(world.team)).status_code == 404
    assert not ServiceUser.objects.filter(full_name="Morgan Ellis-Price").exists()


def test_invalid_details_show_every_error_and_keep_what_was_typed(world):
    client = client_for(world.coordinator)
    data = create_data(
        world.team,
        full_name="",
        preferred_name="Mo typed this",
        nhs_number="943 476 5918",
        address="Flat 3, 7 Typed Road",
        started_on="2025-03-10",
        planned_end_on="2025-03-01",
    )
    response = client.post("/service-users/new/", data)
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "<title>Error: " in page
    assert NHS_NUMBER_ERROR in page
    assert "The planned end must be after the start." in page
    assert "Enter the person's full name" in page
    assert "This field is required." not in page
    summary = page.split('class="nhsuk-error-summary"')[1].split("</ul>")[0]
    assert NHS_NUMBER_ERROR in summary
    assert "The planned end must be after the start." in summary
    assert 'href="#id_full_name"' in summary
    # What they typed is still there.
    assert 'value="943 476 5918"' in page
    assert 'value="Mo typed this"' in page
    assert "Flat 3, 7 Typed Road</textarea>" in page
    assert re.search(r'<input[^>]*name="started_on_day" value="10"', page)
    assert re.search(r'<input[^>]*name="planned_end_on_month" value="3"', page)
    assert re.search(r'<input[^>]*name="planned_end_on_day" value="1"', page)
    assert re.search(r'<input[^>]*name="preferred_contact" value="text"[^>]*checked', page)
    assert not ServiceUser.objects.filter(preferred_name="Mo typed this").exists()


# --- Editing with a version check ------------------------------------------------------


def detail_data(record: ServiceUser, version: int, **overrides) -> dict:
    data = {
        "full_name": record.full_name,
        "preferred_name": record.preferred_name,
        "pronouns": record.pronouns,
        "date_of_birth": record.date_of_birth.isoformat(),
        "nhs_number": record.nhs_number,
        "email": record.email,
        "phone": record.phone,
        "address": record.address,
        "preferred_contact": record.preferred_contact,
        "contact_notes": record.contact_notes,
        "version": version,
    }
    data.update(overrides)
    return _as_boxes(data)


def form_version(response) -> int:
    match = re.search(r'<input type="hidden" name="version" value="(\d+)"', text(response))
    assert match, "no version in the form"
    return int(match.group(1))


def test_two_coordinators_editing_at_once_see_a_conflict(world):
    record = world.service_user
    AllocationFactory(episode=record.episodes.get(), coordinator=world.other_coordinator)
    first, second = client_for(world.coordinator), client_for(world.other_coordinator)
    url = f"/service-users/{record.pk}/edit/"
    version_first = form_version(first.get(url))
    version_second = form_version(second.get(url))
    assert version_first == version_second == record.version

    saved = first.post(url, detail_data(record, version_first, preferred_name="Lex",
                                        phone="0191 000 1111"))
    assert saved.status_code == 302
    assert saved.url == record_url(record)

    response = second.post(url, detail_data(record, version_second, preferred_name="Ally",
                                            contact_notes="Second person typed this"))
    assert response.status_code == 200
    page = text(response)
    assert "Someone else changed these details" in page
    # Their own text is still in the form ...
    assert 'value="Ally"' in page
    assert "Second person typed this</textarea>" in page
    # ... and what the first person saved is shown beside it.
    conflict = page.split("Someone else changed these details")[1].split("</dl>")[0]
    assert "Lex" in conflict
    assert "0191 000 1111" in conflict
    record.refresh_from_db()
    assert record.preferred_name == "Lex"
    assert record.phone == "0191 000 1111"
    assert record.contact_notes == ""

    # The form now carries the new version: saving again keeps the second person's text.
    new_version = form_version(response)
    assert new_version == record.version
    data = detail_data(record, new_version, preferred_name="Ally",
                       contact_notes="Second person typed this")
    again = second.post(url, data)
    assert again.status_code == 302
    record.refresh_from_db()
    assert record.preferred_name == "Ally"
    assert record.contact_notes == "Second person typed this"
    assert record.version == new_version + 1


def test_edit_form_errors_keep_what_was_typed(world):
    record = world.service_user
    client = client_for(world.coordinator)
    response = client.post(
        f"/service-users/{record.pk}/edit/",
        detail_data(record, record.version, nhs_number="943 476 5918", preferred_name="Typed"),
    )
    assert response.status_code == 200
    assert NHS_NUMBER_ERROR in text(response)
    assert 'value="Typed"' in text(response)
    record.refresh_from_db()
    assert record.preferred_name == ""


def test_service_user_changes_only_how_they_are_named_and_contacted(world):
    record = world.service_user
    original = (record.full_name, record.nhs_number, record.date_of_birth, record.email)
    client = client_for(world.service_user_account)
    url = f"/service-users/{record.pk}/edit/"
    form = text(client.get(url))
    assert "Change how you are named and contacted" in form
    assert "What you like to be called" in form
    for name in ("full_name", "nhs_number", "date_of_birth", "email"):
        assert f'name="{name}"' not in form, name

    response = client.post(url, {
        "preferred_name": "Al", "pronouns": "he/him", "phone": "07700 900999",
        "address": "", "preferred_contact": "email", "contact_notes": "",
        "version": form_version(client.get(url)),
        # Not on the form: must change nothing.
        "full_name": "Someone Else", "nhs_number": "4010232137",
        **date_parts("date_of_birth", "2000-01-01"), "email": "elsewhere@example.test",
    })
    assert response.status_code == 302
    record.refresh_from_db()
    assert record.preferred_name == "Al"
    assert record.phone == "07700 900999"
    assert record.preferred_contact == "email"
    assert (record.full_name, record.nhs_number, record.date_of_birth,
            record.email) == original
    page = text(client.get(record_url(record)))
    assert "The details have been saved." in page
    assert "Your record" in page


@pytest.mark.parametrize("who", ["other_coordinator", "manager", "carer_account",
                                 "other_service_user_account"])
def test_other_people_cannot_edit_a_record(world, who):
    record = world.service_user
    client = client_for(getattr(world, who))
    url = f"/service-users/{record.pk}/edit/"
    assert client.get(url).status_code == 404
    response = client.post(url, detail_data(record, record.version, preferred_name="Hacked"))
    assert response.status_code == 404
    record.refresh_from_db()
    assert record.preferred_name != "Hacked"


# --- Discharge -------------------------------------------------------------------------


def episode_url(record: ServiceUser, episode: Episode) -> str:
    return f"/service-users/{record.pk}/episodes/{episode.pk}/"


def test_discharge_ends_coordination_and_allocations(world):
    record = world.service_user
    episode = record.episodes.get()
    client = client_for(world.coordinator)
    response = client.post(episode_url(record, episode), {
        **date_parts("planned_end_on", episode.planned_end_on),
        **date_parts("discharged_on", today()),
        "discharge_plan": "Peer support group on Tuesdays; GP reviews medication.",
    })
    assert response.status_code == 302
    assert response.url == "/"
    home = text(client.get("/"))
    assert "Care coordination has ended and the discharge plan is saved." in home
    assert "Nobody is allocated to you yet." in home

    episode.refresh_from_db()
    assert episode.discharged_on == today()
    assert episode.discharge_plan.startswith("Peer support group")
    assert not episode.allocations.filter(ended_on__isnull=True).exists()
    assert episode.allocations.get().ended_on == today()
    assert client.get(record_url(record)).status_code == 404

    own = text(client_for(world.service_user_account).get("/"))
    assert "You are not in care coordination at the moment." in own


def test_discharge_needs_a_plan_and_keeps_the_date(world):
    record = world.service_user
    episode = record.episodes.get()
    client = client_for(world.coordinator)
    discharge_date = today() - dt.timedelta(days=1)
    response = client.post(episode_url(record, episode), {
        **date_parts("planned_end_on", episode.planned_end_on),
        **date_parts("discharged_on", discharge_date),
        "discharge_plan": "   ",
    })
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Write the discharge plan before ending care coordination." in page
    assert re.search(rf'name="discharged_on_day" value="{discharge_date.day}"', page)
    assert re.search(rf'name="discharged_on_year" value="{discharge_date.year}"', page)
    episode.refresh_from_db()
    assert episode.is_open
    assert client.get(record_url(record)).status_code == 200


def test_other_coordinators_cannot_discharge(world):
    record = world.service_user
    episode = record.episodes.get()
    response = client_for(world.other_coordinator).post(episode_url(record, episode), {
        **date_parts("planned_end_on", episode.planned_end_on),
        **date_parts("discharged_on", today()), "discharge_plan": "x",
    })
    assert response.status_code == 404
    episode.refresh_from_db()
    assert episode.is_open


# --- Allocation by the team manager ----------------------------------------------------


def test_manager_allocates_and_ends_allocations(world):
    record = world.service_user
    manager = client_for(world.manager)
    url = f"/service-users/{record.pk}/allocations/new/"
    form = text(manager.get(url))
    assert f"Allocate a care coordinator to {record.name}" in form
    assert world.other_coordinator.display_name in form

    assert client_for(world.other_coordinator).get(record_url(record)).status_code == 404
    response = manager.post(url, {"coordinator": world.other_coordinator.pk})
    assert response.status_code == 302
    assert response.url == f"/teams/{world.team.pk}/"  # the manager cannot open the record
    assert (f"{world.other_coordinator.display_name} is now allocated to {record.name}."
            in text(manager.get(response.url)))
    assert client_for(world.other_coordinator).get(record_url(record)).status_code == 200

    allocation = Allocation.objects.active().get(episode__service_user=record,
                                                 coordinator=world.coordinator)
    assert manager.get(f"/allocations/{allocation.pk}/end/").status_code == 405
    response = manager.post(f"/allocations/{allocation.pk}/end/")
    assert response.status_code == 302
    assert response.url == f"/teams/{world.team.pk}/"
    allocation.refresh_from_db()
    assert allocation.ended_on == today()
    assert client_for(world.coordinator).get(record_url(record)).status_code == 404
    assert client_for(world.other_coordinator).get(record_url(record)).status_code == 200

    # Allocating does not open the record to the manager.
    assert manager.get(record_url(record)).status_code == 404


def test_manager_cannot_allocate_someone_outside_the_teams_coordinators(world):
    record = world.service_user
    elsewhere = UserFactory(roles=[Role.COORDINATOR])
    world.other_team.coordinators.add(elsewhere)
    in_team_without_role = UserFactory()
    world.team.coordinators.add(in_team_without_role)
    manager = client_for(world.manager)
    url = f"/service-users/{record.pk}/allocations/new/"
    for person in (elsewhere, in_team_without_role, world.manager,
                   world.other_service_user_account):
        response = manager.post(url, {"coordinator": person.pk})
        assert response.status_code in (200, 404), person
        if response.status_code == 200:
            assert "There is a problem" in text(response)
        assert not Allocation.objects.filter(coordinator=person).exists(), person
        assert client_for(person).get(record_url(record)).status_code == 404


@pytest.mark.parametrize("who", ["other_manager", "other_coordinator", "service_user_account",
                                 "carer_account"])
def test_other_people_cannot_allocate(world, who):
    record = world.service_user
    client = client_for(getattr(world, who))
    url = f"/service-users/{record.pk}/allocations/new/"
    assert client.get(url).status_code == 404
    assert client.post(url, {"coordinator": world.other_coordinator.pk}).status_code == 404
    allocation = Allocation.objects.active().get(episode__service_user=record)
    assert client.post(f"/allocations/{allocation.pk}/end/").status_code == 404
    allocation.refresh_from_db()
    assert allocation.ended_on is None
    assert not Allocation.objects.filter(coordinator=world.other_coordinator,
                                         episode__service_user=record).exists()


# --- Carers ----------------------------------------------------------------------------


def test_coordinator_adds_a_carer(world):
    record = world.service_user
    client = client_for(world.coordinator)
    response = client.post(f"/service-users/{record.pk}/carers/new/", {
        "full_name": "Omar Hussain", "relationship": "Brother",
        "email": "omar@example.test", "phone": "",
    })
    assert response.status_code == 302
    assert response.url == record_url(record)
    page = text(client.get(response.url))
    assert "Omar Hussain has been added as a carer." in page
    assert "<strong>Omar Hussain</strong> (Brother)" in page
    assert "No account yet." in page
    assert "Invite Omar Hussain to sign in" in page


def test_add_carer_form_errors(world):
    record = world.service_user
    response = client_for(world.coordinator).post(
        f"/service-users/{record.pk}/carers/new/",
        {"full_name": "Omar Typed", "relationship": "", "email": "not-an-email"},
    )
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Enter a valid email address." in page
    assert 'value="Omar Typed"' in page
    assert not Carer.objects.filter(full_name="Omar Typed").exists()


def test_a_carer_of_two_people_has_one_carer_record(world):
    second = allocate_new_record(world.team, world.coordinator)
    client = client_for(world.coordinator)
    for record, email, relationship in ((world.service_user, "kim@example.test", "Partner"),
                                        (second, "Kim@Example.TEST", "Sister")):
        response = client.post(f"/service-users/{record.pk}/carers/new/", {
            "full_name": "Kim Shared", "relationship": relationship, "email": email,
        })
        assert response.status_code == 302
    carer = Carer.objects.get(email__iexact="kim@example.test")
    assert sorted(carer.relationships.values_list("relationship", flat=True)) == [
        "Partner", "Sister"]
    assert "<strong>Kim Shared</strong> (Sister)" in text(client.get(record_url(second)))


def test_other_people_cannot_add_carers(world):
    record = world.service_user
    for who in (world.other_coordinator, world.manager, world.service_user_account):
        response = client_for(who).post(f"/service-users/{record.pk}/carers/new/", {
            "full_name": "Nope", "relationship": "Friend"})
        assert response.status_code == 404
    assert not CarerRelationship.objects.filter(carer__full_name="Nope").exists()


# --- Home pages ------------------------------------------------------------------------


def caseload_row(page: str, name: str) -> str:
    # Within the caseload's table only: the "getting stuck" list after it links names too
    # (the last row's chunk would run on into it, and fail when the names sort that way).
    table = page.split('id="caseload-heading"', 1)[1].split("</table>", 1)[0]
    rows = [row for row in table.split("<tr") if f">{name}</a>" in row]
    assert len(rows) == 1, f"{name} should have one caseload row"
    return rows[0]


def test_coordinator_home_shows_the_caseload_with_length_against_plan(world):
    start = today() - dt.timedelta(weeks=30)
    overdue = allocate_new_record(world.team, world.coordinator, started_on=start,
                                  planned_end_on=start + dt.timedelta(weeks=26))
    page = text(client_for(world.coordinator).get("/"))
    assert "Your caseload" in page

    row = caseload_row(page, world.service_user.name)
    assert "Week 5 of 26 planned" in row
    assert "Past planned end" not in row
    assert f'href="{record_url(world.service_user)}"' in row

    row = caseload_row(page, overdue.name)
    assert "Past planned end" in row
    assert "Week 31 of 26 planned (4 weeks past the planned end)" in row
    assert page.count("Past planned end") == 1

    # Not on this caseload: someone else's service user.
    assert world.other_service_user.name not in page


def test_coordinator_with_nobody_allocated(world):
    newcomer = UserFactory(roles=[Role.COORDINATOR])
    world.team.coordinators.add(newcomer)
    page = text(client_for(newcomer).get("/"))
    assert "Nobody is allocated to you yet." in page
    assert "Add a service user" in page


def test_discharged_and_ended_allocations_leave_the_caseload(world):
    discharged = allocate_new_record(world.team, world.coordinator)
    Episode.objects.filter(service_user=discharged).update(
        discharged_on=today(), discharge_plan="Done")
    handed_over = allocate_new_record(world.team, world.coordinator)
    Allocation.objects.filter(episode__service_user=handed_over).update(ended_on=today())
    page = text(client_for(world.coordinator).get("/"))
    assert f">{discharged.name}</a>" not in page
    assert f">{handed_over.name}</a>" not in page
    caseload_row(page, world.service_user.name)


def caseload_size(page: str, name: str) -> int:
    match = re.search(
        rf'<td class="nhsuk-table__cell">{re.escape(name)}</td>\s*'
        r'<td class="nhsuk-table__cell nhsuk-table__cell--numeric">(\d+)</td>',
        page,
    )
    assert match, f"no caseload size for {name}"
    return int(match.group(1))


def test_manager_home_lists_coordinators_with_caseload_sizes(world):
    allocate_new_record(world.team, world.coordinator)
    allocate_new_record(world.team, world.coordinator)
    gone = allocate_new_record(world.team, world.coordinator)
    Episode.objects.filter(service_user=gone).update(discharged_on=today(), discharge_plan="x")
    ended = allocate_new_record(world.team, world.other_coordinator)
    Allocation.objects.filter(episode__service_user=ended).update(ended_on=today())
    EpisodeFactory(service_user=ServiceUserFactory(team=world.team))  # never allocated
    # Allocated in another team: not this team's caseload.
    world.other_team.coordinators.add(world.coordinator)
    allocate_new_record(world.other_team, world.coordinator)
    idle = UserFactory(roles=[Role.COORDINATOR], full_name="Idle Coordinator")
    world.team.coordinators.add(idle)
    outsider = UserFactory(roles=[Role.COORDINATOR], full_name="Outside Coordinator")
    world.other_team.coordinators.add(outsider)

    page = text(client_for(world.manager).get("/"))
    assert "Your teams" in page
    assert world.team.name in page
    assert caseload_size(page, world.coordinator.display_name) == 3
    assert caseload_size(page, world.other_coordinator.display_name) == 1
    assert caseload_size(page, "Idle Coordinator") == 0
    assert "Outside Coordinator" not in page
    assert world.other_team.name not in page
    # Waiting for a care coordinator: the ended allocation and the one never allocated.
    assert "2 service users in care coordination have nobody allocated." in page
    # Metadata only: no service user names on the manager's home page.
    assert world.service_user.name not in page


def test_service_user_home_shows_their_episode_dates(world):
    episode = world.service_user.episodes.get()
    page = text(client_for(world.service_user_account).get("/"))
    assert "Your care coordination" in page
    assert (f"Your care coordination started on {long_date(episode.started_on)} and is "
            f"planned to end on {long_date(episode.planned_end_on)}.") in page
    assert f'href="{record_url(world.service_user)}"' in page


def test_carer_home_lists_who_they_care_for_and_links_to_what_is_shared(world):
    page = text(client_for(world.carer_account).get("/"))
    assert "People you care for" in page
    assert f"What {world.service_user.name} has shared with you" in page
    assert f'href="/carers/people/{world.carer_relationship.pk}/"' in page
    assert "(Mum)" in page
    assert world.other_service_user.name not in page
    # A carer sees that the relationship exists, not the record.
    assert client_for(world.carer_account).get(record_url(world.service_user)).status_code == 404


# --- Demo data -------------------------------------------------------------------------


def counts() -> dict[str, int]:
    return {
        "teams": Team.objects.count(),
        "service users": ServiceUser.objects.count(),
        "episodes": Episode.objects.count(),
        "allocations": Allocation.objects.count(),
        "carers": Carer.objects.count(),
        "relationships": CarerRelationship.objects.count(),
        "users": User.objects.count(),
    }


def test_seed_demo_is_idempotent_and_its_logins_work(db, settings):
    settings.DEBUG = True  # the demo staff's published authenticator key works only then
    first = io.StringIO()
    call_command("seed_demo", stdout=first)
    after_first = counts()
    second = io.StringIO()
    call_command("seed_demo", stdout=second)
    assert counts() == after_first
    assert after_first["teams"] == 1
    assert after_first["service users"] == 6
    assert after_first["episodes"] == 6
    assert after_first["carers"] == 4
    assert after_first["relationships"] == 4

    printed = second.getvalue()
    password = re.search(r"password for every demo account: (\S+)", printed).group(1)
    emails = re.findall(r"^\s+(\S+@\S+)\s", printed, re.MULTILINE)
    assert len(emails) == len(set(emails)) >= 5
    # Someone to try every role with.
    printed_roles = {role for user in User.objects.filter(email__in=emails)
                     for role in user.roles}
    assert printed_roles == set(Role.values)
    for email in emails:
        client = Client()
        response = client.post("/sign-in/", {"username": email, "password": password})
        assert response.status_code == 302, email
        if response.url == "/sign-in/code/":  # staff: the code the printed hint gives
            assert "demo_otp_code <email>" in printed
            code = io.StringIO()
            call_command("demo_otp_code", email, stdout=code)
            response = client.post("/sign-in/code/", {"code": code.getvalue().strip()})
            assert response.status_code == 302, email
        assert response.url == "/", email
        assert client.get("/").status_code == 200, email
