"""The demo's background worker (scripts/demo.sh, ADR 0021): Celery on kombu's
filesystem transport, with no server to install. Configured as the demo configures it
(in a temporary folder), a PDF asked for through the page is written as a message file,
stays queued while no worker runs, and is made by a worker started on that transport."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.urls import reverse

from carecoord.celery import app
from carecoord.exports.models import Export
from carecoord.settings import filesystem_transport_options
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.plans.factories import add_responsibility, make_plan, propose
from tests.test_celery_worker import _fresh_connections, wait_for, worker

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture
def demo_broker(settings, tmp_path, monkeypatch) -> Path:
    """The app switched to the demo's broker for this test, and put back afterwards."""
    folder = tmp_path / "celery"
    # Celery prefers this variable to its configured broker_url (the test command sets it
    # to its Redis).
    monkeypatch.delenv("CELERY_BROKER_URL", raising=False)
    settings.CELERY_TASK_ALWAYS_EAGER = False
    names = ["task_always_eager", "broker_url", "result_backend", "broker_transport_options"]
    saved = {name: app.conf.get(name) for name in names}
    app.conf.update(task_always_eager=False, broker_url="filesystem://", result_backend=None,
                    broker_transport_options=filesystem_transport_options(folder))
    _fresh_connections()
    assert app.connection().as_uri().startswith("filesystem:")
    yield folder
    app.conf.update(saved)
    _fresh_connections()


def messages_in(folder: Path) -> list[Path]:
    return sorted((folder / "queue").glob("*.msg"))


def test_a_pdf_goes_through_the_filesystem_broker_to_a_worker(world, demo_broker):
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    add_responsibility(plan, world.coordinator, title="Going to the gym")
    version = propose(plan, world.coordinator)

    response = client_for(world.coordinator).post(
        reverse("version_pdf_request", args=[version.pk]))
    assert response.status_code == 302
    export = Export.objects.get(requested_by=world.coordinator)
    assert export.status == Export.Status.QUEUED
    assert len(messages_in(demo_broker)) == 1  # waiting as a file for a worker

    with worker():
        seen = wait_for(export, Export.Status.READY, timeout=60)
    assert seen[-1] == Export.Status.READY
    assert messages_in(demo_broker) == []  # taken, and not kept
    assert client_for(world.coordinator).get(
        reverse("export_download", args=[export.pk])).status_code == 200
