"""The carers app's part in changes made below it (records): each receiver calls one
carers service, in the transaction of the change."""

from __future__ import annotations

from typing import Any

from carecoord.records.models import Episode, Invitation, User
from carers import services


def carer_invitation_accepted(*, invitation: Invitation, user: User, **_: Any) -> None:
    services.carer_account_link(invitation=invitation, user=user)


def episode_changed(*, episode: Episode, ended: bool = False, **_: Any) -> None:
    if ended:
        services.carers_told_care_coordination_ended(episode=episode)
