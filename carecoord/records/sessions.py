"""Ending sessions: every session of one person (signing out everywhere, an account
disabled, a role removed), the absolute lifetime of any session (12 hours from signing in,
however active it stays), and the idle limit's sliding expiry."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import SESSION_KEY, logout, user_logged_in
from django.contrib.sessions.models import Session
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from django.http import HttpRequest, HttpResponse
from django.utils import timezone

from carecoord.records.models import User, UserRole

SIGNED_IN_AT = "signed_in_at"
TOUCHED_AT = "touched_at"


def end_all_sessions(user: User) -> int:
    """End every session of `user` (in every browser, this one included); how many.
    Sessions are in the database (Django's default engine); a session names its user
    only inside its encoded data, so each live one is decoded."""
    user_pk = str(user.pk)
    ended = [
        session.pk
        for session in Session.objects.filter(expire_date__gt=timezone.now()).iterator()
        if session.get_decoded().get(SESSION_KEY) == user_pk
    ]
    Session.objects.filter(pk__in=ended).delete()
    return len(ended)


@receiver(user_logged_in, dispatch_uid="session_signed_in_at")
def _remember_sign_in_time(sender, request: HttpRequest, user: User, **kwargs) -> None:
    if request is not None and hasattr(request, "session"):
        request.session[SIGNED_IN_AT] = timezone.now().timestamp()


@receiver(post_save, sender=User, dispatch_uid="sessions_end_when_disabled")
def _end_sessions_when_disabled(sender, instance: User, **kwargs) -> None:
    if not instance.is_active:
        end_all_sessions(instance)


@receiver(post_delete, sender=UserRole, dispatch_uid="sessions_end_when_role_removed")
def _end_sessions_when_role_removed(sender, instance: UserRole, **kwargs) -> None:
    # What the person may see has changed under them: they sign in again.
    end_all_sessions(User(pk=instance.user_id))


class SessionLifetimeMiddleware:
    """Ends a session SESSION_ABSOLUTE_HOURS after signing in, beside the idle timeout
    (SESSION_IDLE_MINUTES), which it keeps sliding (at most one session write a
    SESSION_TOUCH_SECONDS). A session signed in before this middleware existed is given
    the full lifetime from its next request."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = timezone.now().timestamp()
            signed_in_at = request.session.get(SIGNED_IN_AT)
            if signed_in_at is None:
                request.session[SIGNED_IN_AT] = now
            elif now - float(signed_in_at) > settings.SESSION_ABSOLUTE_HOURS * 3600:
                logout(request)
                return self.get_response(request)
            # The idle limit slides with activity. Saving the session pushes its expiry
            # forward; doing that at most once a SESSION_TOUCH_SECONDS instead of on every
            # request spares a write per page, and ends an idle session at most that much
            # sooner than SESSION_IDLE_MINUTES.
            touched_at = request.session.get(TOUCHED_AT)
            if touched_at is None or now - float(touched_at) >= settings.SESSION_TOUCH_SECONDS:
                request.session[TOUCHED_AT] = now
        return self.get_response(request)
