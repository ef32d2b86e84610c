"""Emergency (break-glass) access (security issue 13, point 13): a professional who is not
on someone's care team opens their crisis plan and advance statement only, by exact NHS
number and with a reason, for a set time; a banner says so on every page; the person,
their coordinator and their team manager are told at once (emails without clinical
content); every read is audited as break-glass, which the person and the manager see;
after expiry everything is not found."""

from __future__ import annotations

import datetime as dt

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import timezone
from pypdf import PdfReader

from carecoord.audit.models import AccessEvent
from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from carecoord.records.models import BreakGlassAccess, CareTeamRole, Role
from consent.policy import Basis
from tests import clock
from tests.carecoord.careteam_helpers import (  # noqa: F401 (record is a fixture)
    NHS_NUMBER,
    WORDS,
    add_to_care_team,
    item_url,
    plan_url,
    professional,
    record,
    record_url,
)
from tests.conftest import client_for
from tests.factories import UserFactory

REASON = "Found by police on the bridge, distressed; needs crisis plan for assessment."
URL = reverse("break_glass")


def open_glass(client, *, nhs_number: str = NHS_NUMBER, reason: str = REASON,
               capture=None):
    data = {"nhs_number": nhs_number, "reason": reason}
    if capture is None:
        return client.post(URL, data)
    with capture(execute=True):
        return client.post(URL, data)


@pytest.fixture
def outsider():
    return professional("Jo Duty")


def test_a_reason_of_some_length_and_an_exact_nhs_number_are_required(
        world, record, outsider):  # noqa: F811
    client = client_for(outsider)
    assert client.get(URL).status_code == 200
    for data, message in (
        ({"nhs_number": NHS_NUMBER, "reason": ""}, "Say why you need their crisis plan now"),
        ({"nhs_number": NHS_NUMBER, "reason": "urgent"}, "at least 20 characters"),
        ({"nhs_number": "943 476", "reason": REASON}, "valid 10-digit NHS number"),
        # A valid number nobody has: no partial matches, no list.
        ({"nhs_number": "4010232137", "reason": REASON}, "There is no record with that"),
    ):
        response = client.post(URL, data)
        assert response.status_code == 200
        assert message in response.content.decode(), data
    assert not BreakGlassAccess.objects.exists()
    assert client.get(plan_url(record.care_plan)).status_code == 404
    # Typed with spaces, the number is the same number.
    assert open_glass(client, nhs_number="943 476 5919").status_code == 302


def test_only_the_crisis_plan_and_advance_statement_open_until_expiry(
        world, record, outsider, settings):  # noqa: F811
    settings.BREAK_GLASS_HOURS = 4
    client = client_for(outsider)
    assert client.get(plan_url(record.care_plan)).status_code == 404
    response = open_glass(client)
    assert response.status_code == 302
    assert response.url == plan_url(record.care_plan) + "#section-crisis"

    page = client.get(plan_url(record.care_plan))
    assert page.status_code == 200
    text = page.content.decode()
    assert WORDS["crisis_plan"] in text
    assert WORDS["advance_statement"] in text
    for key in ("care_plan", "goal", "wrap", "discharge_plan", "contacts"):
        assert WORDS[key] not in text, key
    api = client.get(reverse("api_plan", args=[record.care_plan.pk])).content.decode()
    assert WORDS["crisis_plan"] in api
    assert WORDS["advance_statement"] in api
    assert WORDS["care_plan"] not in api
    assert WORDS["goal"] not in api
    for key in ("crisis_plan", "advance_statement"):
        assert client.get(item_url(record.items[key])).status_code == 200
        assert client.get(reverse("api_item", args=[record.items[key].pk])).status_code == 200
    # Everything else of the record stays not found.
    for url in (record_url(world), plan_url(record.wrap), item_url(record.items["care_plan"]),
                item_url(record.items["goal"]), item_url(record.items["wrap"]),
                reverse("api_service_user", args=[world.service_user.pk]),
                reverse("api_item", args=[record.items["care_plan"].pk]),
                reverse("api_plan_reviews", args=[record.care_plan.pk]),
                reverse("consent_overview", args=[world.service_user.pk]),
                reverse("item_edit", args=[record.items["crisis_plan"].pk])):
        assert client.get(url).status_code == 404, url
    assert client.get(reverse("api_service_users")).json()["results"] == []
    # The version page (and so its PDF) shows only those two entries.
    version_page = client.get(reverse("version_detail", args=[record.version.pk]))
    assert version_page.status_code == 200
    assert WORDS["advance_statement"] in version_page.content.decode()
    assert WORDS["care_plan"] not in version_page.content.decode()

    # A banner on every page while it lasts.
    access = BreakGlassAccess.objects.get()
    until = timezone.localtime(access.expires_at)
    assert access.expires_at - access.started_at == dt.timedelta(hours=4)
    home = client.get(reverse("home")).content.decode()
    assert (f"Emergency access to {world.service_user.name}'s crisis plan until "
            f"{until:%H:%M} — reason: {REASON}") in home

    # After expiry: not found, and no banner.
    with clock.travel_to(access.expires_at + dt.timedelta(minutes=1)):
        client = client_for(outsider)  # signed in again: an idle session ends
        assert client.get(plan_url(record.care_plan)).status_code == 404
        assert client.get(item_url(record.items["advance_statement"])).status_code == 404
        assert client.get(reverse("api_plan", args=[record.care_plan.pk])).status_code == 404
        assert client.post(reverse("version_pdf_request",
                                   args=[record.version.pk])).status_code == 404
        home = client.get(reverse("home")).content.decode()
        assert f"Emergency access to {world.service_user.name}'s crisis plan" not in home
        assert "app-break-glass-banner" not in home


def test_everyone_concerned_is_told_at_once_without_clinical_content_in_email(
        world, record, outsider, django_capture_on_commit_callbacks):  # noqa: F811
    mail.outbox.clear()
    open_glass(client_for(outsider), capture=django_capture_on_commit_callbacks)
    for person in (world.service_user_account, world.coordinator, world.manager):
        # (The record's fixture proposed a version, which told its signers too.)
        notice = Notification.objects.get(user=person, text__contains="emergency access")
        assert "Jo Duty used emergency access" in notice.text
        assert REASON in notice.text
    assert not Notification.objects.filter(user=outsider).exists()
    assert not Notification.objects.filter(user=world.other_coordinator).exists()
    recipients = sorted(address for message in mail.outbox for address in message.to)
    assert recipients == sorted([world.service_user_account.email, world.coordinator.email,
                                 world.manager.email])
    for message in mail.outbox:
        body = message.subject + message.body
        for words in (REASON, WORDS["crisis_plan"], WORDS["advance_statement"],
                      world.service_user.full_name, "crisis"):
            assert words not in body


def test_the_basis_is_visible_to_the_service_user_and_the_manager(
        world, record, outsider):  # noqa: F811
    client = client_for(outsider)
    open_glass(client)
    client.get(plan_url(record.care_plan))
    assert AccessEvent.objects.filter(actor=outsider, action="plan_detail.view",
                                      basis=str(Basis.BREAK_GLASS)).exists()
    assert AccessEvent.objects.filter(actor=outsider, action="break_glass.open").exists()

    own = client_for(world.service_user_account).get(record_url(world)).content.decode()
    assert "Who has looked at your record" in own
    assert "Jo Duty" in own
    assert "Emergency access to your crisis plan and advance statement" in own

    today = clock.today().isoformat()
    report = client_for(world.manager).get(
        reverse("report_detail", args=[world.team.pk, "access-events"]),
        {"start": today, "end": today})
    assert report.status_code == 200
    text = report.content.decode()
    assert "Jo Duty" in text
    assert "Emergency access to the crisis plan and advance statement" in text
    assert WORDS["crisis_plan"] not in text


def test_only_staff_outside_the_persons_care_may_use_it(world, record):  # noqa: F811
    for person in (world.service_user_account, world.carer_account, world.manager,
                   world.no_role, world.admin):
        client = client_for(person)
        assert client.get(URL).status_code == 404, person
        assert open_glass(client).status_code == 404, person
    # Their coordinator, or someone on their care team, opens the record the usual way.
    member = professional("Dr Nadia Okafor")
    add_to_care_team(world, member, CareTeamRole.DUTY_WORKER)
    for person, words in ((world.coordinator, "You are this person's care coordinator"),
                          (member, "You are on this person&#x27;s care team")):
        response = open_glass(client_for(person))
        assert response.status_code == 200
        assert words.replace("'", "&#x27;") in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    # A care coordinator of another team may use it.
    other = UserFactory(roles=[Role.COORDINATOR])
    world.other_team.coordinators.add(other)
    assert open_glass(client_for(other)).status_code == 302


def test_the_pdf_holds_the_crisis_plan_only_and_stops_downloading_at_expiry(
        world, record, outsider, settings, django_capture_on_commit_callbacks):  # noqa: F811
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        client = client_for(outsider)
        open_glass(client)
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse("version_pdf_request", args=[record.version.pk]))
        assert response.status_code == 302
    finally:
        celery_app.conf.task_always_eager = before
    export = Export.objects.get(requested_by=outsider)
    assert export.status == Export.Status.READY, export.error
    reader = PdfReader(exports.exports_dir() / export.file_name)
    text = " ".join(" ".join(page.extract_text().split()) for page in reader.pages)
    assert WORDS["crisis_plan"] in text
    assert WORDS["advance_statement"] in text
    assert WORDS["care_plan"] not in text
    assert "Made for Jo Duty under emergency access" in text
    assert "Shared with" not in text
    download = reverse("export_download", args=[export.pk])
    assert client.get(download).status_code == 200
    access = BreakGlassAccess.objects.get()
    with clock.travel_to(access.expires_at + dt.timedelta(minutes=1)):
        assert client_for(outsider).get(download).status_code == 404


def test_a_number_two_records_hold_opens_neither(world, record, outsider):  # noqa: F811
    """NHS numbers are no longer unique (a clash is a possible duplicate a manager checks,
    ADR 0009): in an emergency nobody's crisis plan is opened on a guess."""
    from tests.factories import ServiceUserFactory

    ServiceUserFactory(team=world.other_team, nhs_number=NHS_NUMBER)
    response = open_glass(client_for(outsider))
    assert response.status_code == 200
    assert "More than one record holds that NHS number" in response.content.decode()
    assert not BreakGlassAccess.objects.exists()
    assert client_for(outsider).get(plan_url(record.care_plan)).status_code == 404
