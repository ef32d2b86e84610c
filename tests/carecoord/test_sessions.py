"""Sessions end: 12 hours after signing in however active (beside 30 minutes idle); on
"sign out everywhere"; when an account is disabled or loses a role. In production the
cookies carry the __Host- prefix."""

from __future__ import annotations

import datetime as dt

from django.contrib.sessions.models import Session
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from carecoord.records.models import Role, UserRole
from carecoord.records.sessions import end_all_sessions
from tests import clock
from tests.carecoord.test_settings import clean_env, run
from tests.conftest import client_for
from tests.factories import PASSWORD

SIGN_IN = "/sign-in/"


def signed_in(client: Client) -> bool:
    return client.get("/").status_code == 200


def test_a_session_ends_12_hours_after_signing_in_however_active(world):
    client = Client()
    client.post(SIGN_IN, {"username": world.service_user_account.email, "password": PASSWORD})
    start = timezone.now()
    assert signed_in(client)
    # Active every 25 minutes (inside the 30-minute idle limit) for 11 hours 50 minutes.
    for minutes in range(25, 11 * 60 + 51, 25):
        with clock.travel_to(start + dt.timedelta(minutes=minutes), tick=False):
            assert signed_in(client), f"signed out after {minutes} minutes"
    with clock.travel_to(start + dt.timedelta(hours=12, minutes=5), tick=False):
        response = client.get("/")
        assert response.status_code == 302
        assert response.url == f"{SIGN_IN}?next=/"
        # Ended, not just refused: signing in again starts a new 12 hours.
        client.post(SIGN_IN, {"username": world.service_user_account.email,
                              "password": PASSWORD})
        assert signed_in(client)


def test_the_idle_limit_still_ends_a_session_sooner(world):
    client = client_for(world.carer_account)
    start = timezone.now()
    with clock.travel_to(start + dt.timedelta(minutes=35), tick=False):
        assert not signed_in(client)


def _session_writes(client: Client) -> int:
    with CaptureQueriesContext(connection) as queries:
        assert signed_in(client)
    return sum(1 for query in queries if query["sql"].startswith('UPDATE "django_session"'))


def test_reading_pages_writes_the_session_at_most_once_a_minute_and_still_slides(world):
    client = client_for(world.carer_account)
    start = timezone.now()
    with clock.travel_to(start, tick=False):
        _session_writes(client)
    # Within the minute: the page is read without writing the session row.
    with clock.travel_to(start + dt.timedelta(seconds=50), tick=False):
        assert _session_writes(client) == 0
    # A minute on: the expiry is pushed forward once...
    with clock.travel_to(start + dt.timedelta(minutes=20), tick=False):
        assert _session_writes(client) == 1
        assert _session_writes(client) == 0
    # ... so 45 minutes after signing in, 25 after the last page, it is still open,
    with clock.travel_to(start + dt.timedelta(minutes=45), tick=False):
        assert signed_in(client)
    # and it ends 30 minutes after the last page that moved it.
    with clock.travel_to(start + dt.timedelta(minutes=45, seconds=30 * 60 + 1), tick=False):
        assert not signed_in(client)


def test_sign_out_everywhere_ends_every_session_of_that_person_only(world):
    laptop, phone = client_for(world.coordinator), client_for(world.coordinator)
    someone_else = client_for(world.manager)
    assert signed_in(laptop)
    assert signed_in(phone)
    assert signed_in(someone_else)

    assert "Sign out everywhere" in laptop.get("/account/").content.decode()
    response = laptop.post("/account/sign-out-everywhere/")
    assert response.status_code == 302
    assert response.url == SIGN_IN

    assert not signed_in(laptop)
    assert not signed_in(phone)
    assert signed_in(someone_else)


def test_end_all_sessions_counts_what_it_ended(world):
    client_for(world.carer_account)
    client_for(world.carer_account)
    client_for(world.manager)
    assert end_all_sessions(world.carer_account) == 2
    assert end_all_sessions(world.carer_account) == 0
    assert Session.objects.count() == 1


def test_disabling_an_account_ends_its_sessions(world):
    client, other = client_for(world.carer_account), client_for(world.service_user_account)
    account = world.carer_account
    account.is_active = False
    account.save()
    assert not signed_in(client)
    assert signed_in(other)


def test_removing_a_role_ends_the_persons_sessions(world):
    client, other = client_for(world.coordinator), client_for(world.manager)
    UserRole.objects.filter(user=world.coordinator, role=Role.COORDINATOR).delete()
    assert not signed_in(client)
    assert signed_in(other)


PRINT_COOKIES = """
import json
import django
django.setup()
from django.conf import settings
print(json.dumps([settings.SESSION_COOKIE_NAME, settings.CSRF_COOKIE_NAME,
                  settings.SESSION_COOKIE_SECURE, settings.CSRF_COOKIE_SECURE,
                  settings.SESSION_COOKIE_PATH, settings.CSRF_COOKIE_PATH,
                  settings.SESSION_COOKIE_DOMAIN, settings.CSRF_COOKIE_DOMAIN,
                  settings.SESSION_ABSOLUTE_HOURS]))
"""


def test_production_cookies_have_the_host_prefix():
    import json

    result = run(["-c", PRINT_COOKIES], clean_env(
        DEBUG="false", SECRET_KEY="x" * 60, ALLOWED_HOSTS="care.example.nhs.uk"))
    assert result.returncode == 0, result.stderr
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values == ["__Host-sessionid", "__Host-csrftoken", True, True, "/", "/",
                      None, None, 12]

    result = run(["-c", PRINT_COOKIES], clean_env())
    values = json.loads(result.stdout.strip().splitlines()[-1])
    assert values[:2] == ["sessionid", "csrftoken"]  # the laptop demo runs over plain http
