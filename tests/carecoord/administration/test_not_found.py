"""Every URL of the administration area answers 404 to everyone but an administrator,
for GET and POST alike; an administrator's session must have passed the second factor."""

from __future__ import annotations

import pytest
from django.test import Client
from django.urls import URLPattern, get_resolver

from carecoord.records.models import Team, User
from tests.conftest import client_for

NOT_ADMINISTRATORS = ["manager", "coordinator", "service_user_account", "carer_account",
                      "other_manager", "no_role"]


def administration_urls(world) -> list[str]:
    """Every pattern under /administration/, filled with a real team and staff account."""
    (resolver,) = [p for p in get_resolver().url_patterns
                   if str(p.pattern) == "administration/"]
    urls = []
    for pattern in resolver.url_patterns:
        assert isinstance(pattern, URLPattern)
        route = str(pattern.pattern)
        route = route.replace("<int:team_id>", str(world.team.pk))
        route = route.replace("<int:user_id>", str(world.other_coordinator.pk))
        assert "<" not in route, route
        urls.append(f"/administration/{route}")
    assert len(urls) >= 14
    return urls


@pytest.mark.parametrize("who", NOT_ADMINISTRATORS)
def test_every_url_is_not_found_for_anyone_else(world, who):
    client = client_for(getattr(world, who))
    teams_before = Team.objects.count()
    for url in administration_urls(world):
        assert client.get(url).status_code == 404, url
        response = client.post(url, {"role": "admin", "name": "Taken over", "q": "x",
                                     "team_place": f"{world.team.pk}:manager",
                                     "full_name": "X", "email": "x@example.test",
                                     "roles": ["admin"]})
        assert response.status_code == 404, url
    assert Team.objects.count() == teams_before
    assert User.objects.get(pk=world.other_coordinator.pk).is_active
    assert not User.objects.filter(email="x@example.test").exists()
    assert not User.objects.get(pk=world.other_coordinator.pk).has_role("admin")


def test_signed_out_people_are_sent_to_sign_in(world):
    for url in administration_urls(world):
        response = Client().get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/sign-in/"), url


def test_an_administrator_must_pass_the_second_factor(world):
    client = Client()
    client.force_login(world.admin)  # password only: the code step still to come
    for url in administration_urls(world):
        response = client.get(url)
        assert response.status_code == 302, url
        assert response.url.startswith("/account/two-factor/set-up/") or \
            response.url.startswith("/sign-in/code/"), url
    response = client.post(f"/administration/staff/{world.other_coordinator.pk}/disable/")
    assert response.status_code == 302
    assert User.objects.get(pk=world.other_coordinator.pk).is_active


def test_an_administrator_reaches_every_page(world):
    client = client_for(world.admin)
    for url in administration_urls(world):
        assert client.get(url).status_code in (200, 405), url
