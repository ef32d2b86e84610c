"""Two-factor sign-in (ADR 0011) as people meet it: staff need a code from an
authenticator app after their password (or set one up first); service users and carers may
add one; wrong codes count towards the same lock-out as wrong passwords; staff pages, the
staff API and the admin site refuse a session that has not passed the second step."""

from __future__ import annotations

import base64
import datetime as dt
import html
import io
import re

import pytest
from django.conf import settings
from django.core.management import CommandError, call_command
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from django_otp.oath import TOTP
from django_otp.plugins.otp_static.models import StaticDevice
from django_otp.plugins.otp_totp.models import TOTPDevice

from carecoord.records.models import Role, User
from carecoord.twofa.services import DEMO_TOTP_KEY, demo_totp_enrol
from tests import clock
from tests.carecoord.test_sign_in import assert_no_inline_code
from tests.conftest import client_for, totp_code, totp_device_for
from tests.factories import PASSWORD, UserFactory

SIGN_IN = "/sign-in/"
CODE = "/sign-in/code/"
SET_UP = "/account/two-factor/set-up/"


def text(response) -> str:
    return html.unescape(response.content.decode())


def sign_in(client: Client, email: str, password: str = PASSWORD, next_url: str = ""):
    url = f"{SIGN_IN}?next={next_url}" if next_url else SIGN_IN
    return client.post(url, {"username": email, "password": password})


def enter_code(client: Client, code: str):
    return client.post(CODE, {"code": code})


def later(seconds: int):
    """Move the clock on (django-otp makes each device wait longer after a wrong code)."""
    return clock.travel_to(timezone.now() + dt.timedelta(seconds=seconds))


@pytest.fixture
def sam(db) -> User:
    return UserFactory(email="sam@example.test", full_name="Sam Person",
                       roles=[Role.COORDINATOR])


@pytest.fixture
def sam_device(sam) -> TOTPDevice:
    return totp_device_for(sam)


# --- Staff with an authenticator -----------------------------------------------------------


def test_staff_sign_in_needs_the_code_after_the_password(sam_device):
    client = Client()
    response = sign_in(client, "sam@example.test", next_url="/notifications/")
    assert response.status_code == 302
    assert response.url == CODE
    # The right password alone signs nobody in.
    home = client.get("/")
    assert home.status_code == 302
    assert home.url.startswith(SIGN_IN)

    page = client.get(CODE)
    assert page.status_code == 200
    assert "Enter your security code" in text(page)
    assert_no_inline_code(page)

    response = enter_code(client, totp_code(sam_device))
    assert response.status_code == 302
    assert response.url == "/notifications/"
    assert "Hello, Sam Person" in text(client.get("/"))


def test_a_wrong_code_is_refused(sam_device):
    client = Client()
    sign_in(client, "sam@example.test")
    right = totp_code(sam_device)
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    response = enter_code(client, wrong)
    assert response.status_code == 200
    assert "The code is not right" in text(response)
    assert client.get("/").status_code == 302
    with later(5):  # past django-otp's wait after one wrong code
        assert enter_code(client, totp_code(sam_device)).status_code == 302
        assert client.get("/").status_code == 200


def test_a_code_is_accepted_once(sam_device):
    first, second = Client(), Client()
    code = totp_code(sam_device)
    sign_in(first, "sam@example.test")
    assert enter_code(first, code).status_code == 302
    sign_in(second, "sam@example.test")
    assert enter_code(second, code).status_code == 200  # replayed: refused
    assert second.get("/").status_code == 302


def test_wrong_codes_count_towards_the_password_lock_out(sam_device):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for _ in range(3):
        assert sign_in(client, "sam@example.test", "not-the-password").status_code == 200
    sign_in(client, "sam@example.test")
    assert enter_code(client, "000000").status_code == 200  # the fourth failure
    response = enter_code(client, "000001")  # the fifth
    assert response.status_code == 429
    assert "Your account is locked" in text(response)
    # Locked: neither the password nor a right code gets in now.
    assert sign_in(Client(), "sam@example.test").status_code == 429
    with later(60):
        assert enter_code(client, totp_code(sam_device)).status_code in {302, 429}
        assert client.get("/").status_code == 302


def test_guessing_codes_after_the_right_password_locks_the_account(sam_device):
    # Signing in again with the right password must not wipe the count of wrong codes.
    client = Client()
    for _ in range(2):
        sign_in(client, "sam@example.test")
        enter_code(client, "000000")
        enter_code(client, "000001")
    sign_in(client, "sam@example.test")
    response = enter_code(client, "000002")
    assert response.status_code == 429
    assert sign_in(Client(), "sam@example.test").status_code == 429


def test_the_code_step_runs_out_after_five_minutes(sam_device):
    client = Client()
    sign_in(client, "sam@example.test")
    with later(6 * 60):
        response = enter_code(client, totp_code(sam_device))
        assert response.status_code == 302
        assert response.url == SIGN_IN
        assert client.get("/").status_code == 302


def test_a_recovery_code_signs_in_once(sam_device):
    client = client_for(sam_device.user)
    codes = re.findall(r"<code>([a-z0-9]+)</code>",
                       client.post("/account/two-factor/recovery-codes/").content.decode())
    assert len(codes) == 10

    other = Client()
    sign_in(other, "sam@example.test")
    assert enter_code(other, codes[0].upper()).status_code == 302
    home = other.get("/")
    assert home.status_code == 200
    assert "You have 9 left" in text(home)

    again = Client()
    sign_in(again, "sam@example.test")
    assert enter_code(again, codes[0]).status_code == 200


def test_new_recovery_codes_replace_the_old_ones(sam_device):
    client = client_for(sam_device.user)
    pattern = r"<code>([a-z0-9]+)</code>"
    old = re.findall(pattern, client.post("/account/two-factor/recovery-codes/").content.decode())
    new = re.findall(pattern, client.post("/account/two-factor/recovery-codes/").content.decode())
    assert len(new) == 10
    assert not set(old) & set(new)
    device = StaticDevice.objects.get(user=sam_device.user)
    assert sorted(device.token_set.values_list("token", flat=True)) == sorted(new)


# --- Staff with no authenticator yet -------------------------------------------------------


@pytest.mark.parametrize("role", [Role.COORDINATOR, Role.MANAGER, Role.ADMIN,
                                  Role.PROFESSIONAL])
def test_every_kind_of_staff_must_pass_the_second_factor(db, role):
    # A professional on a care team reads records (and may use emergency access): the
    # same second factor as coordinators.
    user = UserFactory(email=f"{role}@example.test", roles=[role])
    response = sign_in(Client(), f"{role}@example.test")
    assert response.status_code == 302
    assert response.url.startswith(SET_UP), (role, user)


def test_staff_with_no_authenticator_are_sent_to_set_one_up(sam):
    client = Client()
    response = sign_in(client, "sam@example.test")
    assert response.status_code == 302
    assert response.url.startswith(SET_UP)
    # Every other page sends them back there.
    home = client.get("/")
    assert home.status_code == 302
    assert home.url.startswith(SET_UP)

    page = client.get(SET_UP)
    assert page.status_code == 200
    body = page.content.decode()
    assert "<svg" in body  # the QR code, inline
    # Half signed in: no navigation to pages they cannot reach yet, only signing out.
    assert "Add a service user" not in body
    assert 'href="/notifications/"' not in body
    assert "Sign out" in body
    assert_no_inline_code(page)
    device = TOTPDevice.objects.get(user=sam, confirmed=False)
    secret = re.search(r'<code id="twofa-secret">([A-Z2-7 ]+)</code>', body).group(1)
    secret = secret.replace(" ", "")
    assert base64.b32decode(secret + "=" * (-len(secret) % 8)).hex() == device.key
    # Reloading keeps the same key (the person may have scanned it already).
    client.get(SET_UP)
    assert TOTPDevice.objects.get(user=sam, confirmed=False).pk == device.pk

    assert client.post(SET_UP, {"code": "000000"}).status_code == 200
    assert client.get("/").status_code == 302
    with later(5):
        done = client.post(SET_UP, {"code": totp_code(device)})
        assert done.status_code == 200
        codes = re.findall(r"<code>([a-z0-9]+)</code>", done.content.decode())
        assert len(codes) == 10
        assert "This is the only time they are shown" in text(done)
        assert client.get("/").status_code == 200
    device.refresh_from_db()
    assert device.confirmed

    # From now on the sign-in asks for a code.
    other = Client()
    assert sign_in(other, "sam@example.test").url == CODE


# --- What an unverified staff session may reach ---------------------------------------------


def test_unverified_staff_get_401_json_from_the_api_and_a_redirect_from_pages(world):
    client = Client()
    client.force_login(world.coordinator)  # password only
    response = client.get("/api/v1/me/")
    assert response.status_code == 401
    assert response.json()["error"] == "second_factor_required"
    page = client.get(f"/service-users/{world.service_user.pk}/")
    assert page.status_code == 302
    assert page.url.startswith(SET_UP)

    totp_device_for(world.coordinator)
    page = client.get(f"/service-users/{world.service_user.pk}/")
    assert page.url == f"{CODE}?next=%2Fservice-users%2F{world.service_user.pk}%2F"
    verified = client_for(world.coordinator)
    assert verified.get("/api/v1/me/").status_code == 200


def test_an_unverified_session_with_a_device_can_pass_the_code_step(world):
    device = totp_device_for(world.manager)
    client = Client()
    client.force_login(world.manager)
    response = client.post(f"{CODE}?next=/notifications/", {"code": totp_code(device)})
    assert response.status_code == 302
    assert response.url == "/notifications/"
    assert client.get("/notifications/").status_code == 200


def test_the_admin_site_needs_the_second_factor(world):
    client = Client()
    client.force_login(world.admin)
    response = client.get("/admin/")
    assert response.status_code == 302
    assert not response.url.startswith("/admin/")
    assert client_for(world.admin).get("/admin/").status_code == 200
    # The admin's own password-only sign-in form is replaced by the site's.
    login = Client().get("/admin/login/?next=/admin/")
    assert login.status_code == 302
    assert login.url == f"{SIGN_IN}?next=%2Fadmin%2F"


def test_an_admin_session_without_the_second_factor_has_no_admin_permission(world, rf):
    from django.contrib import admin
    from django_otp.middleware import OTPMiddleware

    request = rf.get("/admin/")
    request.user = world.admin
    request.session = {}
    OTPMiddleware(lambda r: None)(request)
    assert not admin.site.has_permission(request)


# --- Optional for service users and carers -------------------------------------------------


def test_service_users_and_carers_sign_in_with_the_password_alone(world):
    for account in (world.service_user_account, world.carer_account):
        client = Client()
        response = sign_in(client, account.email)
        assert response.status_code == 302
        assert response.url == "/"
        assert client.get("/").status_code == 200


def test_a_service_user_may_add_and_remove_the_second_factor(world):
    account = world.service_user_account
    client = client_for(account)
    page = text(client.get("/account/"))
    assert "Set up two-factor sign-in" in page
    client.get(SET_UP)
    device = TOTPDevice.objects.get(user=account, confirmed=False)
    assert client.post(SET_UP, {"code": totp_code(device)}).status_code == 200

    other = Client()
    assert sign_in(other, account.email).url == CODE
    page = text(client.get("/account/"))
    assert "Turn off two-factor sign-in" in page
    assert client.post("/account/two-factor/remove/").status_code == 302
    assert not TOTPDevice.objects.filter(user=account).exists()
    assert not StaticDevice.objects.filter(user=account).exists()
    assert sign_in(Client(), account.email).url == "/"


def test_staff_cannot_remove_the_second_factor(world):
    client = client_for(world.coordinator)
    assert "Turn off two-factor sign-in" not in text(client.get("/account/"))
    assert client.post("/account/two-factor/remove/").status_code == 404
    assert TOTPDevice.objects.filter(user=world.coordinator, confirmed=True).exists()


# --- The demo's published key --------------------------------------------------------------


def demo_code() -> str:
    totp = TOTP(bytes.fromhex(DEMO_TOTP_KEY), 30, 0, 6, 0)
    return f"{totp.token():06d}"


def test_the_demo_key_is_refused_unless_debug(sam, settings):
    demo_totp_enrol(user=sam)
    settings.DEBUG = False
    client = Client()
    sign_in(client, sam.email)
    assert enter_code(client, demo_code()).status_code == 200
    assert client.get("/").status_code == 302

    settings.DEBUG = True
    with later(5):
        client = Client()
        sign_in(client, sam.email)
        assert enter_code(client, demo_code()).status_code == 302
        assert client.get("/").status_code == 200


def test_demo_otp_code_prints_the_demo_accounts_current_code(sam, settings):
    demo_totp_enrol(user=sam)
    settings.DEBUG = True
    out = io.StringIO()
    call_command("demo_otp_code", "SAM@example.test", stdout=out)
    assert out.getvalue().strip() == demo_code()
    settings.DEBUG = False
    with pytest.raises(CommandError, match="DEBUG"):
        call_command("demo_otp_code", sam.email, stdout=io.StringIO())


def test_the_demo_seed_enrols_staff_and_prints_how_to_get_a_code(db, settings):
    settings.DEBUG = True  # seed_demo runs only for a laptop demo
    out = io.StringIO()
    call_command("seed_demo", stdout=out)
    assert "python manage.py demo_otp_code <email>" in out.getvalue()
    staff = User.objects.filter(role_grants__role__in=[Role.COORDINATOR, Role.MANAGER,
                                                       Role.ADMIN, Role.PROFESSIONAL]).distinct()
    assert staff.count() == 6
    for user in staff:
        assert TOTPDevice.objects.get(user=user, confirmed=True).key == DEMO_TOTP_KEY
    settings.DEBUG = True
    client = Client()
    assert sign_in(client, "sam.okafor@demo.carecoord.test", "recovery-demo-2026").url == CODE
    out = io.StringIO()
    call_command("demo_otp_code", "sam.okafor@demo.carecoord.test", stdout=out)
    assert enter_code(client, out.getvalue().strip()).status_code == 302
    assert client.get("/").status_code == 200


def test_a_carer_without_an_authenticator_is_asked_for_a_code_within_a_minute_of_setting_one_up(
        world):
    """A carer or service user may add a second factor. Once they have one, every session
    they have open must pass it: within SESSION_TOUCH_SECONDS, because reading pages does
    not ask the database about their authenticator every time."""
    client = Client()
    sign_in(client, world.carer_account.email)
    start = timezone.now()
    with clock.travel_to(start, tick=False):
        assert client.get("/").status_code == 200
    # Set up in another browser, meanwhile.
    TOTPDevice.objects.create(user=world.carer_account, name="Phone", confirmed=True)
    with clock.travel_to(start + dt.timedelta(seconds=settings.SESSION_TOUCH_SECONDS + 1),
                         tick=False):
        response = client.get("/")
    assert response.status_code == 302
    assert response.url.startswith("/sign-in/code/")


def test_pages_of_someone_without_an_authenticator_skip_the_question_within_the_minute(world):
    client = Client()
    sign_in(client, world.carer_account.email)
    start = timezone.now()
    with clock.travel_to(start, tick=False):
        client.get("/")
    with clock.travel_to(start + dt.timedelta(seconds=10), tick=False), \
            CaptureQueriesContext(connection) as queries:
        assert client.get("/").status_code == 200
    assert not [q for q in queries if "otp_totp_totpdevice" in q["sql"]]
