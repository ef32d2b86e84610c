"""Writes for the carer's own space: needs, wellbeing check-ins, carer's assessment
requests and "What I know helps".

Each service is one transaction. What a care coordinator does to a carer's information
is written to the audit trail inside it; notifications say only that something happened
and where to look (their emails carry no content at all).
"""

from __future__ import annotations

from collections.abc import Iterable

from django.db import transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records.models import Episode, Invitation, Role, ServiceUser, User
from carecoord.records.services import InvitationUnusableError, role_grant
from carecoord.records.sessions import end_all_sessions
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


def _own_active(carer: Carer, relationships) -> list[CarerRelationship]:
    """The given relationships that are this carer's own and active: a carer shares only
    through their own relationships, never someone else's or one not yet accepted."""
    ids = [r.pk for r in relationships]
    return list(CarerRelationship.objects.active().filter(carer=carer, pk__in=ids)
                .select_related("service_user"))


@transaction.atomic
def carer_needs_save(
    *, carer: Carer, own_needs: str, support_wanted: str,
    shared_with: Iterable[CarerRelationship] = (),
) -> CarerNeeds:
    """Save the carer's needs and the support they would like, and the people whose care
    coordinators may see them (none, one, or several: the carer chooses each)."""
    needs = CarerNeeds.objects.select_for_update().filter(carer=carer).first()
    if needs is None:
        needs = CarerNeeds(carer=carer)
    needs.own_needs = own_needs.strip()
    needs.support_wanted = support_wanted.strip()
    needs.save()
    needs.shared_with.set(_own_active(carer, shared_with))
    return needs


@transaction.atomic
def wellbeing_check_in_record(
    *, carer: Carer, coping: int, words: str = "",
    shared_with: Iterable[CarerRelationship] = (),
) -> WellbeingCheckIn:
    if not 0 <= coping <= 10:
        raise ValueError("How a carer is coping is a number from 0 to 10.")
    check_in = WellbeingCheckIn.objects.create(carer=carer, coping=coping, words=words.strip())
    check_in.shared_with.set(_own_active(carer, shared_with))
    return check_in


@transaction.atomic
def wellbeing_check_in_share(
    *, check_in: WellbeingCheckIn, shared: bool,
    relationship: CarerRelationship | None = None,
) -> WellbeingCheckIn:
    """The carer shares one check-in with one person's care coordinators, or stops
    sharing it (with that person, or with everyone when none is named)."""
    if shared:
        if relationship is None:
            raise ValueError("Choose whose care coordinator to share it with.")
        check_in.shared_with.add(*_own_active(check_in.carer, [relationship]))
    elif relationship is None:
        check_in.shared_with.clear()
    else:
        check_in.shared_with.remove(relationship)
    return check_in


# --- Carer's assessment -----------------------------------------------------------------


def _coordinators_of(relationships: list[CarerRelationship]
                     ) -> list[tuple[User, CarerRelationship]]:
    """The allocated care coordinators of the person in each of these relationships."""
    result = []
    for relationship in relationships:
        for coordinator in User.objects.coordinating(relationship.service_user):
            result.append((coordinator, relationship))
    return result


@transaction.atomic
def assessment_request_create(
    *, carer: Carer, shared_with: Iterable[CarerRelationship], note: str = ""
) -> AssessmentRequest:
    """The carer asks for a carer's assessment, through the relationships they choose:
    those people's coordinators are told there is a request (nobody else's); one open
    request at a time."""
    relationships = _own_active(carer, shared_with)
    if not relationships:
        raise AssessmentRequestError("Choose whose care coordinator to ask.")
    Carer.objects.select_for_update().filter(pk=carer.pk).first()  # one request at a time
    if AssessmentRequest.objects.filter(carer=carer).exclude(
        status=AssessmentRequest.Status.COMPLETED
    ).exists():
        raise AssessmentRequestError("You have already asked for a carer's assessment.")
    request = AssessmentRequest.objects.create(carer=carer, note=note.strip())
    request.shared_with.set(relationships)
    for coordinator, relationship in _coordinators_of(relationships):
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


class CarerOfferError(Exception):
    """This offer cannot be answered (it was already answered, or withdrawn)."""


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
    for more than one person, perhaps known to another team) keeps one record and one
    account, and the relationship is only *offered* to them: it gives nobody anything
    until they accept it (security issue 13; ADR 0009). A new carer is linked at once:
    they have no account or private space yet, and their invitation binds them."""
    email = email.strip().lower()
    carer = (Carer.objects.select_for_update(no_key=True).filter(email__iexact=email).first()
             if email else None)
    status = CarerRelationship.Status.OFFERED
    if carer is None:
        carer = Carer.objects.create(full_name=full_name, email=email, phone=phone)
        status = CarerRelationship.Status.ACTIVE
    relationship_row = CarerRelationship.objects.open().filter(
        carer=carer, service_user=service_user).first()
    if relationship_row is None:
        relationship_row = CarerRelationship.objects.create(
            carer=carer, service_user=service_user, relationship=relationship,
            added_by=added_by, status=status,
        )
        if relationship_row.is_offered and carer.user_id is not None:
            notification_send(
                user=carer.user,
                text=f"{added_by.display_name}, a care coordinator, has asked to add you as "
                     f"a carer of {service_user.name}. You can accept or decline on your "
                     "home page.",
                url_name="home",
            )
    access_event_record(
        actor=added_by, service_user=service_user,
        action="carer.offer" if relationship_row.is_offered else "carer.add",
        target=f"carer_relationship:{relationship_row.pk}", basis="allocated care coordinator",
    )
    return relationship_row


def _offer_for_update(relationship: CarerRelationship) -> CarerRelationship:
    row = (CarerRelationship.objects.select_for_update(no_key=True, of=("self",))
           .select_related("service_user", "carer").get(pk=relationship.pk))
    if not row.is_offered:
        raise CarerOfferError("This has already been answered.")
    return row


@transaction.atomic
def carer_offer_accept(*, relationship: CarerRelationship, accepted_by: User) -> CarerRelationship:
    """The carer accepts: from now on the relationship is active (and only now do the
    person's care coordinators see anything the carer shares through it)."""
    row = _offer_for_update(relationship)
    row.status = CarerRelationship.Status.ACTIVE
    row.responded_at = timezone.now()
    row.save(update_fields=["status", "responded_at"])
    access_event_record(actor=accepted_by, service_user=row.service_user,
                        action="carer.offer_accept", target=f"carer_relationship:{row.pk}",
                        basis="the carer")
    for coordinator in User.objects.coordinating(row.service_user):
        notification_send(
            user=coordinator,
            text=f"{row.carer.name} accepted being a carer of {row.service_user.name}.",
            url_name="service_user_detail", url_args=[row.service_user_id],
        )
    # Consent grants what the service user already shared with this carer, if anything.
    signals.carer_account_linked.send(sender=Carer, carer=row.carer)
    return row


@transaction.atomic
def carer_offer_decline(*, relationship: CarerRelationship, declined_by: User
                        ) -> CarerRelationship:
    """The carer declines: the offer ends and gives nobody anything."""
    row = _offer_for_update(relationship)
    row.status = CarerRelationship.Status.DECLINED
    row.responded_at = timezone.now()
    row.ended_on = timezone.localdate()
    row.save(update_fields=["status", "responded_at", "ended_on"])
    access_event_record(actor=declined_by, service_user=row.service_user,
                        action="carer.offer_decline", target=f"carer_relationship:{row.pk}",
                        basis="the carer")
    for coordinator in User.objects.coordinating(row.service_user):
        notification_send(
            user=coordinator,
            text=f"{row.carer.name} declined being added as a carer of "
                 f"{row.service_user.name}.",
            url_name="service_user_detail", url_args=[row.service_user_id],
        )
    return row


@transaction.atomic
def carer_relationship_end(*, relationship: CarerRelationship, ended_by: User) -> None:
    relationship.ended_on = timezone.localdate()
    relationship.save(update_fields=["ended_on"])
    carer_user = relationship.carer.user
    if carer_user is not None:
        # Whatever the carer has open (a page of what was shared) stops with the
        # relationship: every session of theirs ends, once this change is saved.
        transaction.on_commit(lambda: end_all_sessions(carer_user))
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
    relationship = CarerRelationship.objects.select_for_update(no_key=True).get(
        pk=invitation.carer_relationship_id)
    if relationship.ended_on is not None:
        raise InvitationUnusableError("withdrawn")
    if relationship.is_offered:
        # Taking up the link sent for this relationship is accepting it.
        relationship.status = CarerRelationship.Status.ACTIVE
        relationship.responded_at = timezone.now()
        relationship.save(update_fields=["status", "responded_at"])
    carer.user = user
    carer.save(update_fields=["user"])
    role_grant(user=user, role=Role.CARER)
    # Greet them by the name on their carer record unless they told us another.
    if not user.preferred_name and carer.preferred_name:
        user.preferred_name = carer.preferred_name[:100]
        user.save(update_fields=["preferred_name"])
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
