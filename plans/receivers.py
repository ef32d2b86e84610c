"""Plans' part in changes made below them (records): each receiver calls one plans
service, in the transaction of the change (the signals are sent synchronously)."""

from __future__ import annotations

from typing import Any

from carecoord.records.models import Episode, User
from plans import services


def episode_changed(*, episode: Episode, changed_by: User, **_: Any) -> None:
    # The care plan's planned end, discharge plan and contacts follow the episode.
    services.plan_discharge_items_sync(episode=episode, changed_by=changed_by)
