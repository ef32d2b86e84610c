"""Writes for the carer's own space: needs, wellbeing check-ins, carer's assessment
requests and "What I know helps".

Each service is one transaction. What a care coordinator does to a carer's information
is written to the audit trail inside it; notifications say only that something happened
and where to look (their emails carry no content at all).
"""

from __future__ import annotations

from django.db import transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records.models import Episode, Invitation, Role, ServiceUser, User
from carecoord.records.services import InvitationUnusableError, role_grant
from carers import signals
from carers.models import (
    AssessmentRequest,
    Carer,
    CarerInsight,
    CarerNeeds,
    CarerRelationship,
    CarerSpaceBasis,
    WellbeingCheckIn,
)


class AssessmentRequestError(Exception):
    """A carer's assessment request cannot move that way (already asked, already done)."""


# --- Needs and check-ins (the carer's own) ----------------------------------------------


@transaction.atomic
def carer_needs_save(
    *, carer: Carer, own_needs: str, support_wanted: str, shared_with_coordinator: bool
) -> CarerNeeds:
    """Save the carer's needs and the support they would like, and whether the care
    coordinators of the people they care for may see them."""
    needs = CarerNeeds.objects.select_for_update().filter(carer=carer).first()
    if needs is None:
        needs = CarerNeeds(carer=carer)
    needs.own_needs = own_needs.strip()
    needs.support_wanted = support_wanted.strip()
    needs.shared_with_coordinator = shared_with_coordinator
    needs.save()
    return needs


@transaction.atomic
def wellbeing_check_in_record(
    *, carer: Carer, coping: int, words: str = "", shared_with_coordinator: bool = False
) -> WellbeingCheckIn:
    if not 0 <= coping <= 10:
        raise ValueError("How a carer is coping is a number from 0 to 10.")
    return WellbeingCheckIn.objects.create(
        carer=carer, coping=coping, words=words.strip(),
        shared_with_coordinator=shared_with_coordinator,
    )


@transaction.atomic
def wellbeing_check_in_share(*, check_in: WellbeingCheckIn, shared: bool) -> WellbeingCheckIn:
    """The carer shares one check-in with the coordinators, or stops sharing it."""
    check_in.shared_with_coordinator = shared
    check_in.save(update_fields=["shared_with_coordinator"])
    return check_in


# --- Carer's assessment -----------------------------------------------------------------


def _coordinators_of(carer: Carer) -> list[tuple[User, CarerRelationship]]:
    """The allocated care coordinators of each person the carer actively cares for."""
    result = []
    for relationship in (
        CarerRelationship.objects.active().filter(carer=carer).select_related("service_user")
    ):
        for coordinator in User.objects.coordinating(relationship.service_user):
            result.append((coordinator, relationship))
    return result


@transaction.atomic
def assessment_request_create(*, carer: Carer, note: str = "") -> AssessmentRequest:
    """The carer asks for a carer's assessment. Their coordinators are told there is a
    request; one open request at a time."""
    Carer.objects.select_for_update().filter(pk=carer.pk).first()  # one request at a time
    if AssessmentRequest.objects.filter(carer=carer).exclude(
        status=AssessmentRequest.Status.COMPLETED
    ).exists():
        raise AssessmentRequestError("You have already asked for a carer's assessment.")
    request = AssessmentRequest.objects.create(carer=carer, note=note.strip())
    for coordinator, relationship in _coordinators_of(carer):
        notification_send(
            user=coordinator,
            text=f"{carer.name}, a carer of {relationship.service_user.name}, has asked for "
                 "a carer's assessment.",
            url_name="service_user_detail", url_args=[relationship.service_user_id],
        )
    return request


def _move(
    *, assessment_request: AssessmentRequest, moved_by: User, allowed_from: tuple[str, ...],
    to: str, date_field: str, action: str, carer_text: str,
) -> AssessmentRequest:
    request = (
        AssessmentRequest.objects.select_for_update(of=("self",))
        .select_related("carer__user").get(pk=assessment_request.pk)
    )
    if request.status not in allowed_from:
        raise AssessmentRequestError(
            f"This carer's assessment is marked as {request.get_status_display().lower()}, "
            f"so it cannot be marked as {AssessmentRequest.Status(to).label.lower()} now."
        )
    request.status = to
    setattr(request, date_field, timezone.localdate())
    request.save(update_fields=["status", date_field])
    access_event_record(
        actor=moved_by, action=action, target=f"assessment_request:{request.pk}",
        basis=str(CarerSpaceBasis.COORDINATOR),
    )
    if request.carer.user is not None:
        notification_send(user=request.carer.user, text=carer_text, url_name="carer_space")
    return request


@transaction.atomic
def assessment_request_offer(
    *, assessment_request: AssessmentRequest, offered_by: User
) -> AssessmentRequest:
    """The coordinator records that an assessment has been offered; the carer is told."""
    return _move(
        assessment_request=assessment_request, moved_by=offered_by,
        allowed_from=(AssessmentRequest.Status.REQUESTED,),
        to=AssessmentRequest.Status.OFFERED, date_field="offered_on",
        action="carer_assessment.offer",
        carer_text="You have been offered a carer's assessment. See your own space.",
    )


@transaction.atomic
def assessment_request_complete(
    *, assessment_request: AssessmentRequest, completed_by: User
) -> AssessmentRequest:
    """The coordinator records that the assessment has been done; the carer is told."""
    return _move(
        assessment_request=assessment_request, moved_by=completed_by,
        allowed_from=(AssessmentRequest.Status.OFFERED,),
        to=AssessmentRequest.Status.COMPLETED, date_field="completed_on",
        action="carer_assessment.complete",
        carer_text="Your carer's assessment is marked as done. See your own space.",
    )


# --- What I know helps ------------------------------------------------------------------


@transaction.atomic
def carer_insight_add(*, relationship: CarerRelationship, text: str) -> CarerInsight:
    """A carer tells the coordinator what they have learned helps the person they care
    for. The coordinators and the person themselves are told there is something to read."""
    insight = CarerInsight.objects.create(relationship=relationship, text=text.strip())
    service_user = relationship.service_user
    carer = relationship.carer
    for coordinator in User.objects.coordinating(service_user):
        notification_send(
            user=coordinator,
            text=f"{carer.name} ({relationship.relationship}) shared what they know helps "
                 f"{service_user.name}.",
            url_name="service_user_detail", url_args=[service_user.pk],
        )
    if service_user.user_id is not None:
        notification_send(
            user=service_user.user,
            text=f"{carer.name} shared what they know helps with your care coordinator. "
                 "You can read it.",
            url_name="carer_insight", url_args=[insight.pk],
        )
    return insight


@transaction.atomic
def carer_insight_mark_read(*, insight: CarerInsight) -> CarerInsight:
    """The service user has read what a carer shared about them."""
    if insight.read_by_service_user_at is None:
        insight.read_by_service_user_at = timezone.now()
        insight.save(update_fields=["read_by_service_user_at"])
    return insight


# --- Carers linked to a service user ---------------------------------------------------


@transaction.atomic
def carer_add(
    *,
    service_user: ServiceUser,
    added_by: User,
    full_name: str,
    relationship: str,
    email: str = "",
    phone: str = "",
) -> CarerRelationship:
    """Link a carer to a service user. A carer already known by email (someone caring
    for more than one person) keeps one record and one account."""
    email = email.strip().lower()
    carer = Carer.objects.filter(email__iexact=email).first() if email else None
    if carer is None:
        carer = Carer.objects.create(full_name=full_name, email=email, phone=phone)
    relationship_row, _ = CarerRelationship.objects.get_or_create(
        carer=carer, service_user=service_user, ended_on=None,
        defaults={"relationship": relationship, "added_by": added_by},
    )
    access_event_record(
        actor=added_by, service_user=service_user, action="carer.add",
        target=f"carer_relationship:{relationship_row.pk}", basis="allocated care coordinator",
    )
    return relationship_row


@transaction.atomic
def carer_relationship_end(*, relationship: CarerRelationship, ended_by: User) -> None:
    relationship.ended_on = timezone.localdate()
    relationship.save(update_fields=["ended_on"])
    # Consent withdraws every share with this carer, in this transaction.
    signals.carer_relationship_ended.send(sender=CarerRelationship, relationship=relationship,
                                          ended_by=ended_by)
    access_event_record(
        actor=ended_by, service_user=relationship.service_user, action="carer.end",
        target=f"carer_relationship:{relationship.pk}", basis="allocated care coordinator",
    )


def carer_account_link(*, invitation: Invitation, user: User) -> Carer:
    """Tie the carer's record to the account taking up their invitation (inside the
    invitation's transaction; records tell us through a signal). A carer record already
    tied to another account is never taken over."""
    carer = Carer.objects.select_for_update(no_key=True).get(
        pk=invitation.carer_relationship.carer_id
    )
    if carer.user_id is not None and carer.user_id != user.pk:
        raise InvitationUnusableError("account_exists")
    carer.user = user
    carer.save(update_fields=["user"])
    role_grant(user=user, role=Role.CARER)
    # Consent grants what was shared before they had an account, in this transaction.
    signals.carer_account_linked.send(sender=Carer, carer=carer)
    return carer


def carers_told_care_coordination_ended(*, episode: Episode) -> int:
    """When an episode ends, every carer with an active relationship is told that care
    coordination has ended and where support for them carries on — peer support and
    carer services — with no clinical detail (what was in the discharge plan is theirs
    to see only if it was shared with them). The email, as always, names nobody. Called
    in the transaction that ends the episode. Returns how many were told."""
    told = 0
    name = episode.service_user.name
    for relationship in (CarerRelationship.objects.active()
                         .filter(service_user_id=episode.service_user_id)
                         .select_related("carer__user")):
        if relationship.carer.user_id is None:
            continue
        notification_send(
            user=relationship.carer.user,
            text=f"Care coordination for {name} has ended. Support for you carries on: "
                 "peer support groups, carer services and your own carer's space.",
            url_name="peersupport_directory")
        told += 1
    return told
