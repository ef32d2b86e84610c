"""Sending notifications (in-app, and email without clinical content)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.core.mail import send_mail, send_mass_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carecoord.notifications.models import Notification
from carecoord.web.site_url import absolute_url

if TYPE_CHECKING:
    from carecoord.records.models import User


def notification_send(*, user: User, text: str, url_name: str = "",
                      url_args: list | None = None, group: str = "", count: int = 1,
                      text_for_count: str = "") -> Notification:
    """An in-app notification, and an email saying only that there is something new and
    where to sign in: the email names nobody and holds no clinical content.

    With a `group` (what kind of thing, about what), things of the same group for the
    same place are one entry while it is unread: its `count` grows by `count` and its
    words become `text_for_count` with "{count}" filled in ("3 new things shared with
    you"). No second email goes for it: the first already said to sign in."""
    url = reverse(url_name, args=url_args or []) if url_name else ""
    if group:
        with transaction.atomic():
            unread = (
                Notification.objects.select_for_update()
                .filter(user=user, group=group, url=url, read_at__isnull=True)
                .order_by("-created_at", "-pk").first()
            )
            if unread is not None:
                unread.count += count
                unread.text = _words(text, text_for_count, unread.count)
                unread.created_at = timezone.now()  # the latest of them: top of the list
                unread.save(update_fields=["count", "text", "created_at"])
                return unread
    notification = Notification.objects.create(
        user=user, text=_words(text, text_for_count, count), url=url, group=group,
        count=count,
    )
    body = render_to_string(
        "carecoord/emails/notification.txt",
        {"link": absolute_url(url or "/")},
    )
    transaction.on_commit(
        lambda: send_mail("New information in care coordination", body, None, [user.email])
    )
    return notification


def notifications_send_many(*, messages: list[tuple[User, str, str, list]]) -> int:
    """Many ungrouped notifications at once — (user, text, url_name, url_args) each — as
    `notification_send` would make them one by one, in one insert; their content-free
    emails go after commit over one mail connection. For sweeps that tell thousands of
    people something (review reminders), where one insert each would be thousands of
    queries."""
    if not messages:
        return 0
    notifications = []
    emails = []
    bodies: dict[str, str] = {}
    for user, text, url_name, url_args in messages:
        url = reverse(url_name, args=url_args or []) if url_name else ""
        notifications.append(Notification(user=user, text=_words(text, "", 1), url=url))
        if url not in bodies:
            bodies[url] = render_to_string("carecoord/emails/notification.txt",
                                           {"link": absolute_url(url or "/")})
        emails.append(("New information in care coordination", bodies[url], None,
                       [user.email]))
    Notification.objects.bulk_create(notifications, batch_size=1000)
    transaction.on_commit(lambda: send_mass_mail(emails, fail_silently=False))
    return len(notifications)


def _words(text: str, text_for_count: str, count: int) -> str:
    if count > 1 and text_for_count:
        text = text_for_count.replace("{count}", str(count))
    return text[:300]


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )
