"""Background exports: request, render (in a Celery task), serve, retry and clean up.

Renderers register per kind (plans registers "plan_version", reports "report"); each
renders what the *requesting* person may see, asking the access policy itself. Work is
enqueued after the transaction commits. If the broker is down, the export stays queued
and the periodic requeue sends it once the broker is back: no request is lost.
"""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable
from pathlib import Path

from celery import current_app
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.exports.models import Export
from carecoord.notifications.services import notification_send
from carecoord.records.models import User

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


def _enqueue(export_id: int) -> None:
    # Found by name: the task module calls these services, so importing it here would
    # make a cycle. CarecoordConfig.ready imports it in every process.
    try:
        current_app.tasks[RENDER_TASK].delay(export_id)
    except Exception:  # the broker is unreachable: the requeue sweep sends it later
        logger.warning("Could not queue export %s; it stays queued for the next sweep.",
                       export_id, exc_info=True)


@transaction.atomic
def export_request(*, requested_by: User, kind: str, params: dict, title: str) -> Export:
    export = Export.objects.create(kind=kind, params=params, requested_by=requested_by,
                                   title=title)
    transaction.on_commit(lambda: _enqueue(export.pk))
    return export


@transaction.atomic
def export_retry(*, export: Export) -> Export:
    export = Export.objects.select_for_update(no_key=True).get(pk=export.pk)
    if export.status == Export.Status.FAILED:
        export.status, export.error = Export.Status.QUEUED, ""
        export.save(update_fields=["status", "error"])
        transaction.on_commit(lambda: _enqueue(export.pk))
    return export


def export_render(*, export_id: int) -> Export:
    """Render once. Idempotent: a ready export is left alone, so a task delivered twice
    (acks_late after a worker crash) does no harm."""
    with transaction.atomic():
        export = (Export.objects.select_for_update(no_key=True, skip_locked=True)
                  .filter(pk=export_id).first())
        if export is None or export.status in (Export.Status.READY, Export.Status.RENDERING):
            return export or Export.objects.get(pk=export_id)
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
                              started_at__lt=now - dt.timedelta(minutes=15))
        .values_list("pk", flat=True)
    )
    Export.objects.filter(pk__in=stale, status=Export.Status.RENDERING).update(
        status=Export.Status.QUEUED)
    for export_id in stale:
        _enqueue(export_id)
    return len(stale)


def exports_remove_old(*, days: int | None = None) -> int:
    """Delete exports (files and rows) older than EXPORT_KEEP_DAYS."""
    cutoff = timezone.now() - dt.timedelta(days=days or settings.EXPORT_KEEP_DAYS)
    old = Export.objects.filter(created_at__lt=cutoff)
    for file_name in old.exclude(file_name="").values_list("file_name", flat=True):
        (exports_dir() / file_name).unlink(missing_ok=True)
    count, _ = old.delete()
    return count


def export_file_opened(*, export: Export, viewer: User) -> Path:
    """The file of a ready export the policy has let `viewer` open; audited."""
    access_event_record(actor=viewer, service_user=None, action="export.download",
                        target=f"export:{export.pk}", basis="requested it")
    return exports_dir() / export.file_name
