"""The address links in emails start with: the one the person's request reached.

An invitation, a password reset link or a notification email is caused by a request;
its links use that request's scheme and host (the host checked against ALLOWED_HOSTS by
`request.get_host()`), so a demo on port 8311 sends links to port 8311, not to a
configured address that may be wrong. Work done later for a request (a Celery task)
carries the address captured at request time (`site_url_used`). Only work with no
request behind it (the periodic review reminders) falls back to `settings.SITE_URL`.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar

from django.conf import settings
from django.core.exceptions import DisallowedHost
from django.http import HttpRequest, HttpResponse

_current_site_url: ContextVar[str | None] = ContextVar("current_site_url", default=None)


def site_url_of(request: HttpRequest) -> str | None:
    """"http://127.0.0.1:8311" for a request that reached that address; None when its
    host is not one of ALLOWED_HOSTS (never put a host the client chose in a link)."""
    try:
        host = request.get_host()
    except DisallowedHost:
        return None
    return f"{request.scheme}://{host}"


def site_url() -> str:
    """The base of links in emails, without a trailing slash."""
    return (_current_site_url.get() or settings.SITE_URL).rstrip("/")


def absolute_url(path: str) -> str:
    """`path` ("/invitation/abc/") as a full link for an email."""
    return site_url() + (path if path.startswith("/") else "/" + path)


def current_site_url() -> str | None:
    """The address captured from the current request (or task), if any: to hand to a
    task sent from here."""
    return _current_site_url.get()


@contextmanager
def site_url_used(url: str | None) -> Iterator[None]:
    """Links made inside start with `url` (a task runs for a request made earlier)."""
    token = _current_site_url.set(url or None)
    try:
        yield
    finally:
        _current_site_url.reset(token)


class SiteUrlMiddleware:
    """Remembers, for the request, the address it reached."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        with site_url_used(site_url_of(request)):
            return self.get_response(request)
