"""The access audit trail: events that can only be added, each hashed onto the one before.

Appending an event is a plain INSERT: no reader waits for another. A periodic job
(`audit_chain_extend`) then gives the new events their place in the chain, in batches,
under the chain-head lock that only it takes (ADR 0026)."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import models

from carecoord.scoping import ScopedManager


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an append-only record (the trail's
    events, its archive records)."""


class AppendOnlyQuerySet(models.QuerySet):
    """Rows written once: the ORM refuses to change or delete them in bulk (and on
    PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE). `noun` names them."""

    noun = "Records"

    def update(self, **kwargs):
        raise AppendOnlyError(f"{self.noun} cannot be changed.")

    def delete(self):
        raise AppendOnlyError(f"{self.noun} cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError(f"{self.noun} cannot be changed.")


class AppendOnlyModel:
    """The same for one row: saved once, never again, never deleted. Mixed into a model
    whose `objects` is made from an AppendOnlyQuerySet (its `noun` words the refusal)."""

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError(f"{self._append_only_noun()} cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError(f"{self._append_only_noun()} cannot be deleted.")

    @classmethod
    def _append_only_noun(cls) -> str:
        return cls._default_manager.none().noun


class AccessEventQuerySet(AppendOnlyQuerySet):
    noun = "Access events"

    def bulk_create(self, *args, **kwargs):
        # Events are written only by the audit service (access_events_record), which
        # leaves chaining to audit_chain_extend.
        raise AppendOnlyError("Access events are written only through the audit service.")

    def chained(self) -> AccessEventQuerySet:
        return self.filter(seq__isnull=False)

    def unchained(self) -> AccessEventQuerySet:
        return self.filter(seq__isnull=True)


GENESIS_HASH = "0" * 64


class AccessEvent(AppendOnlyModel, models.Model):
    """Who looked at whose record, when, what, on which basis and from where.

    One event per page view or API call: when a page shows several things, `items` lists
    each of them with the basis it was shown on, and `target` says how many.

    Append-only and hash-chained: once chained, `hash` is SHA-256 of the previous event's
    hash followed by this event's canonical content, so any change to a past event breaks
    the chain. `seq`, `prev_hash` and `hash` are empty until the chainer reaches the event
    (seconds later); PostgreSQL lets them be filled in once and refuses any other change.
    """

    # Unique by construction: only the chainer assigns it, under the chain-head lock, and
    # verify_audit_chain checks the numbers run 1, 2, 3, … PostgreSQL cannot enforce a
    # unique index across monthly partitions without the month in it (ADR 0027).
    seq = models.BigIntegerField(null=True, db_index=True, editable=False)
    occurred_at = models.DateTimeField(editable=False)
    actor = models.ForeignKey(
        "carecoord.User", null=True, on_delete=models.PROTECT, related_name="access_events"
    )
    service_user = models.ForeignKey(
        "carecoord.ServiceUser", null=True, on_delete=models.PROTECT,
        related_name="access_events"
    )
    action = models.CharField(max_length=100)
    target = models.CharField(max_length=200, help_text="What was opened, e.g. service_user:12.")
    basis = models.CharField(max_length=200, help_text="Why the policy allowed it.")
    ip_address = models.GenericIPAddressField(null=True)
    items = models.JSONField(
        default=list, blank=True, editable=False,
        help_text="For a page that showed several things: [target, basis] for each.")
    prev_hash = models.CharField(max_length=64, blank=True, default="", editable=False)
    hash = models.CharField(max_length=64, blank=True, default="", editable=False)

    objects = ScopedManager.from_queryset(AccessEventQuerySet)()

    class Meta:
        ordering = ["occurred_at", "id"]
        indexes = [
            models.Index(fields=["service_user", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
            # Reports walk the trail newest first and page by (occurred_at, id): the id
            # breaks ties, so the index gives the order and the page boundary (ADR 0027).
            models.Index(fields=["occurred_at", "id"], name="accessevent_occurred_at_id"),
            # The chainer's work list: small, because events are chained within seconds.
            models.Index(fields=["id"], condition=models.Q(seq__isnull=True),
                         name="accessevent_unchained"),
        ]

    def __str__(self) -> str:
        return f"#{self.seq or '(not yet chained)'} {self.action} by {self.actor_id}"

    def shown_targets(self) -> list[str]:
        """Every thing this page view showed, e.g. ["plan_item:12", "plan_item:14"]."""
        return [target for target, _ in self.items] if self.items else [self.target]

    def canonical_content(self) -> str:
        occurred = self.occurred_at.astimezone(dt.UTC).isoformat()
        content = {
            "seq": self.seq,
            "occurred_at": occurred,
            "actor": self.actor_id,
            "service_user": self.service_user_id,
            "action": self.action,
            "target": self.target,
            "basis": self.basis,
            "ip": self.ip_address,
        }
        # Only when present, so that events written before `items` existed keep their hash.
        if self.items:
            content["items"] = [list(pair) for pair in self.items]
        return json.dumps(content, sort_keys=True, separators=(",", ":"))

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical_content()).encode()).hexdigest()


class AuditChainHead(models.Model):
    """The chain's last link. Only the chainer locks it (SELECT … FOR UPDATE SKIP LOCKED),
    so two chainers on several machines never fork the chain and readers never wait."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head at #{self.last_seq}"


class AuditArchiveQuerySet(AppendOnlyQuerySet):
    noun = "Audit archive records"


class AuditArchive(AppendOnlyModel, models.Model):
    """One month of the access audit trail, written to a file and taken out of the
    database (`archive_audit_month`, ADR 0027). What the chain needs to carry on without
    the month's rows: where its events sat in the chain and their hashes at each edge.

    `runs` lists each stretch of consecutive `seq` numbers in the month as [first seq,
    last seq, hash before the first, hash of the last]: usually one, but an event whose
    transaction committed late may be chained after the next month's first events, so a
    month can have a gap that a later month fills (ADR 0026). Append-only, like the trail
    (on PostgreSQL a trigger refuses UPDATE, DELETE and TRUNCATE)."""

    month = models.DateField(unique=True, help_text="The first day of the month (UTC).")
    rows = models.BigIntegerField()
    first_seq = models.BigIntegerField(null=True)
    last_seq = models.BigIntegerField(null=True)
    hash_before_first = models.CharField(max_length=64, blank=True, default="")
    last_hash = models.CharField(max_length=64, blank=True, default="")
    runs = models.JSONField(default=list, blank=True)
    file_name = models.CharField(max_length=200)
    file_sha256 = models.CharField(max_length=64)
    archived_at = models.DateTimeField()
    archived_by = models.CharField(max_length=200)

    objects = AuditArchiveQuerySet.as_manager()

    class Meta:
        ordering = ["month"]

    def __str__(self) -> str:
        return f"audit archive of {self.month:%Y-%m} ({self.rows} events)"
