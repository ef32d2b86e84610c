"""Sending notifications (in-app, and email without clinical content)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carecoord.notifications.models import Notification

if TYPE_CHECKING:
    from carecoord.records.models import User


def notification_send(*, user: User, text: str, url_name: str = "",
                      url_args: list | None = None) -> Notification:
    """An in-app notification, and an email saying only that there is something new and
    where to sign in: the email names nobody and holds no clinical content."""
    url = reverse(url_name, args=url_args or []) if url_name else ""
    notification = Notification.objects.create(user=user, text=text, url=url)
    body = render_to_string(
        "carecoord/emails/notification.txt",
        {"link": settings.SITE_URL.rstrip("/") + (url or "/")},
    )
    transaction.on_commit(
        lambda: send_mail("New information in care coordination", body, None, [user.email])
    )
    return notification


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
