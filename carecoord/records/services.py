"""Writes for people, records, episodes, allocations and invitations.

Each service is one transaction and records its own audit event inside it.
"""

from __future__ import annotations

import datetime as dt
import secrets
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from django.conf import settings
from django.contrib.auth.forms import PasswordResetForm
from django.contrib.auth.password_validation import validate_password
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records import signals
from carecoord.records.models import (
    STAFF_ROLES,
    Allocation,
    Episode,
    Invitation,
    InvitationKind,
    PossibleDuplicate,
    Role,
    ServiceUser,
    Team,
    User,
    UserRole,
)
from carecoord.web.site_url import absolute_url, site_url

if TYPE_CHECKING:
    from carers.models import CarerRelationship


class EditConflictError(Exception):
    """Someone else saved the same thing since this person opened it."""


class InvitationUnusableError(Exception):
    def __init__(self, status: str) -> None:
        super().__init__(status)
        self.status = status  # "expired", "accepted", "withdrawn" or "unknown"


# A professional's account: it can never become a service user's or a carer's (they use
# a personal account for that), so a professional cannot tie themselves to a record.


def is_staff_account(user: User) -> bool:
    return bool(user.is_staff or user.is_superuser or user.roles & STAFF_ROLES)


class SelfAccessError(Exception):
    """Nobody gives themselves a role or a place in a team: another administrator must."""


def role_grant(*, user: User, role: str, granted_by: User | None = None) -> None:
    """Give a role (an invitation taken up gives its own; `granted_by` then is None).
    Audited whoever does it."""
    _, created = UserRole.objects.get_or_create(user=user, role=role)
    user.__dict__.pop("roles", None)
    if created:
        access_event_record(
            actor=granted_by or user, action="role.grant", target=f"user:{user.pk}",
            basis=f"{Role(role).label}" + ("" if granted_by else ": invitation taken up"),
        )


@transaction.atomic
def user_role_grant(*, user: User, role: str, granted_by: User) -> None:
    """An administrator gives someone a role. Never themselves."""
    if granted_by.pk == user.pk:
        raise SelfAccessError("You cannot give yourself a role. Ask another administrator.")
    role_grant(user=user, role=role, granted_by=granted_by)


@transaction.atomic
def user_role_revoke(*, user: User, role: str, revoked_by: User) -> None:
    deleted, _ = UserRole.objects.filter(user=user, role=role).delete()
    user.__dict__.pop("roles", None)
    if deleted:
        access_event_record(actor=revoked_by, action="role.revoke", target=f"user:{user.pk}",
                            basis=f"{Role(role).label}")


TEAM_PLACES = {"manager": ("managers", Role.MANAGER), "coordinator": ("coordinators",
                                                                    Role.COORDINATOR)}


@transaction.atomic
def team_member_add(*, team: Team, user: User, place: str, added_by: User) -> None:
    """Add a manager or a care coordinator to a team: only someone who holds that role,
    and never oneself."""
    field, role = TEAM_PLACES[place]
    if added_by.pk == user.pk:
        raise SelfAccessError("You cannot add yourself to a team. Ask another administrator.")
    if not user.has_role(role):
        raise ValueError(f"{user.display_name} is not a {Role(role).label.lower()}.")
    getattr(team, field).add(user)
    access_event_record(actor=added_by, action=f"team.{place}_add", target=f"team:{team.pk}",
                        basis=f"user:{user.pk} {user.display_name}")


@transaction.atomic
def team_member_remove(*, team: Team, user: User, place: str, removed_by: User) -> None:
    field, _ = TEAM_PLACES[place]
    getattr(team, field).remove(user)
    access_event_record(actor=removed_by, action=f"team.{place}_remove",
                        target=f"team:{team.pk}", basis=f"user:{user.pk} {user.display_name}")


def user_account_change_record(*, user: User, changed_by: User, change: str) -> None:
    """An account created, or its access flags (active, staff, superuser) changed."""
    access_event_record(actor=changed_by, action="user.account_change",
                        target=f"user:{user.pk}", basis=change)


class _AnyAccountResetForm(PasswordResetForm):
    """Django's reset form, also for accounts that never had a password (an
    administrator creates accounts without one)."""

    def get_users(self, email: str):
        return User.objects.filter(email__iexact=email, is_active=True)


@transaction.atomic
def password_reset_link_send(*, user: User, sent_by: User) -> None:
    """An administrator never sets a password: they send the person a reset link, to the
    person's own address."""
    site = urlsplit(site_url())  # the address the administrator reached, not a fixed one
    form = _AnyAccountResetForm(data={"email": user.email})
    if not form.is_valid():
        raise ValueError("This account has no usable email address.")
    access_event_record(actor=sent_by, action="user.password_reset_link",
                        target=f"user:{user.pk}", basis="administrator")
    transaction.on_commit(lambda: form.save(
        domain_override=site.netloc, use_https=site.scheme == "https",
        subject_template_name="registration/password_reset_subject.txt",
        email_template_name="registration/password_reset_email.html",
    ))


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
    _possible_duplicates_record(service_user=service_user, recorded_by=created_by)
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
    old_email, old_nhs_number = current.email, current.nhs_number
    old_preferred = current.preferred_name
    for field, value in changes.items():
        setattr(current, field, value)
    current.version += 1
    current.full_clean()
    current.save()
    access_event_record(
        actor=changed_by, service_user=current, action="service_user.update",
        target=f"service_user:{current.pk}", basis=basis,
    )
    if current.preferred_name != old_preferred and current.user_id is not None:
        # The name they asked to be called is theirs everywhere: the account greets them
        # by the record's name once it changes (ADR 0020).
        User.objects.filter(pk=current.user_id).update(
            preferred_name=current.preferred_name[:100])
    if current.nhs_number != old_nhs_number:
        _possible_duplicates_record(service_user=current, recorded_by=changed_by)
    if current.email.strip().lower() != old_email.strip().lower():
        _record_email_changed(service_user=current, changed_by=changed_by,
                              old_email=old_email, basis=basis)
    return current


def _possible_duplicates_record(*, service_user: ServiceUser, recorded_by: User) -> None:
    """Another record holds this NHS number: record it for the managers of both records'
    teams, and tell them. The person saving is told nothing different (their form saves
    the same either way), so no coordinator can learn from a form who is a patient."""
    if not service_user.nhs_number:
        return
    others = list(
        ServiceUser.objects.filter(nhs_number=service_user.nhs_number)
        .exclude(pk=service_user.pk).select_related("team")
    )
    for other in others:
        duplicate = PossibleDuplicate.objects.create(
            service_user=service_user, other=other, nhs_number=service_user.nhs_number,
            recorded_by=recorded_by,
        )
        access_event_record(
            actor=recorded_by, service_user=service_user, action="service_user.possible_duplicate",
            target=f"possible_duplicate:{duplicate.pk}", basis="NHS number held by another record",
        )
        teams = {service_user.team_id: service_user.team, other.team_id: other.team}
        managers = User.objects.filter(
            managed_teams__in=list(teams), role_grants__role=Role.MANAGER, is_active=True
        ).distinct()
        for manager in managers:
            team_id = (service_user.team_id if manager.managed_teams.filter(
                pk=service_user.team_id).exists() else other.team_id)
            notification_send(
                user=manager,
                text="Two records may be the same person: they have the same NHS number. "
                     "Check them on your team's page.",
                url_name="team_detail", url_args=[team_id],
            )


@transaction.atomic
def possible_duplicate_resolve(*, duplicate: PossibleDuplicate, resolved_by: User) -> None:
    """A manager has checked the two records and dealt with it."""
    duplicate.resolved_at = timezone.now()
    duplicate.resolved_by = resolved_by
    duplicate.save(update_fields=["resolved_at", "resolved_by"])
    access_event_record(
        actor=resolved_by, service_user=duplicate.service_user,
        action="service_user.possible_duplicate_resolve",
        target=f"possible_duplicate:{duplicate.pk}", basis="team manager",
    )


def _record_email_changed(
    *, service_user: ServiceUser, changed_by: User, old_email: str, basis: str
) -> None:
    """The address invitations go to has changed: audited on its own, links sent to the
    old address stop working, and the person hears of it (when staff changed it) on their
    account and at the old address. The email names no clinical content."""
    now = timezone.now()
    Invitation.objects.filter(
        service_user=service_user, kind=InvitationKind.SERVICE_USER,
        accepted_at__isnull=True, withdrawn_at__isnull=True,
    ).update(withdrawn_at=now)
    access_event_record(
        actor=changed_by, service_user=service_user, action="service_user.email_change",
        target=f"service_user:{service_user.pk}", basis=basis,
    )
    if changed_by.pk is not None and changed_by.pk == service_user.user_id:
        return  # they changed it themselves
    if service_user.user_id is not None:
        notification_send(
            user=service_user.user,
            text=f"{changed_by.display_name} changed the email address on your record. If "
                 "you did not expect this, tell your care team.",
            url_name="service_user_detail", url_args=[service_user.pk],
        )
    if old_email:
        body = render_to_string("carecoord/emails/email_changed.txt",
                                {"site": site_url()})
        transaction.on_commit(lambda: send_mail(
            "The email address for your care coordination has changed", body, None,
            [old_email],
        ))


@transaction.atomic
def team_settings_update(*, team: Team, changed_by: User, basis: str = "team manager",
                         **settings_: int) -> Team:
    """A team's thresholds for prompts and reminders (its managers decide, or an
    administrator in the administration area: `basis` says which)."""
    for field, value in settings_.items():
        setattr(team, field, value)
    team.full_clean()
    team.save(update_fields=list(settings_))
    access_event_record(actor=changed_by, action="team.settings", target=f"team:{team.pk}",
                        basis=basis)
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
    allocation = Allocation.objects.create(
        episode=episode, coordinator=coordinator, started_on=started_on, allocated_by=allocated_by
    )
    _record_access_granted(allocation=allocation, granted_by=allocated_by)
    return episode


def _record_access_granted(*, allocation: Allocation, granted_by: User) -> None:
    """An allocation opens the record to the coordinator: said on the record's own trail,
    so the person sees it under "who has looked at your record" and the team's managers
    in the access report."""
    access_event_record(
        actor=granted_by, service_user=allocation.episode.service_user,
        action="record_access.grant", target=f"allocation:{allocation.pk}",
        basis=f"{allocation.coordinator.display_name} given access as care coordinator",
    )


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
    allocation, created = Allocation.objects.get_or_create(
        episode=episode, coordinator=coordinator, ended_on=None,
        defaults={"allocated_by": allocated_by},
    )
    if created:
        _record_access_granted(allocation=allocation, granted_by=allocated_by)
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
    # The address the coordinator reached (a demo on another port links to that port).
    link = absolute_url(reverse("invitation_accept", args=[token]))
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
    *, token: str, password: str | None, full_name: str, signed_in_user: User | None = None,
    preferred_name: str = "",
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
    if user is not None and is_staff_account(user):
        # A professional never becomes the service user of a record, nor a carer: else a
        # coordinator could put their own address on a record and take it over.
        raise InvitationUnusableError("staff_account")
    if user is None:
        if User.objects.filter(email__iexact=invitation.email).exists():
            raise InvitationUnusableError("account_exists")
        user = User(email=invitation.email.lower(), full_name=full_name,
                    preferred_name=preferred_name.strip())
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
        # Greet them by the name on their record unless they told us another.
        if not user.preferred_name and service_user.preferred_name:
            user.preferred_name = service_user.preferred_name[:100]
            user.save(update_fields=["preferred_name"])
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
