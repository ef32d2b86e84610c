"""Who may decide what a carer sees (the service user; a coordinator on their behalf), and
which carer relationships a viewer may act through.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.http import Http404

from carecoord.records.models import ServiceUser
from carers.models import Carer, CarerRelationship
from consent.policy.base import Basis, _signed_in
from consent.policy.records import record_basis

if TYPE_CHECKING:
    from consent.policy.base import Viewer


# --- Consent ----------------------------------------------------------------------------


def can_decide_consent(viewer: Viewer, service_user: ServiceUser) -> bool:
    """The service user decides; an allocated care coordinator may record a decision on
    their behalf, with the basis, which the service user sees and can change."""
    return decides_consent_on_basis(record_basis(viewer, service_user))


def decides_consent_on_basis(basis: Basis | None) -> bool:
    """`can_decide_consent` for the basis `record_for_viewer` already found (the consent
    pages ask it several times about one record)."""
    return basis in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def can_change_consent_by_api(viewer: Viewer, service_user: ServiceUser) -> bool:
    """Through the API, consent is the service user's to change; their coordinator reads."""
    return record_basis(viewer, service_user) is Basis.SELF


def carer_of_record(viewer: Viewer, service_user: ServiceUser, relationship_id: int,
                    *, basis: Basis | None = None) -> CarerRelationship:
    """An active carer relationship of a record the viewer may decide consent for.
    `basis`: the viewer's basis for this record, when `record_for_viewer` found it."""
    relationship = (
        CarerRelationship.objects.active().select_related("carer__user")
        .filter(pk=relationship_id, service_user=service_user).first()
    )
    decides = (decides_consent_on_basis(basis) if basis is not None
               else can_decide_consent(viewer, service_user))
    if relationship is None or not decides:
        raise Http404("No such carer.")
    return relationship


def relationship_of_carer(viewer: Viewer, relationship_id: int) -> CarerRelationship:
    """One of the viewer's own active relationships as a carer."""
    relationship = (
        CarerRelationship.objects.active().select_related("service_user", "carer")
        .filter(pk=relationship_id, carer__user_id=viewer.pk).first()
        if _signed_in(viewer) else None
    )
    if relationship is None:
        raise Http404("No such person.")
    return relationship


def carer_offer_for_carer(viewer: Viewer, relationship_id: int) -> CarerRelationship:
    """A relationship offered to the viewer as a carer, for them to accept or decline.
    Only the carer it was offered to: everyone else gets 404."""
    relationship = (
        CarerRelationship.objects.offered().select_related("service_user", "carer")
        .filter(pk=relationship_id, carer__user_id=viewer.pk).first()
        if _signed_in(viewer) else None
    )
    if relationship is None:
        raise Http404("No such offer.")
    return relationship


def carer_for_viewer(viewer: Viewer) -> Carer | None:
    return Carer.objects.filter(user_id=viewer.pk).first() if _signed_in(viewer) else None
