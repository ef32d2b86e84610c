"""Exports on a real Celery worker, against the Redis server the test command started (not
eager mode): a plan PDF goes queued → ready and holds exactly what the requester may see;
and with Redis stopped, an export asked for meanwhile stays queued (the page still works)
and is made once Redis is back and the requeue sweep runs."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager

import kombu.pools
import pytest
from celery.contrib.testing.worker import start_worker
from django.urls import reverse
from pypdf import PdfReader

from carecoord.celery import app
from carecoord.exports import services as exports
from carecoord.exports.models import Export
from consent.services import consent_decide_item
from plans.models import PlanVersion
from plans.sections import PlanKind
from tests.conftest import client_for
from tests.plans.factories import add_item, add_responsibility, make_plan, propose

BROKER_URL = os.environ.get("CELERY_BROKER_URL", "")

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.skipif(not BROKER_URL, reason="CELERY_BROKER_URL is not set: run through "
                                              "./scripts/test.sh, which starts Redis"),
]

# A publish to a stopped Redis must give up at once (the export stays queued for the
# sweep) rather than retry for seconds.
FAST_FAILING = {
    "task_always_eager": False,
    "broker_connection_retry_on_startup": False,
    "broker_connection_timeout": 1,
    "broker_connection_max_retries": 1,
    "broker_transport_options": {"max_retries": 1, "interval_start": 0,
                                 "interval_step": 0.2, "interval_max": 0.5},
    "task_publish_retry_policy": {"max_retries": 1, "interval_start": 0,
                                  "interval_step": 0.2, "interval_max": 0.2},
    # The Redis result backend subscribes to each task's result when it is sent, and by
    # default retries that 20 times, a second apart.
    "result_backend_transport_options": {"retry_policy": {
        "max_retries": 1, "interval_start": 0, "interval_step": 0.2, "interval_max": 0.5}},
    "redis_socket_connect_timeout": 1,
    "redis_socket_timeout": 5,
}


def _fresh_connections() -> None:
    """Drop pooled broker connections and the result backend, so that new settings
    apply (kombu keeps its pools in a process-wide registry)."""
    kombu.pools.reset()
    app._after_fork()
    app._backend_cache = None
    app._local.__dict__.pop("backend", None)


@pytest.fixture
def real_celery(settings):
    settings.CELERY_TASK_ALWAYS_EAGER = False
    names = [*FAST_FAILING, "broker_url", "result_backend"]
    saved = {name: app.conf.get(name) for name in names}
    app.conf.update(FAST_FAILING, broker_url=BROKER_URL,
                    result_backend=os.environ.get("CELERY_RESULT_BACKEND") or BROKER_URL)
    _fresh_connections()
    app.control.purge()  # nothing left over from other tests for this worker to run
    yield app
    app.conf.update(saved)
    _fresh_connections()


@contextmanager
def worker() -> Iterator[None]:
    with start_worker(app, pool="solo", perform_ping_check=False, shutdown_timeout=20):
        yield


def wait_for(export: Export, status: str, *, timeout: float = 60) -> list[str]:
    """Poll the database until the export has `status`; the statuses seen on the way."""
    seen: list[str] = []
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        export.refresh_from_db()
        if not seen or seen[-1] != export.status:
            seen.append(export.status)
        if export.status == status:
            return seen
        if export.status == Export.Status.FAILED:
            pytest.fail(f"export {export.pk} failed: {export.error}")
        time.sleep(0.1)
    pytest.fail(f"export {export.pk} still {export.status} after {timeout}s (saw {seen})")


def pdf_text(export: Export) -> str:
    reader = PdfReader(exports.exports_dir() / export.file_name)
    return " ".join(" ".join(page.extract_text() for page in reader.pages).split())


def redis_answers() -> bool:
    result = subprocess.run(["redis-cli", "-p", os.environ["REDIS_TEST_PORT"], "ping"],
                            capture_output=True, text=True, timeout=5, check=False)
    return result.stdout.strip() == "PONG"


def _wait(condition, what: str, timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise RuntimeError(f"Redis {what} within {timeout}s")
        time.sleep(0.1)


@contextmanager
def redis_stopped() -> Iterator[None]:
    """Stop the test Redis; ALWAYS start it again afterwards, even if the test fails, so
    later tests have their broker."""
    port = os.environ["REDIS_TEST_PORT"]
    try:
        subprocess.run(["redis-cli", "-p", port, "shutdown", "nosave"], capture_output=True,
                       timeout=10, check=False)
        if redis_answers():  # fall back on the pid file
            pid = int(open(os.environ["REDIS_SERVER_PIDFILE"]).read().strip())  # noqa: SIM115
            os.kill(pid, 15)
        _wait(lambda: not redis_answers(), "did not stop")
        yield
    finally:
        if not redis_answers():
            subprocess.run(shlex.split(os.environ["REDIS_SERVER_CMD"]), check=True, timeout=15)
        _wait(redis_answers, "did not answer PING after the restart")


def shared_agreement(world) -> tuple[PlanVersion, dict[str, int]]:
    """A responsibility agreement naming the carer, with one item shared with them and one
    not."""
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    held = add_item(plan, "responsibilities", world.coordinator, "Collecting prescriptions",
                    body="Every Friday from the pharmacy on the high street.",
                    details={"holder": "carer",
                             "holder_relationship": world.carer_relationship.pk})
    shared = add_responsibility(plan, world.coordinator, title="Going to the gym")
    private = add_responsibility(plan, world.coordinator, title="Cooking for myself")
    consent_decide_item(item=shared, carer=world.carer_relationship.carer, shared=True,
                        decided_by=world.service_user_account)
    ids = {"Collecting prescriptions": held.pk, "Going to the gym": shared.pk,
           "Cooking for myself": private.pk}
    return propose(plan, world.coordinator), ids


def request(user, version: PlanVersion) -> Export:
    response = client_for(user).post(reverse("version_pdf_request", args=[version.pk]))
    assert response.status_code == 302
    assert response.url == reverse("export_list")
    return Export.objects.filter(requested_by=user).latest("pk")


def test_a_real_worker_makes_each_person_the_pdf_they_may_see(world, real_celery):
    version, ids = shared_agreement(world)

    # Asked for before any worker runs: recorded and sent to Redis, still queued.
    coordinator_export = request(world.coordinator, version)
    carer_export = request(world.carer_account, version)
    for export in (coordinator_export, carer_export):
        export.refresh_from_db()
        assert export.status == Export.Status.QUEUED
        assert export.attempts == 0

    with worker():
        seen = wait_for(coordinator_export, Export.Status.READY)
        wait_for(carer_export, Export.Status.READY)
    assert seen[0] in (Export.Status.QUEUED, Export.Status.RENDERING)
    assert seen[-1] == Export.Status.READY

    everything = pdf_text(coordinator_export)
    assert all(title in everything for title in ids)
    assert sorted(coordinator_export.params["entry_ids"]) == sorted(ids.values())
    assert version.content_hash in everything.replace(" ", "")

    theirs = pdf_text(carer_export)
    assert "Collecting prescriptions" in theirs
    assert "Going to the gym" in theirs
    assert "Cooking for myself" not in theirs
    assert f"Shared with {world.carer_relationship.carer.name} on" in theirs
    assert sorted(carer_export.params["entry_ids"]) == sorted(
        [ids["Collecting prescriptions"], ids["Going to the gym"]])

    download = client_for(world.carer_account).get(
        reverse("export_download", args=[carer_export.pk]))
    assert download.status_code == 200
    assert download["Content-Type"] == "application/pdf"


def test_an_export_asked_for_while_redis_is_down_is_made_once_it_is_back(world, real_celery):
    version, ids = shared_agreement(world)
    coordinator = client_for(world.coordinator)

    with redis_stopped():
        started = time.monotonic()
        export = request(world.coordinator, version)
        assert time.monotonic() - started < 10, "asking for a file hung on the dead broker"
        export.refresh_from_db()
        assert export.status == Export.Status.QUEUED
        # The web keeps working, and says the file is queued.
        files_page = coordinator.get(reverse("export_list"))
        assert files_page.status_code == 200
        assert "Queued" in files_page.content.decode()
        assert coordinator.get(reverse("version_detail", args=[version.pk])).status_code == 200

    assert redis_answers()
    with worker():
        assert exports.exports_requeue(older_than=dt.timedelta(0)) == 1
        wait_for(export, Export.Status.READY)

    assert export.attempts == 1
    text = pdf_text(export)
    assert all(title in text for title in ids)
    assert coordinator.get(reverse("export_download", args=[export.pk])).status_code == 200
