"""The one check before a token can be made: a recently verified session. The person
entered their password on this session within the last ten minutes and, where two-factor
sign-in is in use (django-otp sets `user.is_verified`), the session passed it."""

from __future__ import annotations

import time

from django.http import HttpRequest

REAUTH_SESSION_KEY = "api_tokens_password_confirmed_at"
REAUTH_SECONDS = 10 * 60


def session_password_confirmed(request: HttpRequest) -> None:
    request.session[REAUTH_SESSION_KEY] = time.time()


def recently_verified(request: HttpRequest) -> bool:
    """True when this session may make an API token now."""
    is_verified = getattr(request.user, "is_verified", None)
    if callable(is_verified) and not is_verified():
        return False
    confirmed_at = request.session.get(REAUTH_SESSION_KEY)
    if not isinstance(confirmed_at, int | float):
        return False
    return 0 <= time.time() - confirmed_at <= REAUTH_SECONDS
