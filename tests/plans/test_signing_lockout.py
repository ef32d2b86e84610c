"""Signing is no password-guessing channel (issue 13, point 8): every password given to
sign a version is checked through the same lock-out as sign-in (django-axes), on the page
and the API; after the failure limit even the right password is refused, for signing and
for signing in."""

from __future__ import annotations

import pytest
from django.conf import settings
from django.test import Client

from plans import services
from plans.models import Signature
from tests.conftest import client_for
from tests.factories import PASSWORD
from tests.plans.factories import plan_with_content, propose

WRONG = "not-the-right-password"
JSON = "application/json"


def _sign_by_api(client: Client, version, password: str):
    return client.post(f"/api/v1/versions/{version.pk}/signatures/",
                       {"decision": "signed", "password": password}, content_type=JSON)


def _sign_by_page(client: Client, version, password: str):
    return client.post(f"/plans/versions/{version.pk}/",
                       {"action": "sign", "sign-password": password})


def _sign_in(email: str, password: str):
    return Client().post("/sign-in/", {"username": email, "password": password})


@pytest.mark.parametrize("sign", [_sign_by_api, _sign_by_page], ids=["api", "page"])
def test_after_the_failure_limit_the_right_password_is_refused_for_signing_and_sign_in(
    world, sign
):
    version = propose(plan_with_content(world), world.coordinator)
    client = client_for(world.service_user_account)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = sign(client, version, WRONG)
        assert response.status_code in (200, 400, 429)
    assert not Signature.objects.exists()

    response = sign(client, version, PASSWORD)

    assert response.status_code == 429
    assert not Signature.objects.exists()
    if sign is _sign_by_api:
        assert response.json()["error"] == "locked_out"
    else:
        assert "Your account is locked" in response.content.decode()
    # The same lock-out as sign-in: signing in is refused too.
    assert _sign_in(world.service_user_account.email, PASSWORD).status_code == 429


def test_one_wrong_password_less_than_the_limit_still_signs(world):
    version = propose(plan_with_content(world), world.coordinator)
    client = client_for(world.service_user_account)
    for _ in range(settings.AXES_FAILURE_LIMIT - 1):
        assert _sign_by_api(client, version, WRONG).status_code == 400
    response = _sign_by_api(client, version, PASSWORD)
    assert response.status_code == 201, response.content
    assert Signature.objects.filter(signer=world.service_user_account).exists()


def test_failed_sign_ins_count_against_signing(world):
    version = propose(plan_with_content(world), world.coordinator)
    # Signed in already (signing in again would reset the count), then someone else
    # guesses at the sign-in page.
    client = client_for(world.service_user_account)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        _sign_in(world.service_user_account.email, WRONG)
    response = _sign_by_api(client, version, PASSWORD)
    assert response.status_code == 429
    assert not Signature.objects.exists()


def test_the_service_counts_wrong_passwords_without_a_request(world):
    version = propose(plan_with_content(world), world.coordinator)
    for _ in range(settings.AXES_FAILURE_LIMIT):
        with pytest.raises(services.WrongPasswordError):
            services.version_sign(version=version, signer=world.service_user_account,
                                  role="service_user", password=WRONG)
    with pytest.raises(services.SigningLockedOutError):
        services.version_sign(version=version, signer=world.service_user_account,
                              role="service_user", password=PASSWORD)
    assert not Signature.objects.exists()
