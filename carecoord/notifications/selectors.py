"""Reading one's own notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from carecoord.notifications.models import Notification

if TYPE_CHECKING:  # records sits above notifications' services and tells people things
    from carecoord.records.models import User


def notifications_for(*, viewer: User, limit: int = 100) -> list[Notification]:
    """The viewer's own notifications, newest first."""
    return list(Notification.objects.filter(user=viewer).order_by("-created_at", "-pk")[:limit])


def unread_notification_count(*, viewer: User) -> int:
    return Notification.objects.filter(user=viewer, read_at__isnull=True).count()
