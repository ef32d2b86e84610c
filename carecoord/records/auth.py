"""Sign-in helpers."""

from __future__ import annotations

from django.http import HttpRequest


def axes_username(request: HttpRequest, credentials: dict | None = None) -> str:
    """The lock-out key: the email as sign-in matches it (trimmed, lower-case), so changing
    its capitals does not buy another five guesses."""
    source = credentials if credentials else getattr(request, "data", request.POST)
    return (source.get("username") or "").strip().lower()
