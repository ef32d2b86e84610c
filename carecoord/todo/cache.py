"""The things to do as every page shows them (the header's count, the home page's list):
worked out once and kept for up to five minutes, thrown away as soon as anything they were worked
out from is written (ADR 0029).

Kept with the list: the day, the person's roles, and the generation (carecoord/freshness.py)
of each thing it depends on: the person themselves, each service user it may mention —
their own record, the people they care for, a coordinator's caseload as the policy gives
it — and a manager's teams. Any of those written, another day, a role gained or lost, an
emergency access ending, or the time up: it is worked out afresh, through the policy,
as before. Nothing is kept while it holds "newly shared" information: that entry goes
when the carer looks, and looking is not a change.

The API's list (carecoord/todo/api.py) is always worked out afresh.
"""

from __future__ import annotations

from django.utils import timezone

from carecoord import freshness
from carecoord.records.models import Role, User
from carecoord.todo.selectors import (
    Entry,
    emergency_access_ends,
    things_to_do,
    things_to_do_depends_on,
)

KEEP_SECONDS = freshness.KEEP_SECONDS
# Entries whose words or presence change without a write: not kept.
NOT_KEPT = {"newly_shared"}


def things_to_do_for_page(*, viewer: User) -> list[Entry]:
    """The viewer's things to do, kept for up to five minutes unless something they depend on is
    written (see the module's docstring)."""
    if not (viewer and viewer.is_authenticated and viewer.is_active):
        return []
    now = timezone.now()
    today = timezone.localdate(now)

    def keep_seconds(entries: list[Entry]) -> int:
        if any(entry.kind in NOT_KEPT for entry in entries):
            return 0
        if Role.COORDINATOR in viewer.roles:
            # Less when an emergency access of theirs ends sooner: its end is not a write.
            ends = emergency_access_ends(viewer, now)
            if ends is not None:
                return max(0, min(KEEP_SECONDS, int((ends - now).total_seconds())))
        return KEEP_SECONDS

    return freshness.kept_or_worked_out(
        # The roles are in the key: a role gained or lost is another list.
        f"todo:v1:{viewer.pk}:{','.join(sorted(viewer.roles))}", day=today,
        depends_on=lambda: things_to_do_depends_on(viewer),
        work_out=lambda: things_to_do(viewer=viewer, today=today),
        keep_seconds=keep_seconds)
