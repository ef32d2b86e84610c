"""The manager's team page and the access-events report page at a realistic size (issue
15): the team is read once a request (the policy keeps its answer for the request), the
team page reads its people, their open episodes and their allocations once for its three
parts (caseload sizes, the lines, the "getting stuck" counts), and neither page's own
queries grow with the team. The header's things to do are left out of the counts here:
they are every page's, counted and cached on their own (carecoord/todo)."""

from __future__ import annotations

import datetime as dt
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

import carecoord.context_processors
from carecoord.records.models import Role
from carecoord.records.selectors import team_caseloads, team_members
from carecoord.reporting.selectors import team_stuck_summary
from consent import policy
from tests import clock
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory, UserFactory

pytestmark = pytest.mark.django_db

# The page's own reads, whatever the size of the team: the session, the user, the second
# factor's device, the roles and the header's links and notifications (6), then the team
# (1), its people, their open episodes, their allocations, its coordinators (4), the
# possible duplicates (1), the "getting stuck" facts (3) and signposting (1).
TEAM_PAGE_QUERIES = 16
# The report: the same 6 of every page, the team (1), the access event of this reading
# (1), the team's people (1) and a page of events (1).
# 11: the access-events report also asks once where the online trail starts (months
# archived to files, ADR 0027), to say so when the period reaches back before it.
REPORT_PAGE_QUERIES = 11


@pytest.fixture(autouse=True)
def _without_the_headers_things_to_do(monkeypatch):
    monkeypatch.setattr(carecoord.context_processors, "things_to_do_for_page",
                        lambda *, viewer: [])


def _team_of(world, people: int) -> None:
    """`people` more service users in the manager's team, as a real team has them: most
    in care coordination with one coordinator of the team, some waiting for one, some
    discharged; a few coordinators."""
    coordinators = [UserFactory(roles=[Role.COORDINATOR]) for _ in range(3)]
    world.team.coordinators.add(*coordinators)
    today = clock.today()
    for n in range(people):
        person = ServiceUserFactory(team=world.team)
        if n % 5 == 4:
            EpisodeFactory(service_user=person, discharged_on=today - dt.timedelta(days=1))
        elif n % 5 == 3:
            EpisodeFactory(service_user=person)
        else:
            AllocationFactory(episode=EpisodeFactory(service_user=person),
                              coordinator=coordinators[n % 3])


def _queries(client, url: str) -> list[str]:
    assert client.get(url).status_code == 200
    with CaptureQueriesContext(connection) as captured:
        assert client.get(url).status_code == 200
    return [query["sql"] for query in captured.captured_queries]


def _team_reads(queries: list[str]) -> list[str]:
    """Reads of the manager's teams: the header's links, and the policy's, once."""
    return [sql for sql in queries if re.match(r'SELECT "carecoord_team"\."id"', sql)]


def test_the_team_page_makes_a_fixed_small_number_of_queries(world):
    client = client_for(world.manager)
    url = f"/teams/{world.team.pk}/"
    _team_of(world, 10)
    few = _queries(client, url)
    _team_of(world, 50)
    many = _queries(client, url)
    assert len(many) == len(few) <= TEAM_PAGE_QUERIES
    # The table each query reads rows of (the first column's): each read once for the
    # whole page (they were read twice, the team six times).
    read = [match.group(1) for sql in many
            if (match := re.match(r'SELECT (?:DISTINCT )?"(\w+)"\.', sql))]
    assert read.count("carecoord_episode") == 1
    assert read.count("carecoord_allocation") == 1
    # The team's people; "getting stuck"'s counts were kept by the request before
    # (ADR 0029: tests/carecoord/test_things_to_do_kept.py).
    assert read.count("carecoord_serviceuser") == 1
    assert len(_team_reads(many)) == 2


@pytest.mark.parametrize("params", ["", "?older=1700000000000000_5"])
def test_the_report_page_reads_the_team_once(world, params):
    client = client_for(world.manager)
    today = clock.today()
    url = (f"/teams/{world.team.pk}/reports/access-events/"
           f"?start={today - dt.timedelta(days=90)}&end={today}{params.replace('?', '&')}")
    _team_of(world, 10)
    few = _queries(client, url)
    _team_of(world, 40)
    many = _queries(client, url)
    assert len(many) == len(few) <= REPORT_PAGE_QUERIES
    assert len(_team_reads(many)) == 2


def test_another_manager_still_gets_404(world):
    client = client_for(world.other_manager)
    assert client.get(f"/teams/{world.team.pk}/").status_code == 404
    assert client.get(f"/teams/{world.team.pk}/reports/access-events/").status_code == 404
    coordinator = client_for(world.coordinator)
    assert coordinator.get(f"/teams/{world.team.pk}/").status_code == 404


def test_the_counts_from_the_shared_reads_are_the_counts_of_the_queries(world):
    """The caseload sizes, the unallocated episodes and the coordinators' "getting stuck"
    counts, worked out from the team's people read once, are what the queries over the
    whole team (the path a manager's home page still takes) give."""
    _team_of(world, 20)
    # A coordinator allocated who is not (any more) one of the team's: counted nowhere.
    outsider = UserFactory(roles=[Role.COORDINATOR])
    AllocationFactory(episode=EpisodeFactory(service_user=ServiceUserFactory(team=world.team)),
                      coordinator=outsider)
    # An ended allocation: the episode waits for a coordinator, as one never allocated does.
    ended = AllocationFactory(episode=EpisodeFactory(
        service_user=ServiceUserFactory(team=world.team)), coordinator=world.coordinator)
    ended.ended_on = clock.today()
    ended.save()

    (whole,) = [entry for entry in team_caseloads(viewer=world.manager)
                if entry.team.pk == world.team.pk]
    (one,) = team_caseloads(viewer=world.manager, team_id=world.team.pk)
    assert ([(c.pk, c.caseload_size) for c in one.coordinators]
            == [(c.pk, c.caseload_size) for c in whole.coordinators])
    # Waiting: the four never allocated (`_team_of`) and the ended allocation.
    assert len(one.unallocated) == 5
    assert sorted(e.pk for e in one.unallocated) == sorted(e.pk for e in whole.unallocated)
    assert {e.service_user.name for e in one.unallocated} == {
        e.service_user.name for e in whole.unallocated}

    summary = team_stuck_summary(viewer=world.manager, team=world.team)
    assert [entry.coordinator.pk for entry in summary.coordinators] == list(
        world.team.coordinators.order_by("full_name", "pk").values_list("pk", flat=True))
    members = team_members(viewer=world.manager, team=world.team)
    assert {s.pk for s in members.service_users} == set(
        policy.service_users_in_managed_teams(world.manager).filter(team=world.team)
        .values_list("pk", flat=True))


def test_the_policys_answer_is_kept_for_one_request_only(world):
    """Outside a request every call asks again: a manager who stops managing the team
    loses it at once."""
    assert policy.manages_team(world.manager, world.team.pk)
    world.team.managers.remove(world.manager)
    assert not policy.manages_team(world.manager, world.team.pk)
    assert not policy.can_read_team_reports(world.manager, str(world.team.pk))
    assert not policy.manages_team(world.manager, "not a number")


def test_the_lines_escape_names_as_the_template_did(world):
    """The lines are written in Python (records_tags): every name still escaped, quotes
    included, in the text, the confirmation and the hidden words."""
    person = ServiceUserFactory(team=world.team, full_name='<b>Bo</b> "Q" O\'Neil',
                                preferred_name="")
    coordinator = UserFactory(roles=[Role.COORDINATOR], full_name="<i>Cy</i> & Co",
                              preferred_name="")
    world.team.coordinators.add(coordinator)
    AllocationFactory(episode=EpisodeFactory(service_user=person), coordinator=coordinator)
    markup = client_for(world.manager).get(f"/teams/{world.team.pk}/").content.decode()
    assert "<b>Bo</b>" not in markup
    assert "<i>Cy</i>" not in markup
    name = "&lt;b&gt;Bo&lt;/b&gt; &quot;Q&quot; O&#x27;Neil"
    who = "&lt;i&gt;Cy&lt;/i&gt; &amp; Co"
    assert f"Service user </span>{name}<p" in markup
    assert f'data-testid="identity">{name}<span' in markup
    assert f"End {who}'s allocation to {name}?" in markup
    assert f"> of {who} to {name}</span>" in markup
    assert f"> a care coordinator to {name}</span>" in markup


def test_the_report_rows_escape_names_as_the_template_did(world):
    """A report's rows are written in Python (reporting_tags.report_table_rows): names
    still escaped, quotes included."""
    from carecoord.audit.services import access_event_record

    person = ServiceUserFactory(team=world.team, full_name='<b>Bo</b> "Q" O\'Neil',
                                preferred_name="")
    access_event_record(actor=world.coordinator, service_user=person,
                        action="plan_detail.view", target="plan:7",
                        basis="allocated care coordinator")
    today = clock.today()
    markup = client_for(world.manager).get(
        f"/teams/{world.team.pk}/reports/access-events/"
        f"?start={today - dt.timedelta(days=1)}&end={today + dt.timedelta(days=1)}"
    ).content.decode()
    assert "<b>Bo</b>" not in markup
    assert ('<td class="nhsuk-table__cell">&lt;b&gt;Bo&lt;/b&gt; &quot;Q&quot; O&#x27;Neil'
            "</td>") in markup
    assert '<td class="nhsuk-table__cell">Read a plan</td>' in markup
