"""Writes of the administration area: teams, staff accounts, their roles and team places.

Each is one transaction, asks the policy first that the person acting is an
administrator (the pages already answer 404 to everyone else: this is the second lock),
and writes its audit event inside the transaction. Nobody changes their own account
here, and the last administrator can neither be disabled nor lose the role.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.conf import settings
from django.core.exceptions import PermissionDenied
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Count
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.encoding import force_bytes
from django.utils.http import urlsafe_base64_encode

from carecoord import freshness
from carecoord.administration.tokens import staff_invitation_tokens
from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records import services as records_services
from carecoord.records.models import Allocation, Role, Team, User, UserRole
from carecoord.records.services import TEAM_PLACES, SelfAccessError
from carecoord.records.sessions import end_all_sessions
from consent import policy

# The roles given here. A service user's or a carer's role comes only from the invitation
# they take up themselves (carecoord/records), never from an administrator.
STAFF_AREA_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.PROFESSIONAL, Role.ADMIN)

BASIS = "administrator"


class AdministrationError(Exception):
    """A change the administration area refuses, with the reason in plain words."""


class LastAdministratorError(AdministrationError):
    pass


class EmailInUseError(AdministrationError):
    pass


def _require_administrator(actor: User) -> None:
    if not policy.can_administer(actor):
        raise PermissionDenied


def _not_self(*, user: User, actor: User, message: str) -> None:
    if user.pk == actor.pk:
        raise SelfAccessError(message)


def _keep_an_administrator(*, user: User, actor: User) -> None:
    """Refuse the change if `user` is the last active administrator. The administrators'
    rows are locked first, so two administrators disabling (or demoting) each other at
    the same moment queue up here, and the second then sees that they are no longer an
    administrator themselves."""
    admins = {admin.pk for admin in
              policy.administrators(User.objects.select_for_update()).order_by("pk")}
    if actor.pk not in admins:
        raise PermissionDenied
    if user.pk in admins and not admins - {user.pk}:
        raise LastAdministratorError(
            f"{user.display_name} is the only administrator. Make someone else an "
            "administrator first.")


# --- Teams --------------------------------------------------------------------------------


def _managers_set(*, team: Team, managers: Iterable[User], changed_by: User) -> None:
    wanted = {user.pk: user for user in managers}
    current = {user.pk: user for user in team.managers.all()}
    for pk in wanted.keys() - current.keys():
        records_services.team_member_add(team=team, user=wanted[pk], place="manager",
                                         added_by=changed_by)
    for pk in current.keys() - wanted.keys():
        records_services.team_member_remove(team=team, user=current[pk], place="manager",
                                            removed_by=changed_by)


@transaction.atomic
def team_create(*, name: str, managers: Iterable[User], created_by: User,
                **thresholds: int) -> Team:
    """A new team, its managers, and its prompt and reminder settings (through the same
    service as the managers' own settings page)."""
    _require_administrator(created_by)
    team = Team(name=name.strip())
    team.full_clean()
    team.save()
    access_event_record(actor=created_by, action="team.create", target=f"team:{team.pk}",
                        basis=f"{BASIS}: {team.name}")
    _managers_set(team=team, managers=managers, changed_by=created_by)
    if thresholds:
        records_services.team_settings_update(team=team, changed_by=created_by, basis=BASIS,
                                              **thresholds)
    return team


@transaction.atomic
def team_update(*, team: Team, name: str, managers: Iterable[User], changed_by: User,
                **thresholds: int) -> Team:
    """A team's name, managers and settings. Only what changed is written and audited."""
    _require_administrator(changed_by)
    team = Team.objects.select_for_update().get(pk=team.pk)
    name = name.strip()
    if name != team.name:
        old_name, team.name = team.name, name
        team.full_clean()
        team.save(update_fields=["name"])
        access_event_record(actor=changed_by, action="team.rename", target=f"team:{team.pk}",
                            basis=f"{BASIS}: {old_name} → {name}"[:200])
    _managers_set(team=team, managers=managers, changed_by=changed_by)
    changed = {field: value for field, value in thresholds.items()
               if getattr(team, field) != value}
    if changed:
        records_services.team_settings_update(team=team, changed_by=changed_by, basis=BASIS,
                                              **changed)
    return team


# --- Staff accounts -----------------------------------------------------------------------


def _invitation_send(user: User, invited_by: User) -> None:
    uid = urlsafe_base64_encode(force_bytes(user.pk))
    token = staff_invitation_tokens.make_token(user)
    link = settings.SITE_URL.rstrip("/") + reverse("staff_invitation_accept",
                                                   args=[uid, token])
    body = render_to_string("administration/emails/staff_invitation.txt", {
        "user": user, "inviter": invited_by, "link": link,
        "valid_days": settings.INVITATION_VALID_DAYS,
    })
    email = user.email
    transaction.on_commit(lambda: send_mail(
        "You have been invited to care coordination", body, None, [email]))


@transaction.atomic
def staff_invite(*, email: str, full_name: str, roles: Iterable[str],
                 invited_by: User) -> User:
    """A new staff account with its roles, and an email with a one-time link to choose a
    password (then the sign-in asks them to set up two-factor).

    Only ever a new account: an address that already has one (a service user's, a
    carer's, anyone's) is refused, so an invitation can never hand an existing account
    to someone else, nor turn a service user's account into a professional's."""
    _require_administrator(invited_by)
    email = User.objects.normalize_email(email.strip()).lower()
    roles = [Role(role) for role in roles]
    if not roles or any(role not in STAFF_AREA_ROLES for role in roles):
        raise AdministrationError("Choose at least one role from the list.")
    if User.objects.filter(email__iexact=email).exists():
        raise EmailInUseError(
            "This email address already has an account. Invite staff with their work "
            "email address.")
    try:
        with transaction.atomic():  # a savepoint: another administrator may be quicker
            user = User.objects.create_user(email, None, full_name=full_name.strip())
    except IntegrityError as error:
        raise EmailInUseError("This email address already has an account.") from error
    access_event_record(actor=invited_by, action="staff.invite", target=f"user:{user.pk}",
                        basis=f"{BASIS}: " + ", ".join(role.label for role in roles))
    for role in roles:
        records_services.role_grant(user=user, role=role, granted_by=invited_by)
    _invitation_send(user, invited_by)
    return user


def invitation_pending(user: User) -> bool:
    """Invited but never signed in: no password chosen yet."""
    return user.last_login is None and not user.has_usable_password()


@transaction.atomic
def staff_invitation_resend(*, user: User, sent_by: User) -> None:
    """A new link for someone who has not used theirs (the old one keeps working until it
    expires or the password is set)."""
    _require_administrator(sent_by)
    if not invitation_pending(user) or not user.is_active:
        raise AdministrationError(
            f"{user.display_name} has already set up their account. Send a password reset "
            "link if they need one.")
    access_event_record(actor=sent_by, action="staff.invitation_resend",
                        target=f"user:{user.pk}", basis=BASIS)
    _invitation_send(user, sent_by)


@transaction.atomic
def staff_role_add(*, user: User, role: str, changed_by: User) -> None:
    _require_administrator(changed_by)
    _not_self(user=user, actor=changed_by,
              message="You cannot change your own roles. Ask another administrator.")
    if role not in STAFF_AREA_ROLES:
        raise AdministrationError("Choose a role from the list.")
    records_services.user_role_grant(user=user, role=role, granted_by=changed_by)


@transaction.atomic
def staff_role_remove(*, user: User, role: str, changed_by: User) -> None:
    """Take a role away (their sessions end: what they may see has changed). Their places
    in teams that need the role go with it."""
    _require_administrator(changed_by)
    _not_self(user=user, actor=changed_by,
              message="You cannot change your own roles. Ask another administrator.")
    if role not in STAFF_AREA_ROLES:
        raise AdministrationError("Choose a role from the list.")
    if role == Role.ADMIN:
        _keep_an_administrator(user=user, actor=changed_by)
    others = UserRole.objects.filter(user=user, role__in=STAFF_AREA_ROLES).exclude(role=role)
    if not others.exists():
        raise AdministrationError(
            f"This is {user.display_name}'s only role. To stop them using the service, "
            "disable their account instead.")
    for place, (field, place_role) in TEAM_PLACES.items():
        if place_role == role:
            for team in getattr(user, {"managers": "managed_teams",
                                       "coordinators": "coordinator_teams"}[field]).all():
                records_services.team_member_remove(team=team, user=user, place=place,
                                                    removed_by=changed_by)
    records_services.user_role_revoke(user=user, role=role, revoked_by=changed_by)


@transaction.atomic
def staff_team_place_add(*, user: User, team: Team, place: str, added_by: User) -> None:
    """Make someone a manager or a care coordinator of a team (they must hold the role;
    never oneself: records' team_member_add refuses both)."""
    _require_administrator(added_by)
    records_services.team_member_add(team=team, user=user, place=place, added_by=added_by)


@transaction.atomic
def staff_team_place_remove(*, user: User, team: Team, place: str, removed_by: User) -> None:
    _require_administrator(removed_by)
    records_services.team_member_remove(team=team, user=user, place=place,
                                        removed_by=removed_by)


@transaction.atomic
def staff_account_disable(*, user: User, disabled_by: User) -> int:
    """Disable an account: it can no longer sign in, and every session it has ends now
    (in every browser, the API's session too). Returns how many sessions ended. Its
    allocations stay as they are, for the team's manager to hand over: the managers are
    told."""
    _require_administrator(disabled_by)
    _not_self(user=user, actor=disabled_by,
              message="You cannot disable your own account. Ask another administrator.")
    _keep_an_administrator(user=user, actor=disabled_by)
    if not User.objects.filter(pk=user.pk, is_active=True).exists():
        return 0
    # update(), not save(): the sessions are ended here, once, in this transaction. An
    # update goes round the model signals, so what was kept of this account is marked
    # changed here (ADR 0029).
    User.objects.filter(pk=user.pk).update(is_active=False)
    freshness.mark_changed(user_ids=[user.pk])
    user.is_active = False
    ended = end_all_sessions(user)
    access_event_record(actor=disabled_by, action="staff.disable", target=f"user:{user.pk}",
                        basis=f"{BASIS}: {ended} session{'s' if ended != 1 else ''} ended")
    _managers_tell_caseload_to_hand_over(user)
    return ended


def _managers_tell_caseload_to_hand_over(user: User) -> None:
    """The managers of each team where the disabled person still coordinates someone are
    told how many people need a new care coordinator (their team page says who)."""
    counts = (Allocation.objects.active().filter(coordinator=user)
              .values("episode__service_user__team")
              .annotate(people=Count("episode__service_user", distinct=True)))
    for row in counts:
        team = Team.objects.get(pk=row["episode__service_user__team"])
        people = row["people"]
        for manager in team.managers.filter(is_active=True).exclude(pk=user.pk):
            notification_send(
                user=manager, url_name="team_detail", url_args=[team.pk],
                text=f"{user.display_name}'s account has been disabled. {people} "
                     f"{'person' if people == 1 else 'people'} in {team.name} "
                     f"{'needs' if people == 1 else 'need'} a new care coordinator.",
            )


@transaction.atomic
def staff_account_enable(*, user: User, enabled_by: User) -> None:
    _require_administrator(enabled_by)
    _not_self(user=user, actor=enabled_by,
              message="You cannot change your own account. Ask another administrator.")
    if User.objects.filter(pk=user.pk, is_active=False).update(is_active=True):
        freshness.mark_changed(user_ids=[user.pk])  # as on disabling
        user.is_active = True
        access_event_record(actor=enabled_by, action="staff.enable",
                            target=f"user:{user.pk}", basis=BASIS)


@transaction.atomic
def staff_invitation_accept(*, user: User, password: str) -> User:
    """The invited person chose their password from the link (the link's token was
    checked by the page; it stops working now, as it hashes the password)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if not user.is_active or not invitation_pending(user):
        raise AdministrationError("This invitation has already been used.")
    user.set_password(password)
    user.save(update_fields=["password"])
    access_event_record(actor=user, action="staff.invitation_accept",
                        target=f"user:{user.pk}", basis="invitation link")
    return user
