"""Faults, against the real servers the test command starts: PostgreSQL restarted under the
running web app (the next requests succeed: CONN_HEALTH_CHECKS), and Redis stopped and
started again while an export and review reminders are pending (nothing lost, nothing sent
twice; the things to do kept in it are worked out afresh and writes go on, ADR 0029),
and a Celery worker process killed with SIGKILL in the middle of making a PDF (the
task goes back on the queue, runs again once its lease has run out, and completes once).
Two sweeps at once are in tests/plans/test_reminders.py."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import close_old_connections, connections
from django.utils import timezone

from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from plans.models import ReviewReminder
from plans.sections import PlanKind
from plans.tasks import review_reminders_sweep
from tests import clock
from tests.conftest import client_for
from tests.plans.factories import (
    add_responsibility,
    make_plan,
    plan_with_content,
    propose,
    sign,
)
from tests.plans.test_reminders import care_plan_due
from tests.test_celery_worker import (
    pdf_text,
    real_celery,  # noqa: F401 - a fixture
    redis_answers,
    redis_stopped,
    request,
    shared_agreement,
    wait_for,
    worker,
)

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgresql_only]


def _status(url: str) -> int:
    """The answer to an API call with a token that does not exist: the server looks it up
    in the database (401 when it could, 500 when the database failed it)."""
    call = urllib.request.Request(url, headers={"Authorization": "Token not-a-real-token"})
    try:
        with urllib.request.urlopen(call, timeout=30) as response:
            return response.status
    except urllib.error.HTTPError as error:
        return error.code


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextmanager
def gunicorn_on_the_test_database(tmp_path) -> Iterator[str]:
    """The production web server (one sync worker, so one kept database connection)
    serving the test database."""
    db = connections["default"].settings_dict
    port = _free_port()
    env = {**os.environ, "DB_CONN_MAX_AGE": "600",
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"}
    log = (tmp_path / "gunicorn.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "carecoord.wsgi:application",
         "--bind", f"127.0.0.1:{port}", "--workers", "1", "--timeout", "60"],
        env=env, stdout=log, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                _status(f"{url}/api/v1/service-users/")
                break
            except OSError:
                assert server.poll() is None, (tmp_path / "gunicorn.log").read_text()
                assert time.monotonic() < deadline, "gunicorn did not start"
                time.sleep(0.2)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=30)
        log.close()


@pytest.mark.skipif(not os.environ.get("PG_RESTART_CMD"),
                    reason="PG_RESTART_CMD is set by ./scripts/test.sh")
def test_postgresql_restarted_under_the_web_app_the_next_requests_succeed(db, tmp_path):
    with gunicorn_on_the_test_database(tmp_path) as url:
        api = f"{url}/api/v1/service-users/"
        assert [_status(api) for _ in range(2)] == [401, 401]  # its connection is kept

        subprocess.run(shlex.split(os.environ["PG_RESTART_CMD"]), check=True, timeout=120,
                       capture_output=True)

        # The kept connection died with the server. CONN_HEALTH_CHECKS makes the next
        # request notice and reconnect, instead of failing with a 500.
        assert [_status(api) for _ in range(3)] == [401, 401, 401], (
            (tmp_path / "gunicorn.log").read_text()[-3000:])
    # This test's own connection died too: let Django notice, as each request does.
    for each in connections.all():
        each.close_if_unusable_or_obsolete()
    close_old_connections()


def test_redis_restarted_with_an_export_and_reminders_pending_loses_nothing_sends_nothing_twice(
        world, real_celery):  # noqa: F811 - the fixture
    version, _ = shared_agreement(world)
    plan = care_plan_due(world, clock.today() + dt.timedelta(days=3))
    mail.outbox.clear()

    with redis_stopped():
        export = request(world.coordinator, version)
        export.refresh_from_db()
        assert export.status == Export.Status.QUEUED
        # The hourly sweep cannot be queued while the broker is down.
        with pytest.raises(Exception):  # noqa: B017, PT011 - kombu's error, whichever it is
            review_reminders_sweep.apply_async()
        assert not ReviewReminder.objects.filter(plan=plan).exists()

    assert redis_answers()
    with worker():
        assert exports.exports_requeue(older_than=dt.timedelta(0)) == 1
        review_reminders_sweep.apply_async()
        wait_for(export, Export.Status.READY)
        deadline = time.monotonic() + 60
        while not ReviewReminder.objects.filter(plan=plan).exists():
            assert time.monotonic() < deadline, "the sweep did not run once Redis was back"
            time.sleep(0.1)
        sent = ReviewReminder.objects.filter(plan=plan).count()
        emails = len(mail.outbox)
        # The next sweeps (the hour after, or a message delivered twice) send nothing more.
        review_reminders_sweep.apply_async()
        review_reminders_sweep.apply_async()
        time.sleep(2)

    export.refresh_from_db()
    assert (export.status, export.attempts) == (Export.Status.READY, 1)
    assert ReviewReminder.objects.filter(plan=plan).count() == sent
    assert len(mail.outbox) == emails



def test_a_render_whose_worker_died_is_taken_over_once_by_another_worker(
        world, real_celery, settings):  # noqa: F811 - the fixture
    """A worker killed while making a PDF leaves the export "being made" and its task
    unacknowledged (acks_late), so Redis hands the task to another worker. That worker
    takes the render over once the dead one's lease has run out, and it completes once."""
    settings.EXPORT_RENDER_LEASE_SECONDS = 2
    version, ids = shared_agreement(world)
    export = request(world.coordinator, version)
    # What the killed worker left: marked as being made, one attempt, never finished.
    Export.objects.filter(pk=export.pk).update(
        status=Export.Status.RENDERING, attempts=1, started_at=timezone.now())

    with worker():
        # The task, handed over while the lease still runs: the worker looks again when it
        # has run out, then takes the render over.
        wait_for(export, Export.Status.READY, timeout=90)

    export.refresh_from_db()
    assert export.attempts == 2  # the dead render, then the one that finished
    text = " ".join(pdf_text(export).split())
    assert all(title in text for title in ids)
    ready = Notification.objects.filter(user=world.coordinator, text__startswith="Your file")
    assert ready.count() == 1


def test_a_second_delivery_while_a_render_runs_does_not_render_twice(world, settings):
    """Within the lease the render is someone else's: the service says so (the task then
    looks again later) instead of making a second file."""
    version, _ = shared_agreement(world)
    export = Export.objects.create(
        kind=Export.Kind.PLAN_VERSION, params={"version_id": version.pk},
        requested_by=world.coordinator, title="A plan", status=Export.Status.RENDERING,
        attempts=1, started_at=timezone.now())
    with pytest.raises(exports.ExportBusyError):
        exports.export_render(export_id=export.pk)
    export.refresh_from_db()
    assert (export.status, export.attempts, export.file_name) == (
        Export.Status.RENDERING, 1, "")


@contextmanager
def celery_worker_process(tmp_path, settings) -> Iterator[subprocess.Popen]:
    """A real worker, as deployed (`celery worker`, the prefork pool with one child), on
    the test database and the test Redis, writing files where this test reads them."""
    db = connections["default"].settings_dict
    env = {**os.environ,
           "DATABASE_URL": f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}",
           "CELERY_TASK_ALWAYS_EAGER": "false",
           "PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT),
           "EXPORT_RENDER_LEASE_SECONDS": str(settings.EXPORT_RENDER_LEASE_SECONDS)}
    log_path = tmp_path / "worker.log"
    log = log_path.open("w")
    process = subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "carecoord", "worker", "--pool", "prefork",
         "--concurrency", "1", "--without-heartbeat", "--without-gossip", "--without-mingle",
         "--loglevel", "INFO"], env=env, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 60
        while "ready." not in log_path.read_text():
            assert process.poll() is None, log_path.read_text()[-3000:]
            assert time.monotonic() < deadline, "the worker did not start"
            time.sleep(0.1)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def _children(pid: int) -> list[int]:
    with open(f"/proc/{pid}/task/{pid}/children") as children:
        return [int(child) for child in children.read().split()]


def test_a_worker_process_killed_mid_render_its_task_runs_again_once_and_completes(
        world, real_celery, settings, tmp_path):  # noqa: F811 - the fixture
    settings.EXPORT_RENDER_LEASE_SECONDS = 2
    # A long agreement, so that the render takes long enough to be killed in the middle.
    plan = make_plan(world, PlanKind.RESPONSIBILITY_AGREEMENT)
    for number in range(150):
        add_responsibility(plan, world.coordinator, title=f"Responsibility {number}")
    version = propose(plan, world.coordinator)

    with celery_worker_process(tmp_path, settings) as process:
        export = request(world.coordinator, version)
        deadline = time.monotonic() + 60
        while True:
            export.refresh_from_db()
            if export.status == Export.Status.RENDERING:
                break
            assert export.status == Export.Status.QUEUED, export.status
            assert time.monotonic() < deadline, "the worker did not start the render"
            time.sleep(0.02)
        # Killed as the kernel's out-of-memory killer would: no clean-up, no acknowledgement.
        (child,) = _children(process.pid)
        os.kill(child, 9)

        # acks_late and reject-on-worker-lost: the message goes back on the queue; the new
        # child finds the dead render's lease still running, looks again once it has run
        # out, and takes the render over.
        wait_for(export, Export.Status.READY, timeout=120)
        time.sleep(1)  # a second, duplicate run would show within this

    log = (tmp_path / "worker.log").read_text()
    assert "WorkerLostError" in log or "signal 9" in log, log[-3000:]
    export.refresh_from_db()
    assert export.attempts == 2  # the killed render, then the one that finished
    text = pdf_text(export)
    assert "Responsibility 0" in text
    assert "Responsibility 149" in text
    ready = Notification.objects.filter(user=world.coordinator, text__startswith="Your file")
    assert ready.count() == 1


def test_redis_stopped_under_the_kept_things_to_do_pages_and_writes_go_on(world, settings):
    settings.CACHES = {"default": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache",
        "LOCATION": f"redis://127.0.0.1:{os.environ['REDIS_TEST_PORT']}/3"}}
    plan = plan_with_content(world)
    client = client_for(world.service_user_account)

    def count() -> str:
        page = client.get("/").content.decode()
        return page.split("Things to do (", 1)[1].split(")", 1)[0]

    assert count() == "0"
    assert count() == "0"  # kept in Redis
    with redis_stopped():
        version = propose(plan, world.coordinator)  # the write does not fail
        assert count() == "1"  # worked out afresh
        assert count() == "1"
    # Started again (empty): kept again, and thrown away by the next write.
    assert count() == "1"
    sign(version, world.service_user_account)
    assert count() == "0"
