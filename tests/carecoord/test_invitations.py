"""Invitations: a care coordinator emails a one-time link; the service user or carer
uses it to set up (or link) their account."""

from __future__ import annotations

import datetime as dt
import hashlib
import html
import re

import pytest
from django.test import Client
from django.utils import dateformat, timezone

from carecoord.records.models import Invitation, Role, ServiceUser, User
from tests.conftest import client_for
from tests.factories import (
    AllocationFactory,
    CarerFactory,
    CarerRelationshipFactory,
    EpisodeFactory,
    ServiceUserFactory,
    UserFactory,
)

NEW_PASSWORD = "a-quiet-walk-by-the-tyne"
LINK = re.compile(r"https?://[^\s/]+/invitation/([A-Za-z0-9_-]+)/")


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def send(django_capture_on_commit_callbacks, mailoutbox):
    """POST to an invite URL as `who` (a user or a signed-in client); the email goes out
    on commit. Returns the response and the raw token from the link in the email just
    sent (None if none was sent)."""

    def _send(who: User | Client, url: str):
        client = who if isinstance(who, Client) else client_for(who)
        before = len(mailoutbox)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(url)
        if len(mailoutbox) == before:
            return response, None
        match = LINK.search(mailoutbox[-1].body)
        assert match, mailoutbox[-1].body
        return response, match.group(1)

    return _send


@pytest.fixture
def newcomer(world) -> ServiceUser:
    """A service user allocated to world.coordinator with no account yet."""
    record = ServiceUserFactory(team=world.team, full_name="Jamie Newcome",
                                email="jamie.newcome@example.test", nhs_number="9434765919")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    return record


def invite_url(record: ServiceUser) -> str:
    return f"/service-users/{record.pk}/invite/"


def accept_data(full_name="Jamie Newcome", password1=NEW_PASSWORD, password2=None) -> dict:
    return {"full_name": full_name, "password1": password1,
            "password2": password1 if password2 is None else password2}


# --- Service user ----------------------------------------------------------------------


def test_service_user_accepts_an_invitation(world, newcomer, send, mailoutbox):
    response, token = send(world.coordinator, invite_url(newcomer))
    assert response.status_code == 302
    assert response.url == f"/service-users/{newcomer.pk}/"
    assert len(mailoutbox) == 1
    email = mailoutbox[0]
    assert email.to == ["jamie.newcome@example.test"]
    assert f"/invitation/{token}/" in email.body
    for clinical in (newcomer.full_name, newcomer.nhs_number, newcomer.team.name,
                     "Mental Health", dateformat.format(newcomer.date_of_birth, "j F Y"),
                     newcomer.date_of_birth.isoformat()):
        assert clinical not in email.body, clinical
        assert clinical not in email.subject, clinical

    client = Client()
    form = client.get(f"/invitation/{token}/")
    assert form.status_code == 200
    page = text(form)
    assert "Set up your account" in page
    assert "jamie.newcome@example.test" in page
    assert 'name="password1"' in page

    response = client.post(f"/invitation/{token}/", accept_data())
    assert response.status_code == 302
    assert response.url == "/"
    home = client.get("/")
    assert home.status_code == 200
    assert "Hello, Jamie Newcome" in text(home)
    assert "Your account is ready. Welcome." in text(home)

    newcomer.refresh_from_db()
    account = newcomer.user
    assert account is not None
    assert account.email == "jamie.newcome@example.test"
    assert account.has_role(Role.SERVICE_USER)
    assert account.password.startswith("argon2")
    assert account.check_password(NEW_PASSWORD)

    own = client.get(f"/service-users/{newcomer.pk}/")
    assert own.status_code == 200
    assert "Your record" in text(own)


def test_service_user_record_shows_the_invitation_was_sent(world, newcomer, send):
    client = client_for(world.coordinator)
    send(client, invite_url(newcomer))
    page = text(client.get(f"/service-users/{newcomer.pk}/"))
    assert "An invitation has been sent to jamie.newcome@example.test." in page
    assert "does not have an account yet. The last invitation was sent on" in page
    assert "is pending." in page


def test_the_token_itself_is_not_stored(world, newcomer, send):
    _, token = send(world.coordinator, invite_url(newcomer))
    invitation = Invitation.objects.get(service_user=newcomer)
    assert invitation.token_hash == hashlib.sha256(token.encode()).hexdigest()
    for field in Invitation._meta.concrete_fields:
        assert token not in str(getattr(invitation, field.attname)), field.name
    values = Invitation.objects.filter(pk=invitation.pk).values_list()
    assert token not in repr(list(values))


# --- Carer -----------------------------------------------------------------------------


def test_carer_accepts_an_invitation(world, send, mailoutbox):
    carer = CarerFactory(full_name="Kim Carer", email="kim.carer@example.test")
    relationship = CarerRelationshipFactory(carer=carer, service_user=world.service_user,
                                            relationship="Brother")
    response, token = send(world.coordinator, f"/carers/{relationship.pk}/invite/")
    assert response.status_code == 302
    assert mailoutbox[0].to == ["kim.carer@example.test"]
    # The email names nobody and says nothing about why: "as a carer" is shown after sign-in.
    assert "carer" not in mailoutbox[0].body.lower()
    assert world.service_user.full_name not in mailoutbox[0].body

    client = Client()
    page = text(client.get(f"/invitation/{token}/"))
    assert "invited you as a carer" in page
    response = client.post(f"/invitation/{token}/", accept_data(full_name="Kim Carer"))
    assert response.status_code == 302
    assert response.url == "/"

    carer.refresh_from_db()
    assert carer.user is not None
    assert carer.user.email == "kim.carer@example.test"
    assert carer.user.has_role(Role.CARER)
    assert not carer.user.has_role(Role.SERVICE_USER)

    home = text(client.get("/"))
    assert "People you care for" in home
    assert world.service_user.name in home
    assert "(Brother)" in home


# --- Links that cannot be used ---------------------------------------------------------


def test_an_expired_link_says_so_and_creates_nothing(world, newcomer, send):
    _, token = send(world.coordinator, invite_url(newcomer))
    Invitation.objects.filter(service_user=newcomer).update(
        expires_at=timezone.now() - dt.timedelta(minutes=1)
    )
    client = Client()
    response = client.get(f"/invitation/{token}/")
    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert 'name="password1"' not in text(response)

    response = client.post(f"/invitation/{token}/", accept_data())
    assert response.status_code == 410
    assert "This link has expired" in text(response)
    assert not User.objects.filter(email__iexact="jamie.newcome@example.test").exists()
    newcomer.refresh_from_db()
    assert newcomer.user is None


def test_a_used_link_says_it_has_been_used(world, newcomer, send):
    _, token = send(world.coordinator, invite_url(newcomer))
    assert Client().post(f"/invitation/{token}/", accept_data()).status_code == 302

    response = Client().get(f"/invitation/{token}/")
    assert response.status_code == 410
    assert "This link has already been used" in text(response)

    response = Client().post(f"/invitation/{token}/", accept_data(full_name="Someone Else"))
    assert response.status_code == 410
    assert User.objects.filter(email__iexact="jamie.newcome@example.test").count() == 1


def test_a_newer_invitation_withdraws_the_earlier_link(world, newcomer, send):
    _, first = send(world.coordinator, invite_url(newcomer))
    _, second = send(world.coordinator, invite_url(newcomer))
    assert first != second

    response = Client().get(f"/invitation/{first}/")
    assert response.status_code == 410
    assert "This link no longer works" in text(response)
    assert Client().post(f"/invitation/{first}/", accept_data()).status_code == 410
    assert not User.objects.filter(email__iexact=newcomer.email).exists()

    assert Client().get(f"/invitation/{second}/").status_code == 200


def test_an_unknown_link_does_not_work(db):
    response = Client().get("/invitation/not-a-real-token/")
    assert response.status_code == 404
    assert "This link does not work" in text(response)


# --- Password problems -----------------------------------------------------------------


@pytest.mark.parametrize(
    ("password1", "password2", "message"),
    [
        (NEW_PASSWORD, NEW_PASSWORD + "x", "The two passwords do not match."),
        ("short1x", "short1x", "This password is too short."),
        ("qwertyuiop", "qwertyuiop", "This password is too common."),
        ("4829175630", "4829175630", "This password is entirely numeric."),
    ],
)
def test_password_problems_redisplay_the_form(world, newcomer, send, password1, password2,
                                              message):
    _, token = send(world.coordinator, invite_url(newcomer))
    response = Client().post(
        f"/invitation/{token}/",
        accept_data(full_name="Jamie Typed-This", password1=password1, password2=password2),
    )
    assert response.status_code == 200
    page = text(response)
    assert "There is a problem" in page
    assert message in page
    assert 'value="Jamie Typed-This"' in page
    assert not User.objects.filter(email__iexact=newcomer.email).exists()
    # The link still works after a mistake.
    assert Invitation.objects.get(service_user=newcomer).status == "pending"


def test_missing_name_is_an_error(world, newcomer, send):
    _, token = send(world.coordinator, invite_url(newcomer))
    response = Client().post(f"/invitation/{token}/", accept_data(full_name=""))
    assert response.status_code == 200
    assert "There is a problem" in text(response)
    assert "Enter your full name" in text(response)
    assert "This field is required." not in text(response)
    assert not User.objects.filter(email__iexact=newcomer.email).exists()


# --- Someone who already has an account ------------------------------------------------


@pytest.fixture
def professional_carer(world):
    """A care coordinator in another team who is also a carer of world.service_user."""
    professional = UserFactory(email="jo.bell@example.test", full_name="Jo Bell",
                               roles=[Role.COORDINATOR])
    world.other_team.coordinators.add(professional)
    carer = CarerFactory(full_name="Jo Bell", email="Jo.Bell@example.test")
    relationship = CarerRelationshipFactory(carer=carer, service_user=world.service_user,
                                            relationship="Friend")
    return professional, carer, relationship


def test_existing_account_is_asked_to_sign_in_first(world, professional_carer, send):
    professional, carer, relationship = professional_carer
    _, token = send(world.coordinator, f"/carers/{relationship.pk}/invite/")

    response = Client().get(f"/invitation/{token}/")
    assert response.status_code == 200
    page = text(response)
    assert "There is already an account for Jo.Bell@example.test" in page
    assert f'href="/sign-in/?next=/invitation/{token}/"' in page
    assert 'name="password1"' not in page

    # Posting a password anyway neither creates an account nor takes over the old one.
    response = Client().post(f"/invitation/{token}/", accept_data(full_name="Jo Bell"))
    assert response.status_code == 200
    assert User.objects.filter(email__iexact="jo.bell@example.test").count() == 1
    professional.refresh_from_db()
    assert not professional.check_password(NEW_PASSWORD)
    carer.refresh_from_db()
    assert carer.user is None


def test_a_staff_account_is_never_linked_as_a_carer(world, professional_carer, send):
    """Security issue 13, point 2: a professional account never becomes a carer's (nor a
    service user's), even with the matching email: they use a personal account."""
    professional, carer, relationship = professional_carer
    _, token = send(world.coordinator, f"/carers/{relationship.pk}/invite/")

    client = client_for(professional)
    response = client.get(f"/invitation/{token}/")
    assert response.status_code == 410
    assert "A staff account cannot take up this invitation" in text(response)
    response = client.post(f"/invitation/{token}/")
    assert response.status_code == 410

    carer.refresh_from_db()
    assert carer.user is None
    professional = User.objects.get(pk=professional.pk)
    assert not professional.has_role(Role.CARER)
    assert Invitation.objects.get(carer_relationship=relationship).status == "pending"


def test_signed_in_as_someone_else_links_nothing(world, professional_carer, send):
    _, carer, relationship = professional_carer
    _, token = send(world.coordinator, f"/carers/{relationship.pk}/invite/")

    response = client_for(world.other_coordinator).post(f"/invitation/{token}/")
    assert response.status_code == 410
    assert "This invitation is for someone else" in text(response)
    carer.refresh_from_db()
    assert carer.user is None
    assert not world.other_coordinator.role_grants.filter(role=Role.CARER).exists()
    assert Invitation.objects.get(carer_relationship=relationship).status == "pending"


# --- Who may send invitations ----------------------------------------------------------


@pytest.mark.parametrize(
    "who", ["other_coordinator", "manager", "service_user_account", "carer_account", "admin",
            "no_role"],
)
def test_only_the_allocated_coordinator_can_invite(world, newcomer, send, mailoutbox, who):
    carer_relationship = CarerRelationshipFactory(service_user=newcomer)
    for url in (invite_url(newcomer), f"/carers/{carer_relationship.pk}/invite/"):
        response, token = send(getattr(world, who), url)
        assert response.status_code == 404, url
        assert token is None
    assert mailoutbox == []
    assert not Invitation.objects.filter(service_user=newcomer).exists()


def test_invite_is_post_only(world, newcomer):
    assert client_for(world.coordinator).get(invite_url(newcomer)).status_code == 405
    assert not Invitation.objects.exists()


def test_no_invitation_without_an_email_address(world, send, mailoutbox):
    record = ServiceUserFactory(team=world.team, email="")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    client = client_for(world.coordinator)
    response, token = send(client, invite_url(record))
    assert response.status_code == 302
    assert token is None
    assert mailoutbox == []
    page = text(client.get(response.url))
    assert "email address first, then send the invitation" in page
