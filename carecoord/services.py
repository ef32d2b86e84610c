"""Writes for people, records, episodes, allocations and invitations.

Each service is one transaction and records its own audit event inside it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import models, transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carecoord.models import (
    GENESIS_HASH,
    AccessEvent,
    Allocation,
    AuditChainHead,
    Episode,
    Invitation,
    InvitationKind,
    Notification,
    Role,
    ServiceUser,
    Team,
    User,
    UserRole,
)
from carecoord.request_context import current_ip_address
from carers.models import Carer, CarerRelationship


class EditConflictError(Exception):
    """Someone else saved the same thing since this person opened it."""


class InvitationUnusableError(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status  # "expired", "accepted", "withdrawn" or "unknown"


# --- Audit ----------------------------------------------------------------------------


def access_event_record(
    *,
    actor: User | None,
    action: str,
    target: str,
    basis: str,
    service_user: ServiceUser | None = None,
    ip_address: str | None = None,
) -> AccessEvent:
    """Append one event to the hash chain."""
    (event,) = access_events_record(
        actor=actor, action=action, service_user=service_user, ip_address=ip_address,
        targets=[(target, basis)],
    )
    return event


@transaction.atomic
def access_events_record(
    *,
    actor: User | None,
    action: str,
    targets: list[tuple[str, str]],
    service_user: ServiceUser | None = None,
    ip_address: str | None = None,
) -> list[AccessEvent]:
    """Append one event per (target, basis) to the hash chain, in three queries however
    many there are (a carer's page reads many items at once). The chain head row is
    locked so that concurrent writers on several machines queue up rather than fork."""
    if not targets:
        return []
    head, _ = AuditChainHead.objects.select_for_update().get_or_create(
        pk=1, defaults={"last_seq": 0, "last_hash": GENESIS_HASH}
    )
    occurred_at = timezone.now()
    ip_address = ip_address if ip_address is not None else current_ip_address.get()
    events, seq, prev_hash = [], head.last_seq, head.last_hash
    for target, basis in targets:
        seq += 1
        event = AccessEvent(
            seq=seq, occurred_at=occurred_at, actor=actor, service_user=service_user,
            action=action, target=target, basis=str(basis), ip_address=ip_address,
            prev_hash=prev_hash,
        )
        event.hash = prev_hash = event.compute_hash()
        events.append(event)
    # The model's manager refuses bulk writes to everyone else; this is the audit service.
    models.QuerySet.bulk_create(AccessEvent.objects.all(), events)
    head.last_seq, head.last_hash = seq, prev_hash
    head.save(update_fields=["last_seq", "last_hash"])
    return events


@dataclass(frozen=True)
class ChainBreak:
    seq: int
    reason: str


def audit_chain_verify() -> ChainBreak | None:
    """Walk the chain in order; return the first broken link, or None if it is whole."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    for event in AccessEvent.objects.order_by("seq").iterator(chunk_size=2000):
        if event.seq != expected_seq:
            return ChainBreak(expected_seq, f"event #{expected_seq} is missing")
        if event.prev_hash != expected_prev:
            return ChainBreak(event.seq, "its link to the previous event does not match")
        if event.compute_hash() != event.hash:
            return ChainBreak(event.seq, "its content does not match its hash")
        expected_prev = event.hash
        expected_seq += 1
    head = AuditChainHead.objects.filter(pk=1).first()
    if head and head.last_seq != expected_seq - 1:
        return ChainBreak(expected_seq, "events at the end of the chain are missing")
    if head and head.last_hash != expected_prev:
        return ChainBreak(expected_seq - 1, "the last event does not match the chain head")
    return None


# --- Notifications --------------------------------------------------------------------


def notification_send(*, user: User, text: str, url_name: str = "",
                      url_args: list | None = None) -> Notification:
    """An in-app notification, and an email saying only that there is something new and
    where to sign in: the email names nobody and holds no clinical content."""
    url = reverse(url_name, args=url_args or []) if url_name else ""
    notification = Notification.objects.create(user=user, text=text, url=url)
    body = render_to_string(
        "carecoord/emails/notification.txt",
        {"link": settings.SITE_URL.rstrip("/") + (url or "/")},
    )
    transaction.on_commit(
        lambda: send_mail("New information in care coordination", body, None, [user.email])
    )
    return notification


@transaction.atomic
def notifications_mark_read(*, user: User) -> int:
    return Notification.objects.filter(user=user, read_at__isnull=True).update(
        read_at=timezone.now()
    )


# --- People ---------------------------------------------------------------------------


def role_grant(*, user: User, role: str) -> None:
    UserRole.objects.get_or_create(user=user, role=role)
    user.__dict__.pop("roles", None)


@transaction.atomic
def service_user_create(
    *,
    created_by: User,
    team: Team,
    started_on: dt.date,
    planned_end_on: dt.date,
    **details: object,
) -> ServiceUser:
    """A new record, its first episode of care, and the creator allocated to it."""
    service_user = ServiceUser(team=team, **details)
    service_user.full_clean()
    service_user.save()
    _episode_open(service_user=service_user, started_on=started_on,
                  planned_end_on=planned_end_on, coordinator=created_by, allocated_by=created_by)
    access_event_record(
        actor=created_by, service_user=service_user, action="service_user.create",
        target=f"service_user:{service_user.pk}", basis="care coordinator in the team",
    )
    return service_user


@transaction.atomic
def service_user_update(
    *, service_user: ServiceUser, changed_by: User, expected_version: int, basis: str,
    **changes: object,
) -> ServiceUser:
    """Save changes only if nobody else saved since `expected_version` was read. The lock
    is FOR NO KEY UPDATE so that concurrent audit writes naming this record don't
    deadlock with it."""
    current = ServiceUser.objects.select_for_update(no_key=True).get(pk=service_user.pk)
    if current.version != expected_version:
        raise EditConflictError
    for field, value in changes.items():
        setattr(current, field, value)
    current.version += 1
    current.full_clean()
    current.save()
    access_event_record(
        actor=changed_by, service_user=current, action="service_user.update",
        target=f"service_user:{current.pk}", basis=basis,
    )
    return current


@transaction.atomic
def team_settings_update(*, team: Team, changed_by: User, **settings_: int) -> Team:
    """A team's thresholds for prompts and reminders (its managers decide)."""
    for field, value in settings_.items():
        setattr(team, field, value)
    team.full_clean()
    team.save(update_fields=list(settings_))
    access_event_record(actor=changed_by, action="team.settings", target=f"team:{team.pk}",
                        basis="team manager")
    return team


# --- Episodes and allocations ---------------------------------------------------------


def _episode_open(
    *, service_user: ServiceUser, started_on: dt.date, planned_end_on: dt.date,
    coordinator: User, allocated_by: User,
) -> Episode:
    episode = Episode(
        service_user=service_user, started_on=started_on, planned_end_on=planned_end_on
    )
    episode.full_clean()
    episode.save()
    Allocation.objects.create(
        episode=episode, coordinator=coordinator, started_on=started_on, allocated_by=allocated_by
    )
    return episode


@transaction.atomic
def episode_update(
    *,
    episode: Episode,
    changed_by: User,
    planned_end_on: dt.date,
    discharged_on: dt.date | None,
    discharge_plan: str,
) -> Episode:
    episode = Episode.objects.select_for_update(no_key=True).get(pk=episode.pk)
    was_open = episode.is_open
    episode.planned_end_on = planned_end_on
    episode.discharged_on = discharged_on
    episode.discharge_plan = discharge_plan
    episode.full_clean()
    episode.save()
    if was_open and discharged_on is not None:
        # Discharge ends the coordination: allocations end with it.
        episode.allocations.filter(ended_on__isnull=True).update(ended_on=discharged_on)
    access_event_record(
        actor=changed_by, service_user=episode.service_user,
        action="episode.discharge" if was_open and discharged_on else "episode.update",
        target=f"episode:{episode.pk}", basis="allocated care coordinator",
    )
    return episode


@transaction.atomic
def episode_start(
    *,
    service_user: ServiceUser,
    started_by: User,
    started_on: dt.date,
    planned_end_on: dt.date,
    coordinator: User,
) -> Episode:
    """A new episode for someone whose previous one has ended (a re-referral)."""
    episode = _episode_open(service_user=service_user, started_on=started_on,
                            planned_end_on=planned_end_on, coordinator=coordinator,
                            allocated_by=started_by)
    access_event_record(
        actor=started_by, service_user=service_user, action="episode.start",
        target=f"episode:{episode.pk}", basis="team manager",
    )
    return episode


@transaction.atomic
def allocation_create(
    *, episode: Episode, coordinator: User, allocated_by: User, basis: str
) -> Allocation:
    allocation, _ = Allocation.objects.get_or_create(
        episode=episode, coordinator=coordinator, ended_on=None,
        defaults={"allocated_by": allocated_by},
    )
    access_event_record(
        actor=allocated_by, service_user=episode.service_user, action="allocation.create",
        target=f"allocation:{allocation.pk}", basis=basis,
    )
    return allocation


@transaction.atomic
def allocation_end(*, allocation: Allocation, ended_by: User, basis: str) -> Allocation:
    allocation.ended_on = timezone.localdate()
    allocation.save(update_fields=["ended_on"])
    access_event_record(
        actor=ended_by, service_user=allocation.episode.service_user, action="allocation.end",
        target=f"allocation:{allocation.pk}", basis=basis,
    )
    return allocation


# --- Carers ---------------------------------------------------------------------------


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
    # Imported here: consent's services build on this module (audit, notifications).
    from consent.services import consent_relationship_ended

    consent_relationship_ended(relationship=relationship, ended_by=ended_by)
    access_event_record(
        actor=ended_by, service_user=relationship.service_user, action="carer.end",
        target=f"carer_relationship:{relationship.pk}", basis="allocated care coordinator",
    )


# --- Invitations ----------------------------------------------------------------------


@transaction.atomic
def invitation_create(
    *,
    invited_by: User,
    service_user: ServiceUser,
    carer_relationship: CarerRelationship | None = None,
) -> tuple[Invitation, str]:
    """Create a one-time link and email it. Returns the invitation and the raw token
    (only its hash is stored). Any earlier pending link for the same person stops working."""
    if carer_relationship is not None:
        kind, email = InvitationKind.CARER, carer_relationship.carer.email
        earlier = Invitation.objects.filter(carer_relationship=carer_relationship)
    else:
        kind, email = InvitationKind.SERVICE_USER, service_user.email
        earlier = Invitation.objects.filter(service_user=service_user, kind=kind)
    if not email:
        raise ValueError("An email address is needed to send an invitation.")
    now = timezone.now()
    earlier.filter(accepted_at__isnull=True, withdrawn_at__isnull=True).update(withdrawn_at=now)
    token = secrets.token_urlsafe(32)
    invitation = Invitation.objects.create(
        kind=kind,
        email=email,
        service_user=service_user,
        carer_relationship=carer_relationship,
        token_hash=Invitation.hash_token(token),
        invited_by=invited_by,
        created_at=now,
        expires_at=now + dt.timedelta(days=settings.INVITATION_VALID_DAYS),
    )
    access_event_record(
        actor=invited_by, service_user=service_user, action="invitation.create",
        target=f"invitation:{invitation.pk}", basis="allocated care coordinator",
    )
    link = settings.SITE_URL.rstrip("/") + reverse("invitation_accept", args=[token])
    # Emails carry no clinical content: who invited them and the link, nothing more.
    body = render_to_string(
        "carecoord/emails/invitation.txt",
        {"invitation": invitation, "link": link, "inviter": invited_by,
         "valid_days": settings.INVITATION_VALID_DAYS},
    )
    transaction.on_commit(
        lambda: send_mail("You have been invited to care coordination", body, None, [email])
    )
    return invitation, token


def invitation_by_token(token: str) -> Invitation:
    """The invitation behind a link, if it can still be used; otherwise say why not."""
    invitation = (
        Invitation.objects.select_related("service_user", "carer_relationship__carer")
        .filter(token_hash=Invitation.hash_token(token))
        .first()
    )
    if invitation is None:
        raise InvitationUnusableError("unknown")
    if invitation.status != "pending":
        raise InvitationUnusableError(invitation.status)
    return invitation


@transaction.atomic
def invitation_accept(
    *, token: str, password: str | None, full_name: str, signed_in_user: User | None = None
) -> User:
    """Use a link once: set up (or link) the account and tie it to the record or
    relationship. Locks the invitation so two tabs cannot both use it."""
    invitation = invitation_by_token(token)
    invitation = Invitation.objects.select_for_update(no_key=True).get(pk=invitation.pk)
    if invitation.status != "pending":
        raise InvitationUnusableError(invitation.status)

    user = signed_in_user
    if user is not None and user.email.lower() != invitation.email.lower():
        # The link was sent to someone else's address: never tie it to this account.
        raise InvitationUnusableError("wrong_account")
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationUnusableError("account_exists")
        user = User(email=invitation.email.lower(), full_name=full_name)
        validate_password(password, user)
        user.set_password(password)
        user.save()

    if invitation.kind == InvitationKind.SERVICE_USER:
        service_user = ServiceUser.objects.select_for_update(no_key=True).get(
            pk=invitation.service_user_id
        )
        service_user.user = user
        service_user.save(update_fields=["user"])
        role_grant(user=user, role=Role.SERVICE_USER)
    else:
        carer = Carer.objects.select_for_update(no_key=True).get(
            pk=invitation.carer_relationship.carer_id
        )
        if carer.user_id is not None and carer.user_id != user.pk:
            raise InvitationUnusableError("account_exists")
        carer.user = user
        carer.save(update_fields=["user"])
        role_grant(user=user, role=Role.CARER)
        # Imported here: consent's services build on this module (audit, notifications).
        from consent.services import consent_sync_carer

        consent_sync_carer(carer=carer)  # what was shared before they had an account

    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    access_event_record(
        actor=user, service_user=invitation.service_user, action="invitation.accept",
        target=f"invitation:{invitation.pk}", basis="invitation link",
    )
    return user
