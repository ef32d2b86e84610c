"""Discharge information for carers (issue 11, point 4): the episode's planned end,
discharge plan and "who to contact after discharge" are care plan items, kept in step by
the episode services, shared with a carer only through the same per-item consent — and
visible to them only when shared, on the page, the API, the PDF and the FHIR export.
When an episode ends, every carer with an active relationship is told, without detail."""

from __future__ import annotations

import json

import pytest
from django.core import mail
from django.urls import reverse
from pypdf import PdfReader

from carecoord.celery import app as celery_app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from carecoord.records.models import Episode
from carecoord.records.services import episode_update
from carers.services import carer_relationship_end
from consent.services import consent_decide_item, consent_decide_section
from plans.models import PlanItem
from tests import clock
from tests.conftest import client_for
from tests.factories import CarerFactory, CarerRelationshipFactory, UserFactory
from tests.plans.factories import make_plan, propose

DISCHARGE = "DISCHARGE-PLAN: GP reviews medication monthly; Recovery College course booked."
CONTACTS = "AFTER-CONTACTS: Crisis line 0800 000 0000; GP surgery on weekdays."


@pytest.fixture(autouse=True)
def eager_tasks(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = True
    before = celery_app.conf.task_always_eager
    celery_app.conf.task_always_eager = True
    yield
    celery_app.conf.task_always_eager = before


def _episode(world) -> Episode:
    return Episode.objects.get(service_user=world.service_user, discharged_on__isnull=True)


def _plan_the_end(world, *, discharge: str = DISCHARGE, contacts: str = CONTACTS,
                  discharged_on=None) -> Episode:
    episode = _episode(world)
    return episode_update(episode=episode, changed_by=world.coordinator,
                          planned_end_on=clock.days(60), discharged_on=discharged_on,
                          discharge_plan=discharge, after_discharge_contacts=contacts)


def _items(world) -> dict[str, PlanItem]:
    return {item.prompt: item for item in PlanItem.objects.filter(
        plan__service_user=world.service_user, section="planned_end")}


def test_the_episode_keeps_the_care_plans_discharge_items_in_step(world):
    plan = make_plan(world)
    # A new care plan opens with only its own, empty, questions.
    assert list(_items(world)) == []
    _plan_the_end(world)
    items = _items(world)
    assert sorted(items) == ["after_discharge_contacts", "discharge_plan", "planned_end_date"]
    assert items["discharge_plan"].body == DISCHARGE
    assert items["after_discharge_contacts"].body == CONTACTS
    assert f"{clock.days(60):%-d %B %Y}" in items["planned_end_date"].body
    # A change moves the same items on (with history), never adds more.
    _plan_the_end(world, discharge=DISCHARGE + " Updated.")
    again = _items(world)
    assert {k: v.pk for k, v in again.items()} == {k: v.pk for k, v in items.items()}
    assert again["discharge_plan"].body == DISCHARGE + " Updated."
    assert again["discharge_plan"].revision == items["discharge_plan"].revision + 1
    assert PlanItem.objects.filter(plan=plan, section="planned_end").count() == 3


def _carer_surfaces(world, plan) -> dict[str, str]:
    carer = client_for(world.carer_account)
    page = carer.get(reverse("carer_person", args=[world.carer_relationship.pk]))
    api = carer.get(reverse("api_carer_shared_items", args=[world.carer_relationship.pk]))
    fhir = carer.get(f"/api/v1/service-users/{world.service_user.pk}/fhir",
                     headers={"Accept": "application/fhir+json"})
    assert (page.status_code, api.status_code, fhir.status_code) == (200, 200, 200)
    return {"page": page.content.decode(), "api": json.dumps(api.json()),
            "fhir": fhir.content.decode()}


def _carer_pdf(world, plan, capture) -> str:
    version = propose(plan, world.coordinator)
    with capture(execute=True):
        response = client_for(world.carer_account).post(
            reverse("version_pdf_request", args=[version.pk]))
    assert response.status_code == 302
    export = Export.objects.filter(requested_by=world.carer_account).latest("pk")
    assert export.status == Export.Status.READY, export.error
    reader = PdfReader(exports.exports_dir() / export.file_name)
    return "\n".join(page.extract_text() for page in reader.pages)


def test_discharge_items_are_seen_by_a_carer_only_when_shared_on_every_surface(
        world, django_capture_on_commit_callbacks):
    plan = make_plan(world)
    _plan_the_end(world)
    nothing_shared = _carer_surfaces(world, plan)
    for surface, text in nothing_shared.items():
        assert "DISCHARGE-PLAN" not in text, surface
        assert "AFTER-CONTACTS" not in text, surface

    items = _items(world)
    consent_decide_item(item=items["discharge_plan"], carer=world.carer_relationship.carer,
                        shared=True, decided_by=world.service_user_account)
    shared = _carer_surfaces(world, plan)
    for surface, text in shared.items():
        assert "DISCHARGE-PLAN" in text, surface
        assert "AFTER-CONTACTS" not in text, surface  # not shared: still not seen
    pdf = _carer_pdf(world, plan, django_capture_on_commit_callbacks)
    assert "DISCHARGE-PLAN" in pdf
    assert "AFTER-CONTACTS" not in pdf

    # A change to the episode changes what the carer sees; the share holds.
    _plan_the_end(world, discharge="DISCHARGE-PLAN: changed words.")
    assert "changed words" in _carer_surfaces(world, plan)["api"]

    # Withdrawn: gone at once.
    consent_decide_item(item=items["discharge_plan"], carer=world.carer_relationship.carer,
                        shared=False, decided_by=world.service_user_account)
    for surface, text in _carer_surfaces(world, plan).items():
        assert "DISCHARGE-PLAN" not in text, surface


def test_a_section_rule_on_the_planned_end_covers_discharge_items_added_later(world):
    plan = make_plan(world)
    consent_decide_section(plan=plan, section="planned_end", carer=world.carer_relationship.carer,
                           shared=True, decided_by=world.service_user_account)
    _plan_the_end(world)
    assert "AFTER-CONTACTS" in _carer_surfaces(world, plan)["api"]


def test_every_active_carer_is_told_when_care_coordination_ends_and_no_one_else(
        world, django_capture_on_commit_callbacks):
    make_plan(world)
    second = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=["carer"])), service_user=world.service_user)
    former = CarerRelationshipFactory(
        carer=CarerFactory(user=UserFactory(roles=["carer"])), service_user=world.service_user)
    carer_relationship_end(relationship=former, ended_by=world.coordinator)
    Notification.objects.all().delete()
    mail.outbox.clear()

    with django_capture_on_commit_callbacks(execute=True):
        _plan_the_end(world, discharged_on=clock.today())

    def ended(user) -> list[Notification]:
        return list(Notification.objects.filter(user=user, text__contains="has ended"))

    for user in (world.carer_account, second.carer.user):
        [notice] = ended(user)
        assert notice.url == reverse("peersupport_directory")
        assert "peer support" in notice.text
        assert "carer services" in notice.text
        assert "DISCHARGE-PLAN" not in notice.text
        assert "AFTER-CONTACTS" not in notice.text
    assert ended(former.carer.user) == []
    assert ended(world.other_carer_account) == []
    carers_mail = [m for m in mail.outbox
                   if m.to[0] in {world.carer_account.email, second.carer.user.email}]
    assert len(carers_mail) == 2
    for message in carers_mail:
        assert world.service_user.name not in message.body
        assert "DISCHARGE" not in message.body
    assert former.carer.user.email not in {m.to[0] for m in mail.outbox}
