"""Links in emails start with the address the person's request reached (issue 12 point
8): the demo ran on port 8311 and its invitation email linked to port 8000. The host is
the one Django validated against ALLOWED_HOSTS; only work with no request behind it (the
review reminders) uses SITE_URL. A task started by a request (a PDF's "your file is
ready" email) carries the request's address with it."""

from __future__ import annotations

import re

import pytest
from django.urls import reverse

from carecoord.celery import app as celery_app
from carecoord.notifications.services import notification_send
from carecoord.web.site_url import absolute_url, site_url_used
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.factories import AllocationFactory, EpisodeFactory, ServiceUserFactory
from tests.plans.factories import add_responsibility, make_plan, propose

DEMO_HOST = "127.0.0.1:8311"
LINK = re.compile(r"(https?://[^\s/]+)/invitation/[A-Za-z0-9_-]+/")


@pytest.fixture(autouse=True)
def hosts(settings):
    settings.ALLOWED_HOSTS = ["127.0.0.1", "care.example.nhs.uk", "testserver"]
    settings.SITE_URL = "http://127.0.0.1:8000"


@pytest.fixture
def newcomer(world):
    record = ServiceUserFactory(team=world.team, full_name="Jamie Newcome",
                                email="jamie.newcome@example.test", nhs_number="9434765919")
    AllocationFactory(episode=EpisodeFactory(service_user=record), coordinator=world.coordinator)
    return record


def invite(client, record, capture, **extra):
    with capture(execute=True):
        return client.post(f"/service-users/{record.pk}/invite/", **extra)


def test_an_invitation_links_to_the_port_the_coordinator_used(
        world, newcomer, mailoutbox, django_capture_on_commit_callbacks):
    response = invite(client_for(world.coordinator), newcomer,
                      django_capture_on_commit_callbacks, HTTP_HOST=DEMO_HOST)
    assert response.status_code == 302
    (mail,) = mailoutbox
    match = LINK.search(mail.body)
    assert match, mail.body
    assert match.group(1) == f"http://{DEMO_HOST}"
    assert ":8000" not in mail.body


def test_over_https_the_link_is_https(world, newcomer, mailoutbox,
                                      django_capture_on_commit_callbacks):
    invite(client_for(world.coordinator), newcomer, django_capture_on_commit_callbacks,
           HTTP_HOST="care.example.nhs.uk", secure=True)
    (mail,) = mailoutbox
    assert LINK.search(mail.body).group(1) == "https://care.example.nhs.uk"


def test_a_host_outside_allowed_hosts_sends_nothing(world, newcomer, mailoutbox,
                                                    django_capture_on_commit_callbacks):
    # A forged Host header never reaches a link: Django refuses the request first.
    response = invite(client_for(world.coordinator), newcomer,
                      django_capture_on_commit_callbacks, HTTP_HOST="evil.example.com")
    assert response.status_code == 400
    assert mailoutbox == []


def test_a_password_reset_link_uses_the_administrators_address(
        world, mailoutbox, django_capture_on_commit_callbacks):
    target = world.service_user_account
    with django_capture_on_commit_callbacks(execute=True):
        response = client_for(world.admin).post(
            "/admin/carecoord/user/",
            {"action": "send_password_reset_link", "_selected_action": [target.pk]},
            HTTP_HOST=DEMO_HOST,
        )
    assert response.status_code == 302
    (mail,) = mailoutbox
    assert f"http://{DEMO_HOST}/password-reset/" in mail.body
    assert ":8000" not in mail.body


def test_the_file_ready_email_from_the_worker_uses_the_requests_address(
        world, settings, mailoutbox, django_capture_on_commit_callbacks):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    try:
        plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
        add_responsibility(plan, world.coordinator, title="Going to the gym")
        version = propose(plan, world.coordinator)
        with django_capture_on_commit_callbacks(execute=True):
            response = client_for(world.coordinator).post(
                reverse("version_pdf_request", args=[version.pk]), HTTP_HOST=DEMO_HOST)
        assert response.status_code == 302
    finally:
        celery_app.conf.task_always_eager = before
    ready = [mail for mail in mailoutbox if reverse("export_list") in mail.body]
    assert ready, [mail.body for mail in mailoutbox]
    assert f"http://{DEMO_HOST}{reverse('export_list')}" in ready[-1].body


def test_with_no_request_behind_it_an_email_uses_site_url(world, mailoutbox,
                                                          django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        notification_send(user=world.coordinator, text="A review is due soon.",
                          url_name="export_list")
    (mail,) = mailoutbox
    assert f"http://127.0.0.1:8000{reverse('export_list')}" in mail.body


def test_an_address_captured_for_a_task_applies_only_inside_it():
    with site_url_used("http://127.0.0.1:8311"):
        assert absolute_url("/files/") == "http://127.0.0.1:8311/files/"
    assert absolute_url("/files/") == "http://127.0.0.1:8000/files/"
