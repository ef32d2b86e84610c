"""Links to many rows of one kind, made without calling `reverse()` for each row.

A manager's team page links each of its 300 people three or four times; `reverse()`
resolves the URL pattern every time (tens of microseconds a call), which made up about
a third of the page's template time (issue 15). `link_maker` reverses a URL name once,
with a placeholder id, and fills in each row's id: the same address `reverse()` gives,
script prefix included (tests/carecoord/test_links.py compares them).
"""

from __future__ import annotations

from collections.abc import Callable

from django.urls import reverse

# Digits, so that any <int:...> converter accepts it; long enough never to be part of
# the rest of an address.
_PLACEHOLDER = "9081726354453627"


def link_maker(url_name: str) -> Callable[[int], str]:
    """A function from an id to `reverse(url_name, args=[id])`, for a URL with one
    integer argument."""
    address = reverse(url_name, args=[_PLACEHOLDER])
    head, found, tail = address.partition(_PLACEHOLDER)
    if not found or _PLACEHOLDER in tail:
        raise ValueError(f"{url_name} does not take exactly one id")

    def link(pk: int) -> str:
        return f"{head}{int(pk)}{tail}"

    return link
