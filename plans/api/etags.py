"""Optimistic concurrency for plan items.

GET gives an `ETag` of `"<id>-<revision>"` and PATCH/DELETE (and agreeing to a goal)
must send it back in `If-Match`. The revision in it is handed to the service, which
checks it under a row lock, so of two requests made with the same ETag exactly one wins
and the other gets 412 with the item as it is saved now.
"""

from __future__ import annotations

import re

from rest_framework import status
from rest_framework.exceptions import APIException
from rest_framework.request import Request
from rest_framework.response import Response

from plans.models import PlanItem

STALE_DETAIL = (
    "Someone else changed this item since you read it. Nothing was saved: compare your "
    "text with the current one and send your change again with the new ETag."
)
REMOVED_DETAIL = "This item has been removed since you read it. Nothing was saved."

# Bounded, so a giant number in a header is simply not a match (and not a ValueError).
_ETAG = re.compile(r'^"(\d{1,18})-(\d{1,18})"$')


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the item's ETag in an If-Match header, so that a change made by someone "
        "else since you read it is not overwritten."
    )
    default_code = "precondition_required"


def item_etag(item: PlanItem) -> str:
    return f'"{item.pk}-{item.revision}"'


def expected_revision(request: Request, item: PlanItem) -> int | None:
    """The revision named by If-Match for this item, or None when the header names no
    revision of it (which can only fail). Raises 428 when there is no ETag to check."""
    header = request.headers.get("If-Match", "").strip()
    # "*" would mean "whatever is there now": exactly the silent overwrite we refuse.
    if not header or header == "*":
        raise PreconditionRequired()
    for tag in header.split(","):
        # Weak tags (W/"...") never match in the strong comparison If-Match uses.
        match = _ETAG.match(tag.strip())
        if match and int(match[1]) == item.pk:
            return int(match[2])
    return None


def precondition_failed(current: PlanItem, *, current_data: dict | None) -> Response:
    """412: nothing was saved. `current_data` is `current` as the API shows it, so the
    client can compare and send again with the ETag in the header; an item removed since
    has nothing to compare with (pass None)."""
    if current.removed_at is not None:
        return Response({"error": "stale", "detail": REMOVED_DETAIL, "current": None},
                        status=status.HTTP_412_PRECONDITION_FAILED)
    return Response(
        {"error": "stale", "detail": STALE_DETAIL, "current": current_data},
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": item_etag(current)},
    )
