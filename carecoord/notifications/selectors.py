"""Reading one's own notifications."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.http import Http404

from carecoord.notifications.models import Notification

if TYPE_CHECKING:  # records sits above notifications' services and tells people things
    from carecoord.records.models import User


def notifications_for(*, viewer: User, limit: int = 100) -> list[Notification]:
    """The viewer's own notifications, newest first."""
    return list(Notification.objects.filter(user=viewer).order_by("-created_at", "-pk")[:limit])


def unread_notification_count(*, viewer: User) -> int:
    return Notification.objects.filter(user=viewer, read_at__isnull=True).count()


def notifications_queryset(*, viewer: User) -> QuerySet[Notification]:
    """The viewer's own notifications, newest first, for the API's pages."""
    return Notification.objects.filter(user_id=viewer.pk).order_by("-created_at", "-pk")


def notification_for_viewer(*, viewer: User, notification_id: int) -> Notification:
    """One of the viewer's own notifications; anyone else's is not found."""
    notification = notifications_queryset(viewer=viewer).filter(pk=notification_id).first()
    if notification is None:
        raise Http404("No such notification.")
    return notification
