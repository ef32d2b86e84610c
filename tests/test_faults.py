"""Faults, against the real servers the test command starts: PostgreSQL restarted under the
running web app (the next requests succeed: CONN_HEALTH_CHECKS), and Redis stopped and
started again while an export and review reminders are pending (nothing lost, nothing sent
twice), and a Celery worker killed in the middle of making a PDF (another worker takes the
task over once its lease runs out, and it completes once). Two sweeps at once are in
tests/plans/test_reminders.py."""

from __future__ import annotations

import datetime as dt
import os
import shlex
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from django.core import mail
from django.db import close_old_connections, connection, connections, transaction

from carecoord.exports import services as exports
from carecoord.exports.models import Export
from carecoord.notifications.models import Notification
from plans.models import ReviewReminder
from plans.tasks import review_reminders_sweep
from tests import clock
from tests.plans.test_reminders import care_plan_due
from tests.test_celery_worker import (
    BROKER_URL,
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



def _test_database_url() -> str:
    db = connections["default"].settings_dict
    return f"postgres://{db['USER']}@{db['HOST']}:{db['PORT']}/{db['NAME']}"


def _celery_worker(tmp_path, name: str, settings) -> subprocess.Popen:
    """`celery worker` as production runs it (one process), on the test database and the
    test Redis, with a 2-second visibility timeout and render lease so the test is quick."""
    env = {**os.environ, "DATABASE_URL": _test_database_url(), "DB_CONN_MAX_AGE": "0",
           "CELERY_BROKER_URL": BROKER_URL, "CELERY_VISIBILITY_TIMEOUT": "2",
           "EXPORT_RENDER_LEASE_SECONDS": "2",
           "PRIVATE_FILES_ROOT": str(settings.PRIVATE_FILES_ROOT)}
    log = (tmp_path / f"{name}.log").open("w")
    return subprocess.Popen(
        [sys.executable, "-m", "celery", "-A", "carecoord", "worker", "--pool=solo",
         "--without-gossip", "--without-mingle", "--without-heartbeat", "-l", "info",
         "-n", f"{name}@%h"],
        env=env, stdout=log, stderr=subprocess.STDOUT)


def _wait_until(condition, what: str, timeout: float = 90) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, what
        time.sleep(0.2)


def test_a_worker_killed_while_making_a_pdf_another_takes_it_over_once(
        world, real_celery, tmp_path, settings):  # noqa: F811 - the fixture
    version, ids = shared_agreement(world)
    export = request(world.coordinator, version)  # queued in Redis: no worker yet

    # The render reads the plan version after marking the export as being made: with the
    # table locked, the first worker stops there, mid-task, until it is killed.
    locked, release, errors = threading.Event(), threading.Event(), []

    def hold_the_versions() -> None:
        try:
            with transaction.atomic(), connection.cursor() as cursor:
                cursor.execute("LOCK TABLE plans_planversion IN ACCESS EXCLUSIVE MODE")
                locked.set()
                release.wait(timeout=120)
        except BaseException as error:
            errors.append(error)
        finally:
            connection.close()

    holder = threading.Thread(target=hold_the_versions)
    holder.start()
    first = second = None
    try:
        assert locked.wait(timeout=30)
        first = _celery_worker(tmp_path, "first", settings)
        _wait_until(lambda: Export.objects.get(pk=export.pk).status
                    == Export.Status.RENDERING, "the first worker never started the render")
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=30)
        release.set()
        holder.join(timeout=30)

        second = _celery_worker(tmp_path, "second", settings)
        _wait_until(lambda: Export.objects.get(pk=export.pk).status == Export.Status.READY,
                    "the task was not taken over: "
                    + (tmp_path / "second.log").read_text()[-3000:])
    finally:
        release.set()
        holder.join(timeout=30)
        for worker_process in (first, second):
            if worker_process is not None and worker_process.poll() is None:
                worker_process.terminate()
                worker_process.wait(timeout=30)
    assert errors == []
    export.refresh_from_db()
    assert export.attempts == 2  # the killed render, then the one that finished
    text = " ".join(pdf_text(export).split())
    assert all(title in text for title in ids)
    ready = Notification.objects.filter(user=world.coordinator, text__startswith="Your file")
    assert ready.count() == 1
