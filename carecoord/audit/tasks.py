"""The chainer, run every few seconds by Celery beat (ADR 0026), and the daily job that
makes the audit trail's coming monthly partitions (ADR 0027)."""

from __future__ import annotations

from celery import shared_task

from carecoord.audit.partitions import audit_partitions_ensure
from carecoord.audit.services import audit_chain_extend


@shared_task(acks_late=True, ignore_result=True)
def audit_chain_extend_task() -> int:
    # Safe to run twice at once: a second chainer finds the head locked and returns.
    return audit_chain_extend()


@shared_task(acks_late=True, ignore_result=True)
def audit_partitions_ensure_task() -> list[str]:
    return audit_partitions_ensure()
