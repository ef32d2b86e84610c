"""The invitation page starts with the name the coordinator entered on the record (issue
12 point 8): the person checks it rather than types it, and may still correct it."""

from __future__ import annotations

import html
import re

from django.test import Client

from carecoord.records import services
from carecoord.records.models import User
from tests.factories import (
    AllocationFactory,
    CarerFactory,
    CarerRelationshipFactory,
    EpisodeFactory,
    ServiceUserFactory,
)

PASSWORD = "a-quiet-walk-by-the-tyne"


def name_field(page: str) -> str | None:
    field = re.search(r'<input[^>]*name="full_name"[^>]*>', page)
    assert field, page
    value = re.search(r'value="([^"]*)"', field.group(0))
    return html.unescape(value.group(1)) if value else None


def test_a_service_user_s_invitation_shows_the_name_on_their_record(world):
    record = ServiceUserFactory(team=world.team, full_name="Jamie O'Newcome",
                                email="jamie@example.test", nhs_number="9434765919")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    _, token = services.invitation_create(invited_by=world.coordinator, service_user=record)

    client = Client()
    assert name_field(client.get(f"/invitation/{token}/").content.decode()) == "Jamie O'Newcome"

    # They can still correct it: what they send is what is kept.
    response = client.post(f"/invitation/{token}/", {"full_name": "Jamie Newcome",
                                                     "password1": PASSWORD,
                                                     "password2": PASSWORD})
    assert response.status_code == 302
    assert User.objects.get(email="jamie@example.test").full_name == "Jamie Newcome"


def test_a_carer_s_invitation_shows_the_carer_s_name_not_the_service_user_s(world):
    carer = CarerFactory(full_name="Kim Carer", email="kim.carer@example.test")
    relationship = CarerRelationshipFactory(carer=carer, service_user=world.service_user)
    _, token = services.invitation_create(invited_by=world.coordinator,
                                          service_user=world.service_user,
                                          carer_relationship=relationship)
    page = Client().get(f"/invitation/{token}/").content.decode()
    assert name_field(page) == "Kim Carer"
    assert world.service_user.full_name not in page


def test_a_name_typed_over_it_is_shown_again_after_an_error(world):
    record = ServiceUserFactory(team=world.team, full_name="Jamie Newcome",
                                email="jamie@example.test", nhs_number="9434765919")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    _, token = services.invitation_create(invited_by=world.coordinator, service_user=record)
    page = Client().post(f"/invitation/{token}/", {"full_name": "Jay Newcome",
                                                   "password1": PASSWORD,
                                                   "password2": "something-else-1"})
    assert page.status_code == 200
    assert name_field(page.content.decode()) == "Jay Newcome"
