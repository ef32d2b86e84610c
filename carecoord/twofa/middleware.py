"""Staff (and anyone who set up a second factor) reach nothing until their session has
passed it: pages redirect to the code step (or to setting up an authenticator), the API
answers 401 with a JSON body. Runs after django-otp's OTPMiddleware."""

from __future__ import annotations

from collections.abc import Callable

from django.conf import settings
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, JsonResponse
from django.urls import Resolver404, resolve, reverse
from django.utils import timezone
from django.utils.http import urlencode

from carecoord.twofa import selectors

# When this session last found that its person has no authenticator (see _has_device).
NO_DEVICE_CHECKED_AT = "no_second_factor_checked_at"

# Where a half-signed-in session may go: the step it must take, and signing out.
WITH_DEVICE = frozenset({"twofa_verify", "logout"})
WITHOUT_DEVICE = frozenset({"twofa_setup", "logout"})


def _url_name(request: HttpRequest) -> str | None:
    try:
        return resolve(request.path_info).url_name
    except Resolver404:
        return None


class SecondFactorMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        user = request.user
        # Read by the header's navigation: a half-signed-in session has nowhere to go.
        request.second_factor_pending = False
        if user.is_authenticated and not user.is_verified():
            required = selectors.second_factor_required(user=user)
            has_device = self._has_device(request, required=required)
            if has_device or required:
                request.second_factor_pending = True
                if not (
                    request.path_info.startswith(f"/{settings.STATIC_URL.lstrip('/')}")
                    or _url_name(request) in (WITH_DEVICE if has_device else WITHOUT_DEVICE)
                ):
                    return self._refuse(request, has_device=has_device)
        return self.get_response(request)

    @staticmethod
    def _has_device(request: HttpRequest, *, required: bool) -> bool:
        """Whether the person has set up an authenticator. Asked on every request of
        staff who have not passed the second factor (they are signing in). For a service
        user or carer without one it is asked again at most once a SESSION_TOUCH_SECONDS
        (the answer kept in the session): setting one up elsewhere makes this session ask
        for a code within that time, and reading pages costs no query for it."""
        if required:
            return selectors.has_second_factor(user=request.user)
        now = timezone.now().timestamp()
        checked_at = request.session.get(NO_DEVICE_CHECKED_AT)
        if checked_at is not None and 0 <= now - float(checked_at) < settings.SESSION_TOUCH_SECONDS:
            return False
        has_device = selectors.has_second_factor(user=request.user)
        if has_device:
            request.session.pop(NO_DEVICE_CHECKED_AT, None)
        else:
            request.session[NO_DEVICE_CHECKED_AT] = now
        return has_device

    def _refuse(self, request: HttpRequest, *, has_device: bool) -> HttpResponse:
        if request.path_info.startswith("/api/"):
            return JsonResponse(
                {"error": "second_factor_required",
                 "detail": "Enter the code from your authenticator app to continue."},
                status=401,
            )
        step = "twofa_verify" if has_device else "twofa_setup"
        query = urlencode({REDIRECT_FIELD_NAME: request.get_full_path()})
        return HttpResponseRedirect(f"{reverse(step)}?{query}")
