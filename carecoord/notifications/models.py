"""In-app notifications."""

from __future__ import annotations

from django.db import models

from carecoord.scoping import ScopedManager


class Notification(models.Model):
    """An in-app message. Its text never holds clinical content: it says that something
    happened and where to look."""

    user = models.ForeignKey("carecoord.User", on_delete=models.CASCADE,
                             related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text
