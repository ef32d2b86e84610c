"""Writes to the access audit trail, and its verification."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.db import models, transaction
from django.utils import timezone

from carecoord.audit.models import GENESIS_HASH, AccessEvent, AuditChainHead
from carecoord.audit.request_context import current_api_token, current_ip_address

if TYPE_CHECKING:
    from carecoord.records.models import ServiceUser, User


def access_event_record(
    *,
    actor: User | None,
    action: str,
    target: str,
    basis: str,
    service_user: ServiceUser | None = None,
    ip_address: str | None = None,
) -> AccessEvent:
    """Append one event to the hash chain."""
    (event,) = access_events_record(
        actor=actor, action=action, service_user=service_user, ip_address=ip_address,
        targets=[(target, basis)],
    )
    return event


@transaction.atomic
def access_events_record(
    *,
    actor: User | None,
    action: str,
    targets: list[tuple[str, str]],
    service_user: ServiceUser | None = None,
    ip_address: str | None = None,
) -> list[AccessEvent]:
    """Append one event per (target, basis) to the hash chain, in three queries however
    many there are (a carer's page reads many items at once). The chain head row is
    locked so that concurrent writers on several machines queue up rather than fork."""
    if not targets:
        return []
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    occurred_at = timezone.now()
    ip_address = ip_address if ip_address is not None else current_ip_address.get()
    events, seq, prev_hash = [], head.last_seq, head.last_hash
    # A read made with a personal API token says so, with the token's name.
    via_token = current_api_token.get()
    for target, basis in targets:
        seq += 1
        basis = str(basis)
        if via_token and via_token not in basis:
            basis = f"{basis}; via {via_token}"[:200]
        event = AccessEvent(
            seq=seq, occurred_at=occurred_at, actor=actor, service_user=service_user,
            action=action, target=target, basis=str(basis), ip_address=ip_address,
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = event.compute_hash()
        events.append(event)
    # The model's manager refuses bulk writes to everyone else; this is the audit service.
    models.QuerySet.bulk_create(AccessEvent.objects.all(), events)
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return events


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_chain_verify() -> ChainBreak | None:
    """Walk the chain in order; return the first broken link, or None if it is whole."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in AccessEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainBreak(expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, "its link to the previous event does not match")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.seq, "its content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_seq != expected_seq - 1:
        return ChainBreak(expected_seq, "events at the end of the chain are missing")
    if head and head.last_hash != expected_prev:
        return ChainBreak(expected_seq - 1, "the last event does not match the chain head")
    return None


@transaction.atomic
def access_events_append_history(
    *,
    events: Iterable[tuple[dt.datetime, int | None, int | None, str, str, str]],
    batch_size: int = 5000,
) -> int:
    """Append already-happened events — (occurred_at, actor_id, service_user_id, action,
    target, basis) each, oldest first — to the hash chain, in batches: the same links and
    hashes as `access_events_record`, a few queries per `batch_size` events. For loading
    history in bulk (the scale data, `generate_scale_data`); a request records its own
    events with `access_events_record`. Returns how many were appended."""
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    seq, prev_hash = head.last_seq, head.last_hash
    batch: list[AccessEvent] = []
    written = 0
    for occurred_at, actor_id, service_user_id, action, target, basis in events:
        seq += 1
        event = AccessEvent(
            seq=seq, occurred_at=occurred_at, actor_id=actor_id,
            service_user_id=service_user_id, action=action, target=target, basis=basis,
            ip_address=None, prev_hash=prev_hash,
        )
        event.hash = prev_hash = event.compute_hash()
        batch.append(event)
        if len(batch) >= batch_size:
            models.QuerySet.bulk_create(AccessEvent.objects.all(), batch)
            written += len(batch)
            batch = []
    if batch:
        models.QuerySet.bulk_create(AccessEvent.objects.all(), batch)
        written += len(batch)
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return written
