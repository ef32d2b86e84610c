"""Celery tasks for plans: thin wrappers that call one service."""

from __future__ import annotations

from celery import shared_task
from django.db import OperationalError

from plans.reminders import review_reminders_send


@shared_task(bind=True, acks_late=True, autoretry_for=(OperationalError,), retry_backoff=True,
             max_retries=5)
def review_reminders_sweep(self) -> dict:
    result = review_reminders_send()
    return {"sent": result.sent, "already_sent": result.already_sent,
            "failed": list(result.failed)}
