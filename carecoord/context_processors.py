"""Role-aware navigation for the header, the unread notifications count, and the things
to do (their count in the header; the list itself on the home page)."""

from __future__ import annotations

from django.http import HttpRequest
from django.urls import reverse
from django.utils.functional import SimpleLazyObject

from carecoord.notifications.selectors import unread_notification_count
from carecoord.records.models import Role
from carecoord.records.selectors import break_glass_active, may_add_service_users
from carecoord.todo.cache import things_to_do_for_page
from consent import policy


def navigation(request: HttpRequest) -> dict:
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"nav_items": [], "unread_notifications": 0, "things_to_do": []}
    if getattr(request, "second_factor_pending", False):  # carecoord/twofa/middleware.py
        # Half signed in (the code or the authenticator set-up still to come): nothing
        # to navigate to but signing out.
        return {"nav_items": [], "unread_notifications": 0, "things_to_do": [],
                "second_factor_pending": True}
    items = [("Home", reverse("home"))]
    if user.has_role(Role.SERVICE_USER):
        record = getattr(user, "service_user_record", None)
        if record is not None:
            items.append(("My record", reverse("service_user_detail", args=[record.pk])))
    if may_add_service_users(viewer=user):
        items.append(("Add a service user", reverse("service_user_create")))
    if user.has_role(Role.MANAGER):
        for team in user.managed_teams.all():
            items.append((f"Team: {team.name}", reverse("team_detail", args=[team.pk])))
    if user.has_role(Role.COORDINATOR) or user.has_role(Role.PROFESSIONAL):
        items.append(("Emergency access", reverse("break_glass")))
    items.append(("Peer support and stories", reverse("peersupport_directory")))
    # The API tokens part of the person's profile (ADR 0013).
    items.append(("API tokens", reverse("api_tokens")))
    # The policy answers from the roles already read unless they hold the administrator
    # role, so this costs no query on most pages.
    if policy.can_administer(user):
        # The product's administration area; it links to Django's admin for emergencies.
        items.append(("Administration", reverse("administration:index")))
    path = request.path
    return {
        "nav_items": [
            {"label": label, "url": url, "current": path == url} for label, url in items
        ],
        "unread_notifications": unread_notification_count(viewer=user),
        # Worked out once per page, when the page first asks (the header's count, then
        # the home page's list reuse it), and kept between pages until something it
        # depends on is written (carecoord/todo/cache.py).
        "things_to_do": SimpleLazyObject(lambda: things_to_do_for_page(viewer=user)),
    }


def break_glass(request: HttpRequest) -> dict:
    """Every page says while an emergency access lasts: whose crisis plan, until when, and
    the reason given."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {"break_glass_accesses": []}
    return {"break_glass_accesses": break_glass_active(viewer=user)}
