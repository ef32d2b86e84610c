"""Exported files and their state."""

from __future__ import annotations

from django.db import models

from carecoord.scoping import ScopedManager


class Export(models.Model):
    """A file made in the background (a plan PDF, a manager's report) for one person.
    Stored privately and served only through a view that asks the access policy."""

    class Kind(models.TextChoices):
        PLAN_VERSION = "plan_version", "Plan (PDF)"
        REPORT = "report", "Report (PDF)"

    class Status(models.TextChoices):
        QUEUED = "queued", "Queued"
        RENDERING = "rendering", "Being made"
        READY = "ready", "Ready"
        FAILED = "failed", "Failed"

    kind = models.CharField(max_length=20, choices=Kind.choices)
    params = models.JSONField(default=dict)
    requested_by = models.ForeignKey("carecoord.User", on_delete=models.CASCADE,
                                     related_name="exports")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.QUEUED)
    title = models.CharField(max_length=200)
    file_name = models.CharField(max_length=200, blank=True)
    error = models.TextField(blank=True)
    attempts = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(auto_now_add=True)
    started_at = models.DateTimeField(null=True, blank=True)
    finished_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["status", "created_at"]),
                   models.Index(fields=["requested_by", "created_at"])]

    def __str__(self) -> str:
        return f"{self.title} ({self.status})"
