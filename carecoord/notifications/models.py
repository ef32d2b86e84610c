"""In-app notifications."""

from __future__ import annotations

from django.db import models

from carecoord.scoping import ScopedManager


class Notification(models.Model):
    """An in-app message. Its text never holds clinical content: it says that something
    happened and where to look.

    Like things are grouped: while a notification of a `group` is unread, another of the
    same group for the same person and place adds to its `count` and rewords it ("3 new
    things shared with you") rather than adding a line (`notification_send`)."""

    user = models.ForeignKey("carecoord.User", on_delete=models.CASCADE,
                             related_name="notifications")
    text = models.CharField(max_length=300)
    url = models.CharField(max_length=300, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    read_at = models.DateTimeField(null=True, blank=True)
    # What kind of thing, and about what (e.g. "shared:12"); empty: never grouped.
    group = models.CharField(max_length=100, blank=True)
    count = models.PositiveIntegerField(default=1)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at", "-pk"]
        indexes = [models.Index(fields=["user", "read_at"])]

    def __str__(self) -> str:
        return self.text
