"""Celery tasks for exports: ids in, one service call, retries only."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from carecoord.exports import services as exports


@shared_task(name=exports.RENDER_TASK, bind=True, acks_late=True,
             autoretry_for=(OperationalError,), retry_backoff=True, max_retries=5)
def export_render_task(self, export_id: int, site_url: str | None = None) -> str:
    try:
        return exports.export_render(export_id=export_id, site_url=site_url).status
    except exports.ExportBusyError as busy:
        if self.request.is_eager:
            return "busy"  # in-process: the other render is this process's own
        raise self.retry(exc=busy, countdown=busy.retry_in, max_retries=20) from busy


@shared_task(acks_late=True)
def exports_requeue_task() -> int:
    return exports.exports_requeue()


@shared_task(acks_late=True)
def exports_cleanup_task() -> int:
    return exports.exports_remove_old()
