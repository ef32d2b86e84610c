"""A manager's team page shows "getting stuck" counts in its body and, for the same
people, in the header's things to do: worked out once a request, not twice (issue 15);
kept for the next page until something about the team's people is written (ADR 0029)."""

from __future__ import annotations

import pytest

from carecoord.records.models import Episode
from carecoord.reporting import stuck
from tests import clock
from tests.conftest import client_for

pytestmark = pytest.mark.django_db


def test_the_team_page_works_out_getting_stuck_once_a_request_and_again_after_a_write(
        world, monkeypatch):
    calls = []
    original = stuck.prompts_for

    def counted(service_users, today=None):
        calls.append(sorted(s.pk for s in service_users))
        return original(service_users, today)

    monkeypatch.setattr(stuck, "prompts_for", counted)
    client = client_for(world.manager)
    page = client.get(f"/teams/{world.team.pk}/")
    assert page.status_code == 200
    assert len(calls) == 1
    client.get(f"/teams/{world.team.pk}/")
    # Kept between pages while nothing about the team's people is written (ADR 0029).
    assert len(calls) == 1
    episode = Episode.objects.get(service_user=world.service_user)
    episode.planned_end_on = clock.days(-10)
    episode.save()
    page = client.get(f"/teams/{world.team.pk}/")
    assert len(calls) == 2  # afresh after a write about one of the team's people
    assert page.status_code == 200


def test_outside_a_request_nothing_is_kept(world, monkeypatch):
    from carecoord.reporting.selectors import teams_stuck_counts

    calls = []
    original = stuck.prompts_for
    monkeypatch.setattr(stuck, "prompts_for",
                        lambda people, today=None: calls.append(1) or original(people, today))
    teams_stuck_counts(viewer=world.manager)
    teams_stuck_counts(viewer=world.manager)
    assert len(calls) == 2
