"""Consent's part in changes made below it: each receiver calls one consent service, in
the transaction of the change (the signals are sent synchronously)."""

from __future__ import annotations

from typing import Any

from carers.models import Carer, CarerRelationship
from consent import services
from plans.models import PlanItem


def item_added(*, item: PlanItem, **_: Any) -> None:
    services.consent_apply_to_new_item(item=item)  # section rules cover items added later


def item_removed(*, item: PlanItem, **_: Any) -> None:
    services.consent_item_removed(item=item)


def carer_relationship_ended(*, relationship: CarerRelationship, ended_by, **_: Any) -> None:
    services.consent_relationship_ended(relationship=relationship, ended_by=ended_by)


def carer_account_linked(*, carer: Carer, **_: Any) -> None:
    services.consent_sync_carer(carer=carer)  # what was shared before they had an account
