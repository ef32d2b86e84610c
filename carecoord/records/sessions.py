"""Ending every session of one person: each browser they are signed in on is signed out
at its next request. Used when a carer relationship ends (the carer), and meant for
"sign out everywhere" and disabling an account."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth import SESSION_KEY
from django.core.cache import caches
from django.utils import timezone

if TYPE_CHECKING:
    from carecoord.records.models import User


def end_all_sessions(user: User) -> int:
    """Delete every live session that belongs to `user`; returns how many. Needs a
    database-backed session engine (Django's default, and ours): sessions kept only in a
    cache or a cookie cannot be listed, so that is refused rather than silently skipped."""
    store = import_module(settings.SESSION_ENGINE).SessionStore
    if not hasattr(store, "get_model_class"):
        raise RuntimeError(f"{settings.SESSION_ENGINE} cannot list sessions to end them.")
    model = store.get_model_class()
    ended = [
        session.pk
        for session in model.objects.filter(expire_date__gt=timezone.now()).iterator()
        if str(session.get_decoded().get(SESSION_KEY)) == str(user.pk)
    ]
    model.objects.filter(pk__in=ended).delete()
    if settings.SESSION_ENGINE.endswith("cached_db"):  # its cache holds a copy too
        for key in ended:
            caches[settings.SESSION_CACHE_ALIAS].delete(store.cache_key_prefix + key)
    return len(ended)
