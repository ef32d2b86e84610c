"""Sign-in helpers."""

from __future__ import annotations

from django.conf import settings
from django.contrib.auth import authenticate
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render

# django-axes' status for a lock-out (its default, AXES_HTTP_RESPONSE_CODE).
AXES_STATUS = 429
LOCKED_OUT = ("There have been too many wrong passwords for this account, so it is locked "
              "for a while. Try again later, or ask an administrator to unlock it.")


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The lock-out key: the email as sign-in matches it (trimmed, lower-case), so changing
    its capitals does not buy another five guesses."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    return (source.get("username") or "").strip().lower()


class PasswordLockedOutError(Exception):
    """Too many wrong passwords for this account: it is locked, as after failed sign-ins."""


def password_confirm(*, user, password: str, request: HttpRequest | None) -> bool:
    """Whether `password` is `user`'s, asked the way sign-in asks it: through
    `authenticate`, so django-axes counts every wrong answer against the same lock-out
    as sign-in, and refuses even the right password while the account is locked out.
    Raises PasswordLockedOutError when it is locked (or this guess locked it)."""
    request = request if request is not None else HttpRequest()
    # A DRF Request wraps the HttpRequest the middleware (and axes) look at.
    request = getattr(request, "_request", request)
    found = authenticate(request=request, username=user.get_username(), password=password)
    if getattr(request, "axes_locked_out", False):
        raise PasswordLockedOutError(LOCKED_OUT)
    return found is not None and found.pk == user.pk


def lockout_response(request: HttpRequest, original_response=None,
                     credentials: dict | None = None) -> HttpResponse:
    """django-axes' answer to a locked-out attempt (AXES_LOCKOUT_CALLABLE): the API's JSON
    error format under /api/, the lock-out page everywhere else; 429 on both."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "locked_out", "detail": LOCKED_OUT},
                            status=AXES_STATUS)
    cool_off = settings.AXES_COOLOFF_TIME
    return render(request, settings.AXES_LOCKOUT_TEMPLATE,
                  {"failure_limit": settings.AXES_FAILURE_LIMIT,
                   "cooloff_timedelta": cool_off}, status=AXES_STATUS)
