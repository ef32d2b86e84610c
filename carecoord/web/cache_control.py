"""No page or API answer is kept by a browser's or a proxy's cache.

Almost every answer this app gives holds personal data (a record, a care plan, who looked
at them, a carer's check-ins), and a shared computer's back button or a caching proxy must
not show it to the next person. So every response made here — pages, the API, downloads,
error pages, signed in or not — says `Cache-Control: no-store` (with `private`). Static
files never reach this middleware: WhiteNoise, before it, serves them with their own
long-lived headers.
"""

from __future__ import annotations

from collections.abc import Callable

from django.http import HttpRequest, HttpResponse
from django.utils.cache import patch_cache_control


class NoStoreMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        patch_cache_control(response, no_store=True, private=True)
        return response
