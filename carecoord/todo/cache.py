"""The things to do as every page shows them (the header's count, the home page's list):
worked out once and kept for a minute, thrown away as soon as anything they were worked
out from is written (ADR 0029).

Kept with the list: the day, the person's roles, and the generation (carecoord/freshness.py)
of each thing it depends on: the person themselves, each service user it may mention —
their own record, the people they care for, a coordinator's caseload as the policy gives
it — and a manager's teams. Any of those written, another day, a role gained or lost, an
emergency access ending, or the minute up: it is worked out afresh, through the policy,
as before. Nothing is kept while it holds "newly shared" information: that entry goes
when the carer looks, and looking is not a change.

The API's list (carecoord/todo/api.py) is always worked out afresh.
"""

from __future__ import annotations

import logging

from django.core.cache import cache
from django.utils import timezone

from carecoord import freshness
from carecoord.records.models import Role, User
from carecoord.todo.selectors import (
    Entry,
    emergency_access_ends,
    things_to_do,
    things_to_do_depends_on,
)

logger = logging.getLogger(__name__)

KEEP_SECONDS = 60
# Entries whose words or presence change without a write: not kept.
NOT_KEPT = {"newly_shared"}


def _key(viewer: User) -> str:
    return f"todo:v1:{viewer.pk}"


def things_to_do_for_page(*, viewer: User) -> list[Entry]:
    """The viewer's things to do, kept for a minute unless something they depend on is
    written (see the module's docstring)."""
    if not (viewer and viewer.is_authenticated and viewer.is_active):
        return []
    now = timezone.now()
    today = timezone.localdate(now)
    try:
        try:
            kept = cache.get(_key(viewer))
        except Exception as error:  # e.g. Redis stopped
            raise freshness.CacheUnavailableError from error
        if (kept is not None and kept["day"] == today and kept["roles"] == viewer.roles
                and freshness.generations(kept["generations"]) == kept["generations"]):
            return kept["entries"]
        # The generations are read before the records: a write in between changes one
        # of them, and what is kept here is thrown away at the next read.
        generations = freshness.generations(things_to_do_depends_on(viewer))
    except freshness.CacheUnavailableError:
        logger.warning("cache unavailable: things to do worked out afresh", exc_info=True)
        return things_to_do(viewer=viewer, today=today)
    entries = things_to_do(viewer=viewer, today=today)
    keep = 0 if any(entry.kind in NOT_KEPT for entry in entries) else KEEP_SECONDS
    if keep and Role.COORDINATOR in viewer.roles:
        # Less when an emergency access of theirs ends sooner: its end is not a write.
        ends = emergency_access_ends(viewer, now)
        if ends is not None:
            keep = max(0, min(keep, int((ends - now).total_seconds())))
    try:
        if keep:
            cache.set(_key(viewer), {"day": today, "roles": viewer.roles,
                                     "generations": generations, "entries": entries}, keep)
        else:
            cache.delete(_key(viewer))
    except Exception:  # shown afresh all the same; kept next time the cache answers
        logger.warning("cache unavailable: things to do not kept", exc_info=True)
    return entries
