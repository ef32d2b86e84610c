"""Inviting staff by email: a new account only, a one-time link that expires, then the
sign-in asks for two-factor set-up. An invitation never takes over an existing account."""

from __future__ import annotations

import datetime as dt
import html

import pytest
from django.contrib.auth.tokens import default_token_generator
from django.test import Client
from django.utils import timezone
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from carecoord.administration import services
from carecoord.administration.tokens import staff_invitation_tokens
from carecoord.audit.models import AccessEvent
from carecoord.records.models import Role, User
from tests import clock
from tests.carecoord.administration.helpers import invitation_link
from tests.conftest import client_for

NEW_PASSWORD = "a-long-new-password-42"


def text(response) -> str:
    return html.unescape(response.content.decode())


@pytest.fixture
def invite(world, mailoutbox, django_capture_on_commit_callbacks):
    def invite(email: str = "Nia.Newcomer@Example.test", roles=(Role.COORDINATOR,)):
        with django_capture_on_commit_callbacks(execute=True):
            return services.staff_invite(email=email, full_name="Nia Newcomer", roles=roles,
                                         invited_by=world.admin)
    return invite


def choose_password(client: Client, link: str, password: str = NEW_PASSWORD):
    page = client.get(link, follow=True)
    return page, client.post(page.redirect_chain[-1][0] if page.redirect_chain else link,
                             {"new_password1": password, "new_password2": password})


def test_an_invited_person_chooses_a_password_once_then_sets_up_two_factor(
    world, invite, mailoutbox
):
    user = invite()
    assert user.email == "nia.newcomer@example.test"
    assert user.roles == {Role.COORDINATOR}
    assert not user.has_usable_password()
    (mail,) = mailoutbox
    assert mail.to == ["nia.newcomer@example.test"]
    assert world.admin.display_name in mail.body
    assert "two-factor" in mail.body
    link = invitation_link(mail.body)

    client = Client()
    page, response = choose_password(client, link)
    assert "Choose your password" in text(page)
    assert response.status_code == 302
    assert response.url == "/sign-in/"
    user.refresh_from_db()
    assert user.check_password(NEW_PASSWORD)
    assert AccessEvent.objects.filter(action="staff.invitation_accept", actor=user).exists()

    # Used once: the same link no longer works.
    again = Client().get(link, follow=True)
    assert "This link has expired or has already been used" in text(again)

    # Signing in asks them to set up two-factor before anything else.
    response = client.post("/sign-in/", {"username": user.email, "password": NEW_PASSWORD})
    assert response.status_code == 302
    assert client.get("/administration/").status_code == 302
    assert client.get("/").url.startswith("/account/two-factor/set-up/")


def test_the_link_expires(world, invite, mailoutbox, settings):
    invite()
    link = invitation_link(mailoutbox[0].body)
    later = timezone.now() + dt.timedelta(days=settings.INVITATION_VALID_DAYS, hours=1)
    with clock.travel_to(later):
        page = Client().get(link, follow=True)
    assert "This link has expired or has already been used" in text(page)


def test_disabling_an_invited_account_kills_its_link(world, invite, mailoutbox):
    user = invite()
    services.staff_account_disable(user=user, disabled_by=world.admin)
    page = Client().get(invitation_link(mailoutbox[0].body), follow=True)
    assert "This link has expired or has already been used" in text(page)


@pytest.mark.parametrize("who", ["service_user_account", "carer_account", "coordinator"])
def test_an_address_with_an_account_is_never_invited(world, invite, mailoutbox, who):
    """Else an administrator could turn a service user's or a carer's account into a
    professional's, or send its owner's address a link to reset it."""
    existing = getattr(world, who)
    before = (existing.password, set(existing.roles))
    with pytest.raises(services.EmailInUseError):
        invite(email=existing.email.upper(), roles=(Role.ADMIN,))
    existing = User.objects.get(pk=existing.pk)
    assert (existing.password, set(existing.roles)) == before
    assert mailoutbox == []
    assert not AccessEvent.objects.filter(action="staff.invite").exists()


def test_the_invite_page_says_so_for_a_service_users_address(world, mailoutbox):
    response = client_for(world.admin).post("/administration/staff/invite/", {
        "full_name": "Alex Takeover", "email": world.service_user_account.email,
        "roles": [Role.ADMIN]})
    assert response.status_code == 200
    assert "This email address already has an account" in text(response)
    assert not User.objects.get(pk=world.service_user_account.pk).has_role(Role.ADMIN)
    assert mailoutbox == []


@pytest.mark.parametrize("role", [Role.SERVICE_USER, Role.CARER])
def test_nobody_is_invited_as_a_service_user_or_carer_here(world, invite, role):
    with pytest.raises(services.AdministrationError):
        invite(roles=(role,))
    assert not User.objects.filter(email="nia.newcomer@example.test").exists()


def _link_for(user: User, token: str) -> str:
    return f"/staff-invitation/{urlsafe_base64_encode(force_bytes(user.pk))}/{token}/"


@pytest.mark.parametrize("who", ["service_user_account", "carer_account", "coordinator"])
def test_an_invitation_link_never_sets_the_password_of_an_account_in_use(world, who):
    existing = getattr(world, who)
    link = _link_for(existing, staff_invitation_tokens.make_token(existing))
    page, _response = choose_password(Client(), link)
    assert "This link has expired or has already been used" in text(page)
    assert not User.objects.get(pk=existing.pk).check_password(NEW_PASSWORD)


def test_a_reset_link_is_no_invitation_and_an_invitation_no_reset_link(
    world, invite, mailoutbox
):
    user = invite()
    reset_token = default_token_generator.make_token(user)
    page = Client().get(_link_for(user, reset_token), follow=True)
    assert "This link has expired or has already been used" in text(page)

    invitation_token = invitation_link(mailoutbox[0].body).rstrip("/").rsplit("/", 1)[1]
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    page = Client().get(f"/password-reset/{uid}/{invitation_token}/", follow=True)
    assert "Choose a new password" not in text(page)


def test_a_new_invitation_can_be_sent_until_the_password_is_chosen(
    world, invite, mailoutbox, django_capture_on_commit_callbacks
):
    user = invite()
    with django_capture_on_commit_callbacks(execute=True):
        services.staff_invitation_resend(user=user, sent_by=world.admin)
    assert len(mailoutbox) == 2
    choose_password(Client(), invitation_link(mailoutbox[1].body))
    with pytest.raises(services.AdministrationError):
        services.staff_invitation_resend(user=User.objects.get(pk=user.pk),
                                         sent_by=world.admin)
