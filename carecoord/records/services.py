"""Writes for people, records, episodes, allocations and invitations.

Each service is one transaction and records its own audit event inside it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING

from django.conf import settings
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.records import signals
from carecoord.records.models import (
    Allocation,
    Episode,
    Invitation,
    InvitationKind,
    Role,
    ServiceUser,
    Team,
    User,
    UserRole,
)

if TYPE_CHECKING:
    from carers.models import CarerRelationship


class EditConflictError(Exception):
    """Someone else saved the same thing since this person opened it."""


class InvitationUnusableError(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status  # "expired", "accepted", "withdrawn" or "unknown"


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
    after_discharge_contacts: str | None = None,
) -> Episode:
    episode = Episode.objects.select_for_update(no_key=True).get(pk=episode.pk)
    was_open = episode.is_open
    episode.planned_end_on = planned_end_on
    episode.discharged_on = discharged_on
    episode.discharge_plan = discharge_plan
    if after_discharge_contacts is not None:
        episode.after_discharge_contacts = after_discharge_contacts
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
    signals.episode_changed.send(sender=Episode, episode=episode, changed_by=changed_by,
                                 ended=bool(was_open and discharged_on))
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
    signals.episode_changed.send(sender=Episode, episode=episode, changed_by=started_by,
                                 ended=False)
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
        # The carers app links the carer's record to this account (records sit below it).
        signals.carer_invitation_accepted.send(sender=Invitation, invitation=invitation,
                                               user=user)

    invitation.accepted_at = timezone.now()
    invitation.accepted_by = user
    invitation.save(update_fields=["accepted_at", "accepted_by"])
    access_event_record(
        actor=user, service_user=invitation.service_user, action="invitation.accept",
        target=f"invitation:{invitation.pk}", basis="invitation link",
    )
    return user
