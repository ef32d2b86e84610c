"""Writes to the access audit trail, and its verification."""

from __future__ import annotations

import datetime as dt
import heapq
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import models, transaction
from django.utils import timezone

from carecoord.audit import archive, partitions
from carecoord.audit.chain_fill import chain_fill
from carecoord.audit.models import GENESIS_HASH, AccessEvent, AuditArchive, AuditChainHead
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
            chain_fill(pending)
            head.last_seq, head.last_hash = seq, prev_hash
            head.save(update_fields=["last_seq", "last_hash"])
        chained += len(pending)
        if len(pending) < batch_size:
            return chained


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def _archived_runs() -> list[tuple[int, int, str, str, dt.date]]:
    """The stretches of the chain that are in archive files (AuditArchive.runs), in order:
    (first seq, last seq, hash before the first, hash of the last, month)."""
    return sorted((first, last, before, after, record.month)
                  for record in AuditArchive.objects.all()
                  for first, last, before, after in record.runs)


def audit_chain_verify() -> ChainBreak | None:
    """Walk the chain in order; return the first broken link, or None if it is whole.
    (Events not yet chained are counted by audit_chain_pending.)

    The months archived to files (archive_audit_month) are walked as the stretches of
    the chain their records describe: the chain starts from the archives' last hash and
    the events still in the database are re-hashed one by one. A month can leave a gap
    that a later month fills (an event chained late), so the stretches and the events
    are merged by `seq` rather than one put after the other."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    events = ((event.seq, event) for event in
              AccessEvent.objects.chained().order_by("seq").iterator(chunk_size=2000))
    runs = ((run[0], run) for run in _archived_runs())
    for seq, piece in heapq.merge(runs, events, key=lambda pair: pair[0]):
        if isinstance(piece, AccessEvent):
            last, before, after = seq, piece.prev_hash, piece.hash
            if seq != expected_seq:
                return ChainBreak(expected_seq, f"event #{expected_seq} is missing")
            if before != expected_prev:
                return ChainBreak(seq, "its link to the previous event does not match")
            if piece.compute_hash() != after:
                return ChainBreak(seq, "its content does not match its hash")
        else:
            _, last, before, after, month = piece
            if seq > expected_seq:
                return ChainBreak(expected_seq, f"event #{expected_seq} is missing")
            if seq < expected_seq:
                return ChainBreak(seq, f"it is in the archive of {month:%B %Y} and also "
                                       "elsewhere")
            if before != expected_prev:
                return ChainBreak(seq, f"the archive of {month:%B %Y} does not link to the "
                                       "event before it")
        expected_prev = after
        expected_seq = last + 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_seq != expected_seq - 1:
        return ChainBreak(expected_seq, "events at the end of the chain are missing")
    if head and head.last_hash != expected_prev:
        return ChainBreak(expected_seq - 1, "the last event does not match the chain head")
    return None


def audit_archive_latest() -> AuditArchive | None:
    """The newest month archived to a file, if any."""
    return AuditArchive.objects.order_by("-month").first()


def audit_online_from() -> dt.date | None:
    """The first month whose events are still in the database, when older months have
    been archived to files (None when nothing has been)."""
    latest = audit_archive_latest()
    return partitions.next_month(latest.month) if latest else None


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


# --- Archiving a month of the trail (ADR 0027) ----------------------------------------------

# However AUDIT_KEEP_MONTHS_ONLINE is set (an environment variable), at least this many full
# months stay in the database: archiving must not become a way to take recent events out
# of reach.
MINIMUM_MONTHS_ONLINE = 12


class ArchiveRefusedError(Exception):
    """A month may not be archived now; the message says why, in plain words."""


def _add_months(month: dt.date, count: int) -> dt.date:
    index = month.year * 12 + month.month - 1 + count
    return dt.date(index // 12, index % 12 + 1, 1)


def audit_newest_archivable_month(*, today: dt.date, keep: int) -> dt.date:
    """The newest month that has been over for `keep` full months on `today` (UTC)."""
    return _add_months(partitions.month_start(today), -keep - 1)


def _utc_midnight(day: dt.date) -> dt.datetime:
    return dt.datetime.combine(day, dt.time.min, tzinfo=dt.UTC)


@contextmanager
def _month_rows(month: dt.date) -> Iterator[Iterator[dict]]:
    """The month's events, every column, in chain order, through a server-side cursor
    that is closed here even when the reader stops early: left to the garbage collector,
    its CLOSE could come after the transaction rolled back, and fail there."""
    rows = (AccessEvent.objects
            .filter(occurred_at__gte=_utc_midnight(month),
                    occurred_at__lt=_utc_midnight(partitions.next_month(month)))
            .order_by("seq").values(*archive.COLUMNS).iterator(chunk_size=2000))
    try:
        yield rows
    finally:
        rows.close()


def _hash_at(seq: int) -> str | None:
    """The hash of event `seq`, in the database or at the end of an archived stretch."""
    if seq == 0:
        return GENESIS_HASH
    online = AccessEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if online is not None:
        return online
    return next((after for _first, last, _before, after, _month in _archived_runs()
                 if last == seq), None)


def _refuse_unless_archivable(month: dt.date) -> None:
    """The checks that need no lock: the database, the retention period, the setting."""
    if not partitions.is_partitioned():
        raise ArchiveRefusedError(
            "Archiving a month needs the audit trail's monthly partitions, which only "
            f"PostgreSQL has (this database: {partitions.database_vendor()}). Nothing was "
            "archived.")
    keep = settings.AUDIT_KEEP_MONTHS_ONLINE
    if keep < MINIMUM_MONTHS_ONLINE:
        raise ArchiveRefusedError(
            f"AUDIT_KEEP_MONTHS_ONLINE is {keep}: the audit trail keeps at least "
            f"{MINIMUM_MONTHS_ONLINE} full months online. Nothing was archived.")
    today = timezone.now().astimezone(dt.UTC).date()
    newest = audit_newest_archivable_month(today=today, keep=keep)
    if month > newest:
        raise ArchiveRefusedError(
            f"{month:%B %Y} cannot be archived yet: the audit trail keeps {keep} full "
            f"months online (AUDIT_KEEP_MONTHS_ONLINE), so the newest month that can be "
            f"archived today is {newest:%B %Y}.")


def _refuse_unless_next_in_line(month: dt.date) -> None:
    """Oldest first, whole, chained: the checks made with the month's partition held."""
    start, end = _utc_midnight(month), _utc_midnight(partitions.next_month(month))
    earlier = [m for m in partitions.attached_months() if m < month]
    first_event = (AccessEvent.objects.filter(occurred_at__lt=start)
                   .order_by("occurred_at").values_list("occurred_at", flat=True).first())
    if first_event is not None:
        earlier.append(partitions.month_start(first_event.astimezone(dt.UTC).date()))
    if earlier:
        raise ArchiveRefusedError(
            f"{min(earlier):%B %Y} is still in the database: archive the oldest month "
            f"first, one month at a time, so the chain's start only moves forward.")
    unchained = AccessEvent.objects.unchained().filter(occurred_at__lt=end).count()
    if unchained:
        raise ArchiveRefusedError(
            f"{unchained} access events of {month:%B %Y} or earlier are not in the hash "
            "chain yet. Wait for the chainer (it runs every few seconds), or run "
            "verify_audit_chain, which chains them, then try again.")


def _refuse_unless_linked(summary: dict, month: dt.date) -> None:
    """Each stretch of the month's chain starts from the hash of the event before it."""
    for first, _last, before, _after in summary["runs"]:
        if _hash_at(first - 1) != before:
            raise ArchiveRefusedError(
                f"Event #{first} of {month:%B %Y} does not link to the event before it. "
                "Run verify_audit_chain; nothing was archived.")


def audit_month_archive(*, month: dt.date, directory: Path, archived_by: str) -> AuditArchive:
    """Write one month of the access audit trail to an archive file in `directory`, check
    the file against the database, record the archive, and detach and drop the month's
    partition (PostgreSQL), in one transaction: if anything fails, the month stays in the
    database as it was and no archive file is left behind.

    Refused (ArchiveRefusedError, in plain words) for a month not yet over by
    AUDIT_KEEP_MONTHS_ONLINE full months, a month with an older month still in the
    database, a month with events not yet chained, and an archive file already there."""
    month = partitions.month_start(month)
    _refuse_unless_archivable(month)
    for name in (archive.events_file_name(month), archive.manifest_file_name(month)):
        if (directory / name).exists():
            raise ArchiveRefusedError(
                f"{directory / name} already exists: an archive file is never overwritten. "
                "Nothing was archived.")
    written: archive.WrittenArchive | None = None
    published: list[Path] = []
    try:
        with transaction.atomic():
            done = AuditArchive.objects.filter(month=month).first()
            if done is not None:
                raise ArchiveRefusedError(
                    f"{month:%B %Y} was archived on {done.archived_at:%d %B %Y} "
                    f"({done.file_name}).")
            if month not in partitions.attached_months():
                in_default = AccessEvent.objects.filter(
                    occurred_at__gte=_utc_midnight(month),
                    occurred_at__lt=_utc_midnight(partitions.next_month(month))).exists()
                raise ArchiveRefusedError(
                    f"The events of {month:%B %Y} are in the default partition (no partition "
                    "was made for that month in time), so they cannot be detached."
                    if in_default else
                    f"{month:%B %Y} has no partition in the database: nothing to archive.")
            partitions.partition_lock(month)
            _refuse_unless_next_in_line(month)
            archived_at = timezone.now()
            with _month_rows(month) as rows:
                written = archive.archive_write(month=month, rows=rows, directory=directory,
                                                archived_at=archived_at,
                                                archived_by=archived_by)
            manifest = written.manifest
            _refuse_unless_linked(manifest, month)
            # The file as it is on disk, re-read and re-hashed, against the rows read
            # again: only then is the month taken out of the database.
            with _month_rows(month) as rows:
                archive.archive_check_against(written, rows)
            record = AuditArchive.objects.create(
                month=month, rows=manifest["rows"], first_seq=manifest["first_seq"],
                last_seq=manifest["last_seq"], hash_before_first=manifest["hash_before_first"],
                last_hash=manifest["last_hash"], runs=manifest["runs"],
                file_name=manifest["file"], file_sha256=manifest["sha256"],
                archived_at=archived_at, archived_by=archived_by[:200])
            partitions.partition_detach_and_drop(month)
            # The archiving is itself in the trail, with the file's fingerprint, chained.
            access_event_record(actor=None, action="audit.archive",
                                target=f"audit_month:{month:%Y-%m} sha256:{manifest['sha256']}",
                                basis="older than the months kept online")
            published = archive.archive_publish(written)
    except BaseException as error:
        # The transaction rolled back: no file may claim the month was archived.
        for path in published:
            path.unlink(missing_ok=True)
        if isinstance(error, archive.ArchiveFileError):
            raise ArchiveRefusedError(str(error)) from None
        if isinstance(error, OSError):  # a full disk, a directory we may not write to
            raise ArchiveRefusedError(f"The archive could not be written ({error}). The "
                                      "month is still in the database; nothing was "
                                      "archived.") from None
        raise
    finally:
        if written is not None:
            archive.archive_discard_temporary(written)
    return record
