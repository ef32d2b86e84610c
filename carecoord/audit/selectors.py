"""Reads of the audit trail that other rooms build on.

What is new to a carer: nothing is marked read; the trail already says when a carer last
looked at what someone shares with them (every look is a `carer_item.view` event, ADR
0015). The things to do ("Linda has shared 3 new things with you") and the carer's page
(the "New" tags) both ask here, so they count the same items.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db.models import OuterRef, Subquery

from carecoord.audit.models import AccessEvent

if TYPE_CHECKING:
    from carecoord.records.models import User

CARER_ITEM_VIEW = "carer_item.view"


def carer_last_looked(*, viewer: User, service_user_id: int | OuterRef) -> Subquery:
    """When `viewer`, as a carer, last looked at what this service user shares with them:
    an expression to annotate with (`service_user_id` an id or an `OuterRef` to one), read
    newest first through the (actor, time) index. Only ever the viewer's own looks."""
    return Subquery(
        AccessEvent.objects.filter(actor_id=viewer.pk, action=CARER_ITEM_VIEW,
                                   service_user_id=service_user_id)
        .order_by("-occurred_at").values("occurred_at")[:1]
    )


def new_to_carer(*, shared_at: dt.datetime | None, created_at: dt.datetime | None,
                 last_looked: dt.datetime | None) -> bool:
    """Whether a shared item reached the carer after they last looked: when it was shared,
    or, for an item added later to a section shared by a rule, when it was added. A carer
    who has never looked has everything new."""
    if last_looked is None:
        return True
    reached = max(filter(None, (shared_at, created_at)), default=None)
    return reached is not None and reached > last_looked
