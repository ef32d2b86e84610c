"""Personal API tokens: made on the profile page after confirming the password (within 10
minutes), shown once, stored only as a hash, scoped, expiring, revocable, and every use
audited with the token's name."""

from __future__ import annotations

import datetime as dt

import pytest
import time_machine
from django.test import Client, RequestFactory
from django.utils import timezone

from carecoord.apitokens import services
from carecoord.apitokens.models import ApiToken, TokenScope
from carecoord.apitokens.verification import recently_verified, session_password_confirmed
from carecoord.audit.models import AccessEvent
from tests.conftest import client_for
from tests.factories import PASSWORD

PAGE = "/profile/api-tokens/"


def _confirm(client: Client, password: str = PASSWORD):
    return client.post(f"{PAGE}confirm/", {"password": password})


def _make(client: Client, name: str = "Ward dashboard", scope: str = TokenScope.READ,
          days: int = 30):
    return client.post(f"{PAGE}new/", {"name": name, "scope": scope, "days": days})


def _token_from(response) -> str:
    html = response.content.decode()
    start = html.index('id="new-api-token">') + len('id="new-api-token">')
    return html[start:html.index("</code>", start)]


def _api(token: str) -> Client:
    return Client(HTTP_AUTHORIZATION=f"Token {token}")


def test_making_a_token_needs_the_password_first(world):
    client = client_for(world.coordinator)
    response = _make(client)
    assert response.status_code == 302
    assert not ApiToken.objects.exists()

    assert _confirm(client, "not-my-password").status_code == 400
    assert _make(client).status_code == 302
    assert not ApiToken.objects.exists()

    assert _confirm(client).status_code == 302
    response = _make(client)
    assert response.status_code == 200
    assert ApiToken.objects.filter(user=world.coordinator, name="Ward dashboard").count() == 1


def test_the_password_confirmation_lasts_ten_minutes(world):
    client = client_for(world.coordinator)
    _confirm(client)
    with time_machine.travel(timezone.now() + dt.timedelta(minutes=11), tick=False):
        assert _make(client).status_code == 302
    assert not ApiToken.objects.exists()


def test_a_session_that_has_not_passed_two_factor_may_not_make_a_token(world):
    request = RequestFactory().get(PAGE)
    request.session = {}
    request.user = world.coordinator
    session_password_confirmed(request)
    assert recently_verified(request)
    # django-otp's middleware gives the user is_verified(); unverified means no token.
    request.user.is_verified = lambda: False
    assert not recently_verified(request)


def test_the_token_is_shown_once_and_stored_only_as_a_hash(world):
    client = client_for(world.coordinator)
    _confirm(client)
    token = _token_from(_make(client))
    assert token.startswith("cc_")
    stored = ApiToken.objects.get()
    assert token not in (stored.digest, stored.token_key)
    assert len(stored.digest) == 128  # SHA-512
    assert token not in client.get(PAGE).content.decode()
    assert stored.expiry <= timezone.now() + dt.timedelta(days=30, minutes=1)


@pytest.mark.parametrize("days", [0, 91, 365])
def test_a_token_lasts_at_most_90_days(world, days):
    client = client_for(world.coordinator)
    _confirm(client)
    assert _make(client, days=days).status_code == 400
    assert not ApiToken.objects.exists()
    with pytest.raises(services.TokenError):
        services.api_token_create(user=world.coordinator, name="x", scope="read", days=days)


def test_a_token_reads_what_its_owner_may_read_and_every_use_is_audited(world):
    _, token = services.api_token_create(user=world.coordinator, name="Ward dashboard",
                                         scope=TokenScope.READ, days=7)
    client = _api(token)
    listing = client.get("/api/v1/service-users/")
    assert listing.status_code == 200
    assert [row["id"] for row in listing.json()["results"]] == [world.service_user.pk]
    assert client.get(f"/api/v1/service-users/{world.other_service_user.pk}/").status_code == 404

    response = client.get(f"/api/v1/service-users/{world.service_user.pk}/")
    assert response.status_code == 200
    uses = AccessEvent.objects.filter(action="api.token.use", actor=world.coordinator)
    assert uses.count() == 3
    assert all("Ward dashboard" in event.basis for event in uses)
    read = AccessEvent.objects.get(action="api.service_user.view",
                                   service_user=world.service_user)
    assert "allocated care coordinator" in read.basis
    assert "via API token “Ward dashboard”" in read.basis
    assert ApiToken.objects.get().last_used_at is not None


def test_a_session_read_does_not_name_a_token(world):
    client_for(world.coordinator).get(f"/api/v1/service-users/{world.service_user.pk}/")
    read = AccessEvent.objects.get(action="api.service_user.view")
    assert "API token" not in read.basis


def test_a_read_only_token_may_not_change_anything(world):
    _, token = services.api_token_create(user=world.service_user_account, name="Phone app",
                                         scope=TokenScope.READ, days=7)
    response = _api(token).post(
        f"/api/v1/service-users/{world.service_user.pk}/consent/decisions/", {},
        content_type="application/json")
    assert response.status_code == 403
    assert response.json()["error"] == "read_only_token"


def test_a_read_and_write_token_may(world):
    _, token = services.api_token_create(user=world.service_user_account, name="Phone app",
                                         scope=TokenScope.READ_WRITE, days=7)
    response = _api(token).post(
        f"/api/v1/service-users/{world.service_user.pk}/consent/decisions/", {},
        content_type="application/json")
    assert response.status_code == 400  # reached the input check: the fields are named
    assert set(response.json()["fields"]) >= {"carer_relationship", "shared", "item"}


def test_an_expired_token_does_not_work(world):
    _, token = services.api_token_create(user=world.coordinator, name="Old", scope="read",
                                         days=1)
    with time_machine.travel(timezone.now() + dt.timedelta(days=1, minutes=1), tick=False):
        response = _api(token).get("/api/v1/service-users/")
    assert response.status_code == 401
    assert response["Content-Type"].startswith("application/json")
    assert response.json()["error"] == "authentication_failed"


def test_a_wrong_token_does_not_work(world):
    services.api_token_create(user=world.coordinator, name="Real", scope="read", days=1)
    response = _api("cc_" + "0" * 64).get("/api/v1/service-users/")
    assert response.status_code == 401


def test_a_revoked_token_stops_working_at_once(world):
    client = client_for(world.coordinator)
    token_row, token = services.api_token_create(user=world.coordinator, name="Script",
                                                 scope="read", days=7)
    assert _api(token).get("/api/v1/me/").status_code == 200
    # Someone else cannot revoke it.
    client_for(world.other_coordinator).post(f"{PAGE}{token_row.digest}/revoke/")
    assert _api(token).get("/api/v1/me/").status_code == 200
    assert client.post(f"{PAGE}{token_row.digest}/revoke/").status_code == 302
    assert _api(token).get("/api/v1/me/").status_code == 401
    assert AccessEvent.objects.filter(action="api.token.revoke").count() == 1


def test_the_page_lists_only_ones_own_tokens(world):
    services.api_token_create(user=world.coordinator, name="Mine", scope="read", days=7)
    services.api_token_create(user=world.other_coordinator, name="Theirs", scope="read", days=7)
    html = client_for(world.coordinator).get(PAGE).content.decode()
    assert "Mine" in html
    assert "Theirs" not in html
