"""Generations: a token in the cache for each service user, person and team, changed
whenever something about them is written, so that what was worked out from their records
(the header's "things to do", carecoord/todo/cache.py) can tell it is out of date without
reading the records again (ADR 0029).

Every save and delete of the product's models is seen here, through Django's model
signals, wherever it was written from; the writes that go round the signals (a
QuerySet.update) either come with a save of the same person's records in the same
service or call mark_changed themselves (an account disabled or enabled). Each is
resolved to whom it concerns: the service user whose record it is (and their team, for
the managers' team-level counts), and the people it names (a coordinator allocated, a
carer, whoever made the change). A model this module does not know changes
everyone's generation, so a new model is never missed, only slower.

The token is changed at once and again when the transaction commits: at once, so a reader
in the same transaction (and every test, whose transaction never commits) sees it; at the
commit, so a reader who worked something out from the old rows in the meantime has it
thrown away too.
"""

from __future__ import annotations

import logging
import secrets
import uuid
from collections.abc import Callable, Iterable
from typing import TypeVar

from django.core.cache import cache
from django.db import transaction

logger = logging.getLogger(__name__)
T = TypeVar("T")

# Generations outlive what is checked against them many times over (the things to do
# live five minutes at most): an expired generation reads as None, which no entry stored
# after a change of it matches.
GENERATION_SECONDS = 3600

EVERYTHING = "fresh:all"
# How long at most what is worked out from the records is kept (ADR 0029). A write is
# seen at once through the generations, so this bounds only what no write marks: a change
# missed while the cache did not answer (see _bump). Each entry is kept for a random part
# of the last fifth of it (SPREAD), so that lists worked out together (everyone signing in
# at nine) are not all worked out again in the same second.
KEEP_SECONDS = 300
SPREAD = 5


def service_user_key(service_user_id: int) -> str:
    return f"fresh:su:{service_user_id}"


def user_key(user_id: int) -> str:
    return f"fresh:user:{user_id}"


def team_key(team_id: int) -> str:
    return f"fresh:team:{team_id}"


class CacheUnavailableError(Exception):
    """The shared cache did not answer: nothing can be kept or trusted from it."""


def generations(keys: Iterable[str]) -> dict[str, str | None]:
    """The current token of each key (None: never changed, or long ago). Raises
    CacheUnavailableError when the cache does not answer."""
    keys = list(keys)
    try:
        found = cache.get_many(keys)
    except Exception as error:  # e.g. Redis stopped: the caller works it out afresh
        raise CacheUnavailableError from error
    return {key: found.get(key) for key in keys}


def mark_changed(*, service_user_ids: Iterable[int] = (), user_ids: Iterable[int] = (),
                 team_ids: Iterable[int] = (), everything: bool = False) -> None:
    """Something about these people or teams was written: change their generations now
    and again when the transaction commits."""
    keys = ([service_user_key(pk) for pk in set(service_user_ids) if pk]
            + [user_key(pk) for pk in set(user_ids) if pk]
            + [team_key(pk) for pk in set(team_ids) if pk]
            + ([EVERYTHING] if everything else []))
    if not keys:
        return
    _bump(keys)
    transaction.on_commit(lambda: _bump(keys))


def _bump(keys: list[str]) -> None:
    token = uuid.uuid4().hex
    try:
        cache.set_many(dict.fromkeys(keys, token), timeout=GENERATION_SECONDS)
    except Exception:  # the write itself must not fail because the cache is down
        # What was kept lives in the same cache: when it answers again, what was kept
        # before is at most KEEP_SECONDS old (carecoord/todo/cache.py), or gone with it.
        logger.warning("cache unavailable: generations not changed", exc_info=True)


def kept_or_worked_out(key: str, *, day: object, depends_on: Callable[[], list[str]],
                       work_out: Callable[[], T], keep_seconds: Callable[[T], int]) -> T:
    """What `work_out` gives, kept under `key` with the generations of `depends_on` and
    shown again only while none of them has changed and it is still `day`.
    `keep_seconds(result)`: how long at most (0: not kept). A cache that does not answer
    means worked out afresh every time, never an error."""
    try:
        try:
            kept = cache.get(key)
        except Exception as error:  # e.g. Redis stopped
            raise CacheUnavailableError from error
        if (kept is not None and kept["day"] == day
                and generations(kept["generations"]) == kept["generations"]):
            return kept["value"]
        # The generations are read before the records: a write in between changes one
        # of them, and what is kept here is thrown away at the next read.
        read = generations(depends_on())
    except CacheUnavailableError:
        logger.warning("cache unavailable: %s worked out afresh", key, exc_info=True)
        return work_out()
    value = work_out()
    seconds = kept_for(keep_seconds(value))
    try:
        if seconds > 0:
            cache.set(key, {"day": day, "generations": read, "value": value}, seconds)
        else:
            cache.delete(key)
    except Exception:  # shown all the same; kept next time the cache answers
        logger.warning("cache unavailable: %s not kept", key, exc_info=True)
    return value


def kept_for(seconds: int) -> int:
    """`seconds` less a random part of its last fifth (see SPREAD): never longer."""
    if seconds <= 0:
        return 0
    return seconds - secrets.randbelow(seconds // SPREAD + 1)
