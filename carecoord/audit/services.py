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
    """Append one event to the audit trail."""
    event = access_events_record(
        actor=actor, action=action, service_user=service_user, ip_address=ip_address,
        targets=[(target, basis)],
    )
    assert event is not None  # one target always makes one event
    return event


# What `target` says for an event that lists several things, e.g. "plan_item: 25 items".
MANY_TARGETS = "{kind}: {count} items"
MIXED_BASES = "several (see each item)"


def access_events_record(
    *,
    actor: User | None,
    action: str,
    targets: list[tuple[str, str]],
    service_user: ServiceUser | None = None,
    ip_address: str | None = None,
) -> AccessEvent | None:
    """Append ONE event for one page view or API call that showed `targets` (each a
    (target, basis) pair), or nothing when it showed nothing.

    A single INSERT with no lock: the chainer (audit_chain_extend) gives it its place in
    the hash chain shortly afterwards, so readers across the trust never queue behind one
    another (ADR 0026)."""
    if not targets:
        return None
    ip_address = ip_address if ip_address is not None else current_ip_address.get()
    # A read made with a personal API token says so, with the token's name.
    via_token = current_api_token.get()
    pairs = []
    for target, basis in targets:
        basis = str(basis)
        if via_token and via_token not in basis:
            basis = f"{basis}; via {via_token}"[:200]
        pairs.append((str(target), basis))
    if len(pairs) == 1:
        (target, basis), items = pairs[0], []
    else:
        kinds = sorted({target.split(":", 1)[0] for target, _ in pairs})
        target = MANY_TARGETS.format(kind=", ".join(kinds), count=len(pairs))[:200]
        bases = {basis for _, basis in pairs}
        # "shared with them by the service user (consent decision 4)", "(… 5)": the same
        # reason, told apart by the decision each item names (kept in `items`).
        reasons = {basis.split(" (", 1)[0] for basis in bases}
        basis = (bases.pop() if len(bases) == 1
                 else reasons.pop() if len(reasons) == 1 else MIXED_BASES)
        items = [[t, b] for t, b in pairs]
    event = AccessEvent(
        occurred_at=timezone.now(), actor=actor, service_user=service_user, action=action,
        target=target, basis=basis, ip_address=ip_address, items=items,
    )
    event.save(force_insert=True)
    return event


CHAIN_BATCH_SIZE = 5000


def _chain_head_or_none() -> AuditChainHead | None:
    """The chain head, locked for this transaction; None when another chainer has it."""
    locked = AuditChainHead.objects.select_for_update(skip_locked=True).filter(pk=1)
    head = locked.first()
    if head is None and not AuditChainHead.objects.filter(pk=1).exists():
        # First run on an empty database (the migration makes the row; a flush removes
        # it). Two first chainers may both get here: only one of them then gets the lock.
        AuditChainHead.objects.get_or_create(
            pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH})
        head = locked.first()
    return head


def audit_chain_extend(*, batch_size: int = CHAIN_BATCH_SIZE) -> int:
    """Give every event appended since the last run its place in the hash chain, in the
    order they were written (id), a batch per transaction. Returns how many were chained.

    Only the chainer locks the chain head, with SKIP LOCKED: when another chainer is at
    work this one returns at once, and nobody else ever waits on the lock."""
    chained = 0
    while True:
        with transaction.atomic():
            head = _chain_head_or_none()
            if head is None:
                return chained  # another chainer holds the head
            pending = list(AccessEvent.objects.unchained().order_by("id")[:batch_size])
            if not pending:
                return chained
            seq, prev_hash = head.last_seq, head.last_hash
            for event in pending:
                seq += 1
                event.seq, event.prev_hash = seq, prev_hash
                event.hash = prev_hash = event.compute_hash()
            # The model's queryset refuses updates to everyone else; this is the chainer,
            # and PostgreSQL lets these three columns be filled in once (migration 0013).
            models.QuerySet.bulk_update(
                models.QuerySet(model=AccessEvent), pending, ["seq", "prev_hash", "hash"],
                batch_size=1000)
            head.last_seq, head.last_hash = seq, prev_hash
            head.save(update_fields=["last_seq", "last_hash"])
        chained += len(pending)
        if len(pending) < batch_size:
            return chained


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_chain_verify() -> ChainBreak | None:
    """Walk the chained events in order; return the first broken link, or None if the
    chain is whole. (Events not yet chained are counted by audit_chain_pending.)"""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in AccessEvent.objects.chained().order_by("seq").iterator(chunk_size=2000):
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


def audit_chain_pending() -> int:
    """How many events are waiting for the chainer."""
    return AccessEvent.objects.unchained().count()


@transaction.atomic
def access_events_append_history(
    *,
    events: Iterable[tuple[dt.datetime, int | None, int | None, str, str, str]],
    batch_size: int = 5000,
) -> int:
    """Append already-happened events — (occurred_at, actor_id, service_user_id, action,
    target, basis) each, oldest first — to the hash chain, in batches: the same links and
    hashes the chainer (`audit_chain_extend`) gives, computed as they are inserted (a
    bulk UPDATE of millions of rows afterwards would be far slower), under the chain-head
    lock like the chainer, a few queries per `batch_size` events. For loading
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
