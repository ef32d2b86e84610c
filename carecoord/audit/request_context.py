"""The current request's client address, for the audit trail, without threading it
through every service call."""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

current_ip_address: ContextVar[str | None] = ContextVar("current_ip_address", default=None)
# The personal API token this request was authenticated with (its audit label), set by
# the token authentication: every access event of the request names it.
current_api_token: ContextVar[str | None] = ContextVar("current_api_token", default=None)


def client_ip(request: HttpRequest) -> str | None:
    if getattr(settings, "TRUST_X_FORWARDED_FOR", False):
        forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
        if forwarded:
            return forwarded.split(",")[0].strip() or None
    return request.META.get("REMOTE_ADDR") or None


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip_address.set(client_ip(request))
        api_token = current_api_token.set(None)
        try:
            return self.get_response(request)
        finally:
            current_api_token.reset(api_token)
            current_ip_address.reset(token)
