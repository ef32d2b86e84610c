"""Role-aware navigation for the header, and the unread notifications count."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse

from carecoord.notifications.selectors import unread_notification_count
from carecoord.records.models import Role


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_notifications": 0}
    if getattr(request, "second_factor_pending", False):  # carecoord/twofa/middleware.py
        # Half signed in (the code or the authenticator set-up still to come): nothing
        # to navigate to but signing out.
        return {"nav_items": [], "unread_notifications": 0, "second_factor_pending": True}
    items = [("Home", reverse("home"))]
    if user.has_role(Role.SERVICE_USER):
        record = getattr(user, "service_user_record", None)
        if record is not None:
            items.append(("My record", reverse("service_user_detail", args=[record.pk])))
    if user.has_role(Role.COORDINATOR) and user.coordinator_teams.exists():
        items.append(("Add a service user", reverse("service_user_create")))
    if user.has_role(Role.MANAGER):
        for team in user.managed_teams.all():
            items.append((f"Team: {team.name}", reverse("team_detail", args=[team.pk])))
    items.append(("Peer support and stories", reverse("peersupport_directory")))
    if user.is_staff:
        items.append(("Administration", reverse("admin:index")))
    path = request.path
    return {
        "nav_items": [
            {"label": label, "url": url, "current": path == url} for label, url in items
        ],
        "unread_notifications": unread_notification_count(viewer=user),
    }
