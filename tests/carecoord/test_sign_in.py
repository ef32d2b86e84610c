"""Signing in and out, lock-out, session expiry, password reset and the page security
headers, as a person using the site meets them."""

from __future__ import annotations

import datetime as dt
import html
import re

import pytest
from django.conf import settings
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import dateformat, timezone

from carecoord.records.models import Role, User
from tests.conftest import client_for
from tests.factories import PASSWORD, UserFactory

SIGN_IN = "/sign-in/"
WRONG = "not-the-right-password"
NEW_PASSWORD = "a-brand-new-walk-by-the-river"


@pytest.fixture
def sam(db) -> User:
    # A carer: the password alone signs them in (staff need a second factor too, which
    # tests/carecoord/test_two_factor.py covers).
    return UserFactory(email="sam@example.test", full_name="Sam Person",
                       roles=[Role.CARER])


def sign_in(client: Client, email: str, password: str):
    return client.post(SIGN_IN, {"username": email, "password": password})


def text(response) -> str:
    return html.unescape(response.content.decode())


def session_row(client: Client) -> Session:
    return Session.objects.get(session_key=client.cookies[settings.SESSION_COOKIE_NAME].value)


# --- Signing in -------------------------------------------------------------------------


def test_sign_in_with_email_and_password_goes_home(sam):
    client = Client()
    response = sign_in(client, "sam@example.test", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Sam Person" in text(home)


def test_email_is_not_case_sensitive(sam):
    client = Client()
    response = sign_in(client, "Sam@Example.TEST", PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"
    assert "Hello, Sam Person" in text(client.get("/"))


def test_wrong_password_shows_the_form_again_with_the_email_kept(sam):
    client = Client()
    response = sign_in(client, "sam@example.test", WRONG)
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert "Enter the email address and password you use to sign in." in page
    assert 'name="username"' in page
    assert 'value="sam@example.test"' in page
    # Not signed in: home sends them back to sign in.
    home = client.get("/")
    assert home.status_code == 302
    assert home.url.startswith(SIGN_IN)


def test_sign_in_page_is_open_to_anyone_and_pages_need_sign_in(db):
    client = Client()
    page = client.get(SIGN_IN)
    assert page.status_code == 200
    assert "<h1>Sign in</h1>" in text(page)
    home = client.get("/")
    assert home.status_code == 302
    assert home.url == f"{SIGN_IN}?next=/"


def test_passwords_are_stored_with_argon2(sam):
    sam.set_password("another-long-passphrase")
    sam.save()
    sam.refresh_from_db()
    assert sam.password.startswith("argon2")
    assert "another-long-passphrase" not in sam.password
    assert sam.check_password("another-long-passphrase")


# --- Lock-out ---------------------------------------------------------------------------


def test_five_wrong_passwords_lock_the_account_even_for_the_right_password(sam):
    assert settings.AXES_FAILURE_LIMIT == 5
    client = Client()
    for attempt in range(1, 5):
        response = sign_in(client, "sam@example.test", WRONG)
        assert response.status_code == 200, f"attempt {attempt}"
        assert "There is a problem" in text(response)
    sign_in(client, "sam@example.test", WRONG)  # the fifth

    response = sign_in(client, "sam@example.test", PASSWORD)
    # django-axes answers a lock-out with AXES_HTTP_RESPONSE_CODE, 429 by default.
    assert response.status_code == 429
    page = text(response)
    assert "Your account is locked" in page
    assert "locked for 15 minutes after too many attempts to sign in" in page
    assert "reset your password" in page
    # Still not signed in.
    assert client.get("/").status_code == 302


def test_a_locked_account_does_not_lock_other_accounts(sam):
    other = UserFactory(email="robin@example.test", full_name="Robin Other")
    client = Client()  # the same network address for both
    for _ in range(6):
        sign_in(client, "sam@example.test", WRONG)
    assert sign_in(client, "sam@example.test", PASSWORD).status_code == 429

    response = sign_in(Client(), other.email, PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"


def test_changing_the_case_of_the_email_does_not_get_round_the_lock_out(sam):
    # Sign-in ignores the case of the email address, so the lock-out must too: otherwise
    # every spelling (Sam@, SAM@, sAm@ ...) gets its own five guesses.
    client = Client()
    for _ in range(5):
        sign_in(client, "sam@example.test", WRONG)
    response = sign_in(client, "SAM@example.test", PASSWORD)
    assert response.status_code == 429
    assert "Your account is locked" in text(response)


# --- Sessions end after inactivity ------------------------------------------------------


def test_session_idle_minutes_sets_the_session_lifetime():
    assert settings.SESSION_IDLE_MINUTES == 30
    assert settings.SESSION_COOKIE_AGE == 30 * 60
    # The expiry slides with activity, written at most once a minute (test_sessions.py).
    assert settings.SESSION_SAVE_EVERY_REQUEST is False
    assert settings.SESSION_TOUCH_SECONDS == 60


def test_session_expires_30_minutes_after_sign_in(sam):
    client = Client()
    assert sign_in(client, sam.email, PASSWORD).status_code == 302
    expires = session_row(client).expire_date
    expected = timezone.now() + dt.timedelta(minutes=30)
    assert abs((expires - expected).total_seconds()) < 60


def test_an_expired_session_sends_the_person_back_to_sign_in(sam):
    client = Client()
    sign_in(client, sam.email, PASSWORD)
    assert client.get("/").status_code == 200
    Session.objects.filter(pk=session_row(client).pk).update(
        expire_date=timezone.now() - dt.timedelta(seconds=1)
    )
    response = client.get("/")
    assert response.status_code == 302
    assert response.url == f"{SIGN_IN}?next=/"


def test_activity_pushes_the_session_expiry_forward(sam):
    client = Client()
    sign_in(client, sam.email, PASSWORD)
    key = session_row(client).pk
    Session.objects.filter(pk=key).update(expire_date=timezone.now() + dt.timedelta(minutes=5))

    assert client.get("/").status_code == 200

    expires = Session.objects.get(pk=key).expire_date
    expected = timezone.now() + dt.timedelta(minutes=30)
    assert abs((expires - expected).total_seconds()) < 60


# --- Password reset ---------------------------------------------------------------------

RESET_LINK = re.compile(r"http://testserver(/password-reset/[^/\s]+/[^/\s]+/)")


def test_password_reset_emails_a_link_with_no_clinical_content(world, mailoutbox):
    account = world.service_user_account
    client = Client()
    response = client.post("/password-reset/", {"email": account.email.upper()})
    assert response.status_code == 302
    assert response.url == "/password-reset/sent/"
    assert "Check your email" in text(client.get(response.url))

    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == [account.email]
    assert RESET_LINK.search(email.body)
    record = world.service_user
    for clinical in (
        record.full_name, account.full_name, record.team.name, "Mental Health",
        world.coordinator.full_name, record.email,
        dateformat.format(record.date_of_birth, "j F Y"),
        record.date_of_birth.isoformat(),
    ):
        assert clinical not in email.body, clinical
        assert clinical not in email.subject, clinical


def test_password_reset_for_an_unknown_email_looks_the_same_and_sends_nothing(sam, mailoutbox):
    known = Client().post("/password-reset/", {"email": sam.email}, follow=True)
    mailoutbox.clear()
    unknown = Client().post("/password-reset/", {"email": "nobody@example.test"}, follow=True)
    assert unknown.status_code == 200
    assert unknown.redirect_chain == known.redirect_chain == [("/password-reset/sent/", 302)]
    assert "Check your email" in text(unknown)
    assert mailoutbox == []


def test_password_reset_link_sets_a_new_password_and_works_once(sam, mailoutbox):
    Client().post("/password-reset/", {"email": sam.email})
    link = RESET_LINK.search(mailoutbox[0].body).group(1)

    client = Client()
    response = client.get(link)
    assert response.status_code == 302  # to a set-password address, hiding the token
    set_password_url = response.url
    assert set_password_url.endswith("/set-password/")
    form = client.get(set_password_url)
    assert "Choose a new password" in text(form)

    done = client.post(set_password_url, {"new_password1": NEW_PASSWORD,
                                          "new_password2": NEW_PASSWORD})
    assert done.status_code == 302
    assert "Your password has been changed" in text(client.get(done.url))

    assert sign_in(Client(), sam.email, PASSWORD).status_code == 200  # old one refused
    response = sign_in(Client(), sam.email, NEW_PASSWORD)
    assert response.status_code == 302
    assert response.url == "/"

    again = Client().get(link, follow=True)
    assert "This link has expired or has already been used" in text(again)
    assert "Choose a new password" not in text(again)


def test_password_reset_with_a_made_up_link_says_it_does_not_work(db):
    response = Client().get("/password-reset/MQ/abc-123def/", follow=True)
    assert response.status_code == 200
    assert "This link has expired or has already been used" in text(response)
    assert 'name="new_password1"' not in text(response)


def test_new_password_must_meet_the_rules(sam, mailoutbox):
    Client().post("/password-reset/", {"email": sam.email})
    client = Client()
    set_password_url = client.get(RESET_LINK.search(mailoutbox[0].body).group(1)).url
    response = client.post(set_password_url, {"new_password1": "short", "new_password2": "short"})
    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert "This password is too short" in text(response)
    assert sign_in(Client(), sam.email, PASSWORD).status_code == 302


# --- Signing out ------------------------------------------------------------------------


def test_sign_out_is_post_only(sam):
    client = client_for(sam)
    assert client.get("/sign-out/").status_code == 405
    assert client.get("/").status_code == 200  # still signed in


def test_sign_out_ends_the_session(sam):
    client = Client()
    sign_in(client, sam.email, PASSWORD)
    key = session_row(client).pk
    response = client.post("/sign-out/")
    assert response.status_code == 302
    assert response.url == SIGN_IN
    assert not Session.objects.filter(pk=key).exists()
    home = client.get("/")
    assert home.status_code == 302
    assert home.url.startswith(SIGN_IN)


# --- Content-Security-Policy: no inline scripts or styles ------------------------------

INLINE_SCRIPT = re.compile(r"<script\b(?![^>]*\bsrc\s*=)[^>]*>", re.IGNORECASE)
STYLE_ATTRIBUTE = re.compile(r"<[^>]*\sstyle\s*=", re.IGNORECASE)
STYLE_ELEMENT = re.compile(r"<style[\s>]", re.IGNORECASE)


def assert_no_inline_code(response) -> None:
    page = response.content.decode()
    assert not INLINE_SCRIPT.findall(page)
    assert not STYLE_ATTRIBUTE.findall(page)
    assert not STYLE_ELEMENT.findall(page)


def test_pages_send_a_strict_content_security_policy(world):
    for response in (Client().get(SIGN_IN), client_for(world.coordinator).get("/")):
        policy = response.headers["Content-Security-Policy"]
        assert "script-src 'self'" in policy
        assert "style-src 'self'" in policy
        assert "unsafe-inline" not in policy
        assert "unsafe-eval" not in policy


def test_the_regexes_catch_inline_code():
    class Page:
        content = b'<script>alert(1)</script><p style="color:red"><style>p{}</style>'

    with pytest.raises(AssertionError):
        assert_no_inline_code(Page())
    assert INLINE_SCRIPT.findall('<script type="module">x</script>')
    assert not INLINE_SCRIPT.findall('<script type="module" src="/static/js/app.js">')


@pytest.mark.parametrize(
    "who", ["coordinator", "manager", "service_user_account", "carer_account", "no_role"]
)
def test_home_pages_have_no_inline_scripts_or_styles(world, who):
    response = client_for(getattr(world, who)).get("/")
    assert response.status_code == 200
    assert 'src="/static/js/app.js"' in response.content.decode()
    assert_no_inline_code(response)


def test_sign_in_and_reset_pages_have_no_inline_scripts_or_styles(sam):
    client = Client()
    for url in (SIGN_IN, "/password-reset/"):
        response = client.get(url)
        assert response.status_code == 200
        assert_no_inline_code(response)
    assert_no_inline_code(sign_in(client, sam.email, WRONG))  # with the error summary
