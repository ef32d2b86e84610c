"""The record page asks the policy on which basis the viewer reads the record once, and
passes that basis to each part of the page (plans, carers' panels, insights, "may
allocate", "may change the care team"), which used to ask it again (issue 15).

Each part still shows what that basis allows and nothing more: the allocated
coordinator sees the carers' panels and may start a plan; the person sees their own
record; a care-team member sees neither panels nor anything to start.
"""

from __future__ import annotations

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.records.models import CareTeamRole, Role
from tests.carecoord.careteam_helpers import add_to_care_team
from tests.conftest import client_for
from tests.factories import UserFactory

PANEL_WORDS = "anything they chose to share with you from their own space"


def _basis_queries(client, world) -> tuple[int, str]:
    with CaptureQueriesContext(connection) as queries:
        response = client.get(reverse("service_user_detail", args=[world.service_user.pk]))
    assert response.status_code == 200
    asked = sum(1 for query in queries.captured_queries if "basis_own" in query["sql"])
    return asked, response.content.decode()


@pytest.mark.django_db
def test_the_allocated_coordinator_is_asked_once_and_sees_what_an_allocation_allows(world):
    asked, page = _basis_queries(client_for(world.coordinator), world)
    assert asked == 1
    assert PANEL_WORDS in page
    assert "not started yet" in page
    assert "Start a" in page


@pytest.mark.django_db
def test_the_person_is_asked_once_on_their_own_record(world):
    asked, page = _basis_queries(client_for(world.service_user_account), world)
    assert asked == 1
    assert "Your record" in page
    assert PANEL_WORDS not in page


@pytest.mark.django_db
def test_a_care_team_member_is_asked_once_and_sees_no_panels_and_nothing_to_start(world):
    member = UserFactory(roles=[Role.PROFESSIONAL], full_name="Dr Ade Psychiatrist")
    add_to_care_team(world, member, CareTeamRole.PSYCHIATRIST)
    asked, page = _basis_queries(client_for(member), world)
    assert asked == 1
    assert PANEL_WORDS not in page
    assert "Start a" not in page
    assert "Start your" not in page


@pytest.mark.django_db
def test_anyone_else_still_gets_404(world):
    client = client_for(world.other_coordinator)
    response = client.get(reverse("service_user_detail", args=[world.service_user.pk]))
    assert response.status_code == 404
