"""Security issue 13, point 6: an NHS number held by another record must not be
confirmable from the coordinator's forms. The save answers the same whether or not
another record holds it; the clash goes to the team's managers to resolve."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest

from carecoord.notifications.models import Notification
from carecoord.records.models import PossibleDuplicate, ServiceUser
from tests import clock
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.forms import date_parts

HELD = "9434765919"  # held by a record in the other team
FREE = "4010232137"  # held by nobody


def text(response) -> str:
    return html.unescape(response.content.decode())


def normalised(response) -> str:
    """The page with what naturally differs between two saves (ids, tokens, names typed)
    taken out."""
    page = text(response)
    page = re.sub(r'name="csrfmiddlewaretoken" value="[^"]+"', "", page)
    page = re.sub(r"\b(service-users|allocations|episodes|plans)/\d+(?=/)", r"\1/N", page)
    page = re.sub(r"\b\d{3} ?\d{3} ?\d{4}\b", "NUMBER", page)
    return re.sub(r"\d{1,2}:\d{2}", "TIME", page)


@pytest.fixture
def elsewhere(world) -> ServiceUser:
    record = ServiceUserFactory(team=world.other_team, full_name="Hidden Person",
                                nhs_number=HELD)
    AllocationFactory(episode=EpisodeFactory(service_user=record))
    return record


def create_data(team, nhs_number: str) -> dict:
    start = clock.today()
    return {
        "team": team.pk, "full_name": "Morgan Ellis", "preferred_name": "",
        "pronouns": "", **date_parts("date_of_birth", "1991-07-23"),
        "nhs_number": nhs_number,
        "email": "", "phone": "", "address": "", "preferred_contact": "phone",
        "contact_notes": "", **date_parts("started_on", start),
        **date_parts("planned_end_on", start + dt.timedelta(weeks=26)),
    }


def edit_data(record: ServiceUser, nhs_number: str) -> dict:
    return {
        "full_name": record.full_name, "preferred_name": record.preferred_name,
        "pronouns": record.pronouns, **date_parts("date_of_birth", record.date_of_birth),
        "nhs_number": nhs_number, "email": record.email, "phone": record.phone,
        "address": record.address, "preferred_contact": record.preferred_contact,
        "contact_notes": record.contact_notes, "version": record.version,
    }


def test_creating_a_record_answers_the_same_for_a_held_and_a_free_number(world, elsewhere):
    client = client_for(world.coordinator)
    held = client.post("/service-users/new/", create_data(world.team, HELD), follow=True)
    free = client.post("/service-users/new/", create_data(world.team, FREE), follow=True)
    assert held.status_code == free.status_code == 200
    assert held.redirect_chain[0][0].startswith("/service-users/")
    assert normalised(held) == normalised(free)
    assert "already" not in text(held).lower()
    assert ServiceUser.objects.filter(nhs_number=HELD).count() == 2


def test_editing_a_record_answers_the_same_for_a_held_and_a_free_number(world, elsewhere):
    client = client_for(world.coordinator)
    record = world.service_user
    held = client.post(f"/service-users/{record.pk}/edit/", edit_data(record, HELD),
                       follow=True)
    record.refresh_from_db()
    assert record.nhs_number == HELD
    free = client.post(f"/service-users/{record.pk}/edit/", edit_data(record, FREE),
                       follow=True)
    assert held.status_code == free.status_code == 200
    assert held.redirect_chain == free.redirect_chain
    assert normalised(held) == normalised(free)
    assert "Hidden Person" not in text(held)


def test_a_duplicate_goes_to_the_managers_of_both_teams(world, elsewhere):
    record = world.service_user
    client_for(world.coordinator).post(f"/service-users/{record.pk}/edit/",
                                       edit_data(record, HELD))
    duplicate = PossibleDuplicate.objects.get()
    assert (duplicate.service_user, duplicate.other) == (record, elsewhere)
    for manager in (world.manager, world.other_manager):
        assert Notification.objects.filter(user=manager, text__contains="same NHS number")
    assert not Notification.objects.filter(user=world.coordinator).exists()

    # Each manager sees the records of their own team by name, the other only by team.
    page = text(client_for(world.manager).get(f"/teams/{world.team.pk}/"))
    assert "Records that may be the same person" in page
    assert record.name in page
    assert "Hidden Person" not in page
    assert f"a record in {world.other_team.name}" in page
    other_page = text(client_for(world.other_manager).get(f"/teams/{world.other_team.pk}/"))
    assert "Hidden Person" in other_page
    assert record.name not in other_page

    # A manager of another team cannot see or resolve it.
    outsider = client_for(world.other_coordinator)
    url = f"/teams/{world.team.pk}/duplicates/{duplicate.pk}/checked/"
    assert outsider.post(url).status_code == 404
    response = client_for(world.manager).post(url)
    assert response.status_code == 302
    duplicate.refresh_from_db()
    assert duplicate.resolved_by == world.manager
    assert "Records that may be the same person" not in text(
        client_for(world.manager).get(f"/teams/{world.team.pk}/"))


def test_a_free_number_records_no_duplicate(world, elsewhere):
    record = world.service_user
    client_for(world.coordinator).post(f"/service-users/{record.pk}/edit/",
                                       edit_data(record, FREE))
    assert not PossibleDuplicate.objects.exists()
    assert not Notification.objects.filter(user=world.manager).exists()
