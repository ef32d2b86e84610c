"""Security issue 13, point 2: a care coordinator cannot become the service user of a
record by putting their own email address on it and accepting the invitation; changing a
record's email is audited and the person is told."""

from __future__ import annotations

import html
import re

import pytest

from carecoord.audit.models import AccessEvent
from carecoord.notifications.models import Notification
from carecoord.records.models import Invitation, Role, ServiceUser, User
from carecoord.records.services import InvitationUnusableError, invitation_accept
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.forms import date_parts

LINK = re.compile(r"https?://[^\s/]+/invitation/([A-Za-z0-9_-]+)/")


def text(response) -> str:
    return html.unescape(response.content.decode())


def edit_data(record: ServiceUser, **overrides) -> dict:
    data = {
        "full_name": record.full_name, "preferred_name": record.preferred_name,
        "pronouns": record.pronouns, **date_parts("date_of_birth", record.date_of_birth),
        "nhs_number": record.nhs_number, "email": record.email, "phone": record.phone,
        "address": record.address, "preferred_contact": record.preferred_contact,
        "contact_notes": record.contact_notes, "version": record.version,
    }
    data.update(overrides)
    return data


@pytest.fixture
def newcomer(world) -> ServiceUser:
    record = ServiceUserFactory(team=world.team, full_name="Jamie Newcome",
                                email="jamie.newcome@example.test")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    return record


def test_a_coordinator_cannot_take_over_a_record_with_their_own_email(
    world, newcomer, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(f"/service-users/{newcomer.pk}/edit/",
                               edit_data(newcomer, email=world.coordinator.email))
        assert response.status_code == 302
        client.post(f"/service-users/{newcomer.pk}/invite/")
    token = LINK.search(mailoutbox[-1].body).group(1)

    page = client.get(f"/invitation/{token}/")
    assert page.status_code == 410
    assert "A staff account cannot take up this invitation" in text(page)
    response = client.post(f"/invitation/{token}/")
    assert response.status_code == 410

    newcomer.refresh_from_db()
    assert newcomer.user is None
    assert not User.objects.get(pk=world.coordinator.pk).has_role(Role.SERVICE_USER)
    assert Invitation.objects.get(service_user=newcomer).status == "pending"
    # The service itself refuses too, whatever page calls it.
    with pytest.raises(InvitationUnusableError) as refused:
        invitation_accept(token=token, password=None, full_name="",
                          signed_in_user=world.coordinator)
    assert refused.value.status == "staff_account"


@pytest.mark.parametrize("role", [Role.MANAGER, Role.ADMIN])
def test_no_staff_account_becomes_a_service_user(world, newcomer, role, mailoutbox,
                                                 django_capture_on_commit_callbacks):
    staff = world.manager if role == Role.MANAGER else world.admin
    with django_capture_on_commit_callbacks(execute=True):
        client_for(world.coordinator).post(f"/service-users/{newcomer.pk}/edit/",
                                           edit_data(newcomer, email=staff.email))
        client_for(world.coordinator).post(f"/service-users/{newcomer.pk}/invite/")
    token = LINK.search(mailoutbox[-1].body).group(1)
    assert client_for(staff).post(f"/invitation/{token}/").status_code == 410
    newcomer.refresh_from_db()
    assert newcomer.user is None


def test_staff_changing_a_records_email_is_audited_and_the_person_is_told(
    world, mailoutbox, django_capture_on_commit_callbacks
):
    record = world.service_user
    old_email = record.email
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.coordinator).post(
            f"/service-users/{record.pk}/edit/", edit_data(record, email="new@example.test"))
    assert response.status_code == 302

    event = AccessEvent.objects.get(action="service_user.email_change")
    assert (event.actor, event.service_user) == (world.coordinator, record)
    notice = Notification.objects.get(user=world.service_user_account)
    assert "changed the email address on your record" in notice.text
    to_old = [m for m in mailoutbox if m.to == [old_email]]
    assert len(to_old) == 1
    body = to_old[0].subject + to_old[0].body
    assert "has been changed" in body
    # No clinical content, not even whose record it is or the new address.
    for secret in (record.full_name, record.name, "new@example.test"):
        assert secret not in body


def test_changing_the_email_withdraws_links_sent_to_the_old_address(
    world, newcomer, mailoutbox, django_capture_on_commit_callbacks
):
    client = client_for(world.coordinator)
    with django_capture_on_commit_callbacks(execute=True):
        client.post(f"/service-users/{newcomer.pk}/invite/")
    assert Invitation.objects.get(service_user=newcomer).status == "pending"
    client.post(f"/service-users/{newcomer.pk}/edit/",
                edit_data(newcomer, email="someone.else@example.test"))
    assert Invitation.objects.get(service_user=newcomer).status == "withdrawn"


def test_a_record_email_left_alone_is_not_an_email_change(world):
    record = world.service_user
    client_for(world.coordinator).post(f"/service-users/{record.pk}/edit/",
                                       edit_data(record, phone="0191 000 0000"))
    assert not AccessEvent.objects.filter(action="service_user.email_change").exists()
    assert AccessEvent.objects.filter(action="service_user.update").exists()
