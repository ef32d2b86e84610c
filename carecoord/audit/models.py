"""The access audit trail: events that can only be added, each hashed onto the one before."""

from __future__ import annotations

import datetime as dt
import hashlib
import json

from django.db import models

from carecoord.scoping import ScopedManager


class AppendOnlyError(Exception):
    """Raised on any attempt to change or delete an access event."""


class AccessEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("Access events cannot be changed.")

    def delete(self):
        raise AppendOnlyError("Access events cannot be deleted.")

    def bulk_update(self, *args, **kwargs):
        raise AppendOnlyError("Access events cannot be changed.")

    def bulk_create(self, *args, **kwargs):
        # Every event must join the hash chain one at a time (access_event_record).
        raise AppendOnlyError("Access events are written one at a time through the audit service.")


GENESIS_HASH = "0" * 64


class AccessEvent(models.Model):
    """Who looked at whose record, when, what, on which basis and from where.

    Append-only and hash-chained: `hash` is SHA-256 of the previous event's hash followed
    by this event's canonical content, so any change to a past event breaks the chain.
    """

    seq = models.BigIntegerField(unique=True, editable=False)
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
    prev_hash = models.CharField(max_length=64, editable=False)
    hash = models.CharField(max_length=64, editable=False)

    objects = ScopedManager.from_queryset(AccessEventQuerySet)()

    class Meta:
        ordering = ["seq"]
        indexes = [
            models.Index(fields=["service_user", "occurred_at"]),
            models.Index(fields=["actor", "occurred_at"]),
        ]

    def __str__(self) -> str:
        return f"#{self.seq} {self.action} by {self.actor_id}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("Access events cannot be changed.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("Access events cannot be deleted.")

    def canonical_content(self) -> str:
        occurred = self.occurred_at.astimezone(dt.UTC).isoformat()
        return json.dumps(
            {
                "seq": self.seq,
                "occurred_at": occurred,
                "actor": self.actor_id,
                "service_user": self.service_user_id,
                "action": self.action,
                "target": self.target,
                "basis": self.basis,
                "ip": self.ip_address,
            },
            sort_keys=True,
            separators=(",", ":"),
        )

    def compute_hash(self) -> str:
        return hashlib.sha256((self.prev_hash + self.canonical_content()).encode()).hexdigest()


class AuditChainHead(models.Model):
    """The chain's last link. Locked (SELECT … FOR UPDATE) while an event is appended, so
    concurrent writers on several machines still produce one unbroken chain."""

    last_seq = models.BigIntegerField(default=0)
    last_hash = models.CharField(max_length=64, default=GENESIS_HASH)

    def __str__(self) -> str:
        return f"audit chain head at #{self.last_seq}"
