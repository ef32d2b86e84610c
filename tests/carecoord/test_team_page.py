"""The manager's team page at the size of a real team (issue 15): each person's line says
the same as before (care coordination, past the planned end, who is allocated, the
links), the links are the addresses reverse() gives, and the page makes the same number
of queries for 4 people as for 16."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import NoReverseMatch, reverse, set_script_prefix

from carecoord.records.models import Episode
from carecoord.records.selectors import team_caseloads, team_service_users
from carecoord.web.links import link_maker
from tests import clock
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory, UserFactory


def page(world) -> str:
    response = client_for(world.manager).get(f"/teams/{world.team.pk}/")
    assert response.status_code == 200
    return html.unescape(response.content.decode())


def row_of(markup: str, name: str) -> str:
    """The table row that names `name`."""
    rows = re.findall(r'<tr class="nhsuk-table__row" role="row">.*?</tr>', markup, flags=re.S)
    found = [row for row in rows if f"Service user </span>{name}<" in row]
    assert len(found) == 1, name
    return found[0]


def test_each_line_says_where_the_person_is_and_links_to_what_can_be_done(world):
    today = clock.today()
    late = ServiceUserFactory(team=world.team, full_name="Late Lewis")
    episode = EpisodeFactory(service_user=late, started_on=today - dt.timedelta(weeks=30),
                             planned_end_on=today - dt.timedelta(days=10))
    AllocationFactory(episode=episode, coordinator=world.coordinator)
    AllocationFactory(episode=episode, coordinator=world.other_coordinator)
    waiting = ServiceUserFactory(team=world.team, full_name="Waiting Wren")
    EpisodeFactory(service_user=waiting)
    discharged = ServiceUserFactory(team=world.team, full_name="Former Fay")
    EpisodeFactory(service_user=discharged, discharged_on=today - dt.timedelta(days=3))

    markup = page(world)

    line = row_of(markup, "Late Lewis")
    assert "Past planned end" in line
    assert Episode.objects.get(pk=episode.pk).progress_text in line
    assert "1 week past the planned end" in line
    for coordinator in (world.coordinator, world.other_coordinator):
        allocation = episode.allocations.get(coordinator=coordinator)
        assert f'action="{reverse("allocation_end", args=[allocation.pk])}"' in line
        assert f"End {coordinator.display_name}'s allocation to Late Lewis?" in line
    assert f'href="{reverse("allocation_create", args=[late.pk])}"' in line
    assert f'href="{reverse("care_team_manage", args=[late.pk])}"' in line
    assert line.count('name="csrfmiddlewaretoken"') == 2

    line = row_of(markup, "Waiting Wren")
    assert "Nobody allocated" in line
    assert "Past planned end" not in line
    assert "Week 5 of 26 planned" in line

    line = row_of(markup, "Former Fay")
    assert "Not in care coordination" in line
    assert "End allocation" not in line
    assert f'href="{reverse("episode_start", args=[discharged.pk])}"' in line
    assert "Start a new episode" in line


def test_waiting_for_a_care_coordinator_is_everyone_in_care_coordination_with_nobody_now(
        world):
    """An open episode with no current allocation waits for a care coordinator whether
    or not it ever had one (decided 2 December 2026); a discharged one never does. The
    warning's count is the number of lines that say "Nobody allocated", and the manager's
    home page (its own queries over all their teams) counts the same people."""
    today = clock.today()
    day = lambda n: today + dt.timedelta(days=n)  # noqa: E731

    def person(name: str, team=None, **episode) -> Episode:
        service_user = ServiceUserFactory(team=team or world.team, full_name=name)
        return EpisodeFactory(service_user=service_user, started_on=day(-100), **episode)

    person("Never Nia")  # never allocated: waiting
    ended = person("Ended Eli")
    AllocationFactory(episode=ended, coordinator=world.coordinator, ended_on=day(-5))
    handed = person("Handed Hal")  # handed over: allocated now, not waiting
    AllocationFactory(episode=handed, coordinator=world.coordinator, ended_on=day(-5))
    AllocationFactory(episode=handed, coordinator=world.other_coordinator, started_on=day(-5))
    person("Gone Gus", discharged_on=day(-3))  # discharged, never allocated
    left = person("Left Lee", discharged_on=day(-3))
    AllocationFactory(episode=left, coordinator=world.coordinator, ended_on=day(-3))
    # Another team's person waiting, in a team this manager manages too: never counted
    # on this team's page or under this team's name.
    world.other_team.managers.add(world.manager)
    person("Elsewhere Ellis", team=world.other_team)

    markup = page(world)

    assert "2 service users in care coordination have nobody allocated." in markup
    nobody = [name for name in ("Never Nia", "Ended Eli", "Handed Hal", world.service_user.name,
                                world.other_service_user.name)
              if "Nobody allocated" in row_of(markup, name)]
    assert nobody == ["Never Nia", "Ended Eli"]
    assert markup.count("Nobody allocated") == len(nobody)
    for name in ("Gone Gus", "Left Lee"):
        assert "Not in care coordination" in row_of(markup, name)
    assert "Elsewhere Ellis" not in markup

    (one,) = team_caseloads(viewer=world.manager, team_id=world.team.pk)
    whole = {entry.team.pk: entry for entry in team_caseloads(viewer=world.manager)}
    assert ({e.service_user.name for e in one.unallocated}
            == {e.service_user.name for e in whole[world.team.pk].unallocated}
            == {"Never Nia", "Ended Eli"})
    assert [e.service_user.name for e in whole[world.other_team.pk].unallocated] == [
        "Elsewhere Ellis"]
    home = html.unescape(client_for(world.manager).get("/").content.decode())
    assert "2 service users in care coordination have nobody allocated." in home
    assert "1 service user in care coordination has nobody allocated." in home


def test_the_rows_are_the_managers_own_teams_only(world):
    ServiceUserFactory(team=world.other_team, full_name="Elsewhere Ellis")
    assert "Elsewhere Ellis" not in page(world)
    assert {row.name for row in team_service_users(viewer=world.manager, team=world.team)} == {
        world.service_user.name, world.other_service_user.name}
    assert client_for(world.other_manager).get(f"/teams/{world.team.pk}/").status_code == 404


def _queries(client, url: str) -> int:
    client.get(url)
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return len(captured)


def _add_people(world, count: int) -> None:
    for _ in range(count):
        person = ServiceUserFactory(team=world.team)
        AllocationFactory(episode=EpisodeFactory(service_user=person),
                          coordinator=UserFactory())
        ServiceUserFactory(team=world.team)  # not in care coordination


def test_the_page_makes_the_same_number_of_queries_for_4_people_and_for_16(world):
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/"
    _add_people(world, 1)
    few = _queries(client, url)
    _add_people(world, 6)
    assert _queries(client, url) == few


@pytest.mark.parametrize("name", ["allocation_create", "episode_start", "allocation_end",
                                  "care_team_manage"])
def test_links_made_once_are_the_addresses_reverse_gives(name):
    for prefix in ("/", "/carecoord/"):
        set_script_prefix(prefix)
        try:
            link = link_maker(name)
            for pk in (1, 7, 42, 1234567):
                assert link(pk) == reverse(name, args=[pk])
        finally:
            set_script_prefix("/")


def test_a_link_maker_needs_a_url_with_one_id():
    with pytest.raises((NoReverseMatch, ValueError)):
        link_maker("home")
