"""Background exports: request, render (in a Celery task), serve, retry and clean up.

Renderers register per kind (plans registers "plan_version", reports "report"); each
renders what the *requesting* person may see, asking the access policy itself. A request
only records the export and enqueues it after the transaction commits: nothing is
rendered while the person waits (ADR 0021), not even with no broker, when a background
thread of the process is the worker (ADR 0028). If the broker is down, the export stays
queued and the periodic requeue sends it once the broker is back: no request is lost.

A renderer may reuse a file made before (`export_content_reused`) under a key that
stands for *exactly* the content the file holds, so two people get the same stored file
only when they would have got the same file anyway.
"""

from __future__ import annotations

import datetime as dt
import logging
import os
import re
import threading
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import connections, transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.exports.models import Export
from carecoord.notifications.services import notification_send
from carecoord.records.models import User
from carecoord.web.site_url import current_site_url, site_url_used

logger = logging.getLogger(__name__)

Renderer = Callable[[Export], bytes]
RENDERERS: dict[str, Renderer] = {}


def export_renderer(kind: str) -> Callable[[Renderer], Renderer]:
    """Register the function that renders one kind of export, as its requester may see
    it. It may record in `export.params` what the file holds, which the download rule
    (`consent.policy.can_download_export`) checks."""

    def register(function: Renderer) -> Renderer:
        RENDERERS[kind] = function
        return function

    return register


def exports_dir() -> Path:
    path = Path(settings.PRIVATE_FILES_ROOT) / "exports"
    path.mkdir(parents=True, exist_ok=True)
    return path


RENDER_TASK = "carecoord.exports.tasks.export_render_task"


def _enqueue(export_id: int, site_url: str | None = None) -> None:
    # Found by name: the task module calls these services, so importing it here would
    # make a cycle. CarecoordConfig.ready imports it in every process. The address the
    # person reached goes with it, for the link in the "your file is ready" email.
    task = current_app.tasks[RENDER_TASK]
    if current_app.conf.task_always_eager:
        _render_without_broker(task, export_id, site_url)
        return
    try:
        task.delay(export_id, site_url=site_url)
    except Exception:  # the broker is unreachable: the requeue sweep sends it later
        logger.warning("Could not queue export %s; it stays queued for the next sweep.",
                       export_id, exc_info=True)


# With no broker (plain `runserver`, tasks eager) there is no worker to send the render
# to, and running the task where it is sent would make the PDF inside the person's
# request: the answer would wait seconds for it. One background thread of this process
# is the worker instead (ADR 0028); one at a time, so a burst of requests does not take
# every CPU from the pages being served.
_no_broker_worker: ThreadPoolExecutor | None = None
_no_broker_worker_lock = threading.Lock()


def _render_here(task, export_id: int, site_url: str | None) -> None:
    try:
        task.apply(args=(export_id,), kwargs={"site_url": site_url})
    except Exception:  # recorded on the export (failed, with its reason) by the render
        logger.exception("Export %s: the in-process render failed", export_id)


def _render_in_background(task, export_id: int, site_url: str | None) -> None:
    try:
        _render_here(task, export_id, site_url)
    finally:
        connections.close_all()  # this thread's own connections, not the requests'


def _render_without_broker(task, export_id: int, site_url: str | None) -> Future | None:
    global _no_broker_worker
    if transaction.get_connection().in_atomic_block:
        # Still inside a transaction (on-commit callbacks only run here when a test runs
        # them inside its own): the export is not committed, so no other connection,
        # the background thread's included, could see it. Render on this one.
        _render_here(task, export_id, site_url)
        return None
    with _no_broker_worker_lock:
        if _no_broker_worker is None:
            _no_broker_worker = ThreadPoolExecutor(max_workers=1,
                                                   thread_name_prefix="export-render")
    return _no_broker_worker.submit(_render_in_background, task, export_id, site_url)


def exports_background_wait(timeout: float | None = None) -> None:
    """Wait until the in-process worker (no broker) has made everything sent to it so
    far: for the benchmark and the tests."""
    if _no_broker_worker is not None:
        _no_broker_worker.submit(lambda: None).result(timeout=timeout)


@transaction.atomic
def export_request(*, requested_by: User, kind: str, params: dict, title: str) -> Export:
    """Record the export and queue it: never rendered here, in the person's request."""
    export = Export.objects.create(kind=kind, params=params, requested_by=requested_by,
                                   title=title)
    site_url = current_site_url()
    transaction.on_commit(lambda: _enqueue(export.pk, site_url))
    return export


@transaction.atomic
def export_retry(*, export: Export) -> Export:
    export = Export.objects.select_for_update(no_key=True).get(pk=export.pk)
    if export.status == Export.Status.FAILED:
        export.status, export.error = Export.Status.QUEUED, ""
        export.save(update_fields=["status", "error"])
        site_url = current_site_url()
        transaction.on_commit(lambda: _enqueue(export.pk, site_url))
    return export


def export_render(*, export_id: int, site_url: str | None = None) -> Export:
    """Render once. Idempotent: a ready export is left alone, so a task delivered twice
    (acks_late after a worker crash) does no harm. `site_url`: the address the request
    reached, for the notification's email link."""
    with site_url_used(site_url):
        return _export_render(export_id)


class ExportBusyError(Exception):
    """The export is being rendered by another worker, whose lease has not run out."""

    def __init__(self, *, retry_in: float) -> None:
        super().__init__(f"being rendered elsewhere; look again in {retry_in:.0f} s")
        self.retry_in = retry_in


def render_lease() -> dt.timedelta:
    """How long a render may take before another worker may take it over (its worker is
    presumed dead: killed, out of memory, its machine gone)."""
    return dt.timedelta(seconds=settings.EXPORT_RENDER_LEASE_SECONDS)


def _export_render(export_id: int) -> Export:
    with transaction.atomic():
        export = (Export.objects.select_for_update(no_key=True, skip_locked=True)
                  .filter(pk=export_id).first())
        if export is None or export.status == Export.Status.READY:
            # Ready, or another worker is starting this very render (it holds the row).
            return export or Export.objects.get(pk=export_id)
        if export.status == Export.Status.RENDERING:
            lease_ends = export.started_at + render_lease()
            if lease_ends > timezone.now():
                # Another worker is rendering it, or died doing so: look again once the
                # lease is over, and take it over then if it is still not done.
                raise ExportBusyError(
                    retry_in=(lease_ends - timezone.now()).total_seconds() + 1)
            logger.warning("Export %s: the render started at %s never finished; "
                           "taking it over.", export.pk, export.started_at)
        export.status = Export.Status.RENDERING
        export.started_at = timezone.now()
        export.attempts += 1
        export.save(update_fields=["status", "started_at", "attempts"])
    try:
        content = RENDERERS[export.kind](export)
        Export.objects.filter(pk=export.pk).update(params=export.params)
    except Exception as error:
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.FAILED, error=str(error)[:2000], finished_at=timezone.now())
        logger.exception("Export %s failed", export.pk)
        raise
    file_name = f"{uuid.uuid4().hex}.pdf"
    (exports_dir() / file_name).write_bytes(content)
    with transaction.atomic():
        Export.objects.filter(pk=export.pk).update(
            status=Export.Status.READY, file_name=file_name, finished_at=timezone.now())
        notification_send(user=export.requested_by,
                          text=f"Your file is ready: {export.title}.",
                          url_name="export_list")
    export.refresh_from_db()
    return export


def exports_requeue(*, older_than: dt.timedelta = dt.timedelta(minutes=1)) -> int:
    """Send again every export still queued after a while (its first send failed, or
    its task was lost): once the broker is back, nothing requested is lost. A render
    that died half-way is retried too."""
    now = timezone.now()
    stale = list(
        Export.objects.filter(status=Export.Status.QUEUED, created_at__lt=now - older_than)
        .values_list("pk", flat=True)
    ) + list(
        Export.objects.filter(status=Export.Status.RENDERING,
                              started_at__lt=now - render_lease())
        .values_list("pk", flat=True)
    )
    Export.objects.filter(pk__in=stale, status=Export.Status.RENDERING).update(
        status=Export.Status.QUEUED)
    for export_id in stale:
        _enqueue(export_id)
    return len(stale)


def exports_remove_old(*, days: int | None = None) -> int:
    """Delete exports (files and rows) older than EXPORT_KEEP_DAYS, and reusable files
    nobody has been given for that long."""
    cutoff = timezone.now() - dt.timedelta(days=days or settings.EXPORT_KEEP_DAYS)
    old = Export.objects.filter(created_at__lt=cutoff)
    for file_name in old.exclude(file_name="").values_list("file_name", flat=True):
        (exports_dir() / file_name).unlink(missing_ok=True)
    count, _ = old.delete()
    for path in _reuse_dir().glob("*.pdf"):
        if dt.datetime.fromtimestamp(path.stat().st_mtime, tz=dt.UTC) < cutoff:
            path.unlink(missing_ok=True)
    return count


# --- Files made once and reused ------------------------------------------------------------

_REUSE_KEY = re.compile(r"[0-9a-f]{64}")


def _reuse_dir() -> Path:
    path = exports_dir() / "reuse"
    path.mkdir(parents=True, exist_ok=True)
    return path


def export_content_reused(*, key: str, render: Callable[[], bytes]) -> bytes:
    """The file stored under `key`, made by `render` the first time and kept.

    `key` (64 hex digits: a SHA-256) must stand for everything the file holds, so that
    whoever shares a key would have been given the same file anyway: a plan version's
    PDF is keyed by the hash of the very page it is printed from (ADR 0021). Each
    export still gets its own copy, deleted with it; the stored file goes once nobody
    has been given it for EXPORT_KEEP_DAYS."""
    if not _REUSE_KEY.fullmatch(key):
        raise ValueError("A reuse key is a SHA-256 in hex.")
    path = _reuse_dir() / f"{key}.pdf"
    try:
        content = path.read_bytes()
    except FileNotFoundError:
        content = render()
        # Written whole, then renamed: a reader never sees half a file, and two workers
        # making the same file at once both leave a complete one.
        partial = path.with_name(f"{key}.{uuid.uuid4().hex}.part")
        partial.write_bytes(content)
        os.replace(partial, path)
    else:
        path.touch()  # given out again: kept for another EXPORT_KEEP_DAYS
    return content


def export_file_opened(*, export: Export, viewer: User) -> Path:
    """The file of a ready export the policy has let `viewer` open; audited."""
    access_event_record(actor=viewer, service_user=None, action="export.download",
                        target=f"export:{export.pk}", basis="requested it")
    return exports_dir() / export.file_name
