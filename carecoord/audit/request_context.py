"""The current request's client address, for the audit trail, without threading it
through every service call."""

from __future__ import annotations

import ipaddress
from collections.abc import Callable
from contextvars import ContextVar

from django.conf import settings
from django.http import HttpRequest, HttpResponse

current_ip_address: ContextVar[str | None] = ContextVar("current_ip_address", default=None)
# The personal API token this request was authenticated with (its audit label), set by
# the token authentication: every access event of the request names it.
current_api_token: ContextVar[str | None] = ContextVar("current_api_token", default=None)
# Reads a page asks for twice in one request, kept for the rest of that request only (the
# home page's "getting stuck" list and its things to do, issue 15). None outside a
# request, so a task, a test or the shell never gets an answer worked out earlier.
current_request_reads: ContextVar[dict | None] = ContextVar("current_request_reads",
                                                            default=None)


def _valid_ip(value: str | None) -> str | None:
    if not value:
        return None
    try:
        return str(ipaddress.ip_address(value.strip()))
    except ValueError:
        return None


def client_ip(request: HttpRequest) -> str | None:
    """The address to record: never one the client chose, never an error.

    Behind `TRUSTED_PROXY_COUNT` proxies, each proxy appends the address it received the
    request from to X-Forwarded-For, so the client's address is that many entries from
    the right; anything further left was written by the client and is not believed. A
    value that is not an IP address (or a header too short) falls back to REMOTE_ADDR.
    """
    proxies = getattr(settings, "TRUSTED_PROXY_COUNT", 0) or 0
    if proxies > 0:
        hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        hops = [hop for hop in hops if hop]
        if len(hops) >= proxies:
            forwarded = _valid_ip(hops[-proxies])
            if forwarded:
                return forwarded
    return _valid_ip(request.META.get("REMOTE_ADDR"))


class RequestContextMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        token = current_ip_address.set(client_ip(request))
        api_token = current_api_token.set(None)
        reads = current_request_reads.set({})
        try:
            return self.get_response(request)
        finally:
            current_request_reads.reset(reads)
            current_api_token.reset(api_token)
            current_ip_address.reset(token)
