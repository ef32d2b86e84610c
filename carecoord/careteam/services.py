"""Writes for the care team and emergency (break-glass) access: one transaction each, the
audit event inside, the people concerned told at once.

A sub-package of its own because it tells people (notifications), which stand on records:
records cannot import them back (the acyclic contract in pyproject.toml).
"""

from __future__ import annotations

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records.models import BreakGlassAccess, CareTeamMember, ServiceUser, User

# --- The care team ---------------------------------------------------------------------
# Who may add or end a place, and who may be named, is the policy's to say
# (consent/policy/care_team.py: can_manage_care_team, may_join_care_team); pages ask it
# before they call these.


class CareTeamError(ValueError):
    """A care-team change that cannot be made (said in words for the page)."""


@transaction.atomic
def care_team_member_add(
    *, service_user: ServiceUser, member: User, care_team_role: str, started_on: dt.date,
    ended_on: dt.date | None = None, added_by: User, basis: str,
) -> CareTeamMember:
    """Name a professional on the care team. Their place counts from `started_on` to
    `ended_on` (the last day it counts), or until it is ended."""
    if ended_on is not None and ended_on < started_on:
        raise CareTeamError("The end date must be on or after the start date.")
    if ended_on is not None and ended_on < timezone.localdate():
        raise CareTeamError("The end date must be today or later.")
    # Lock the record's row so two people adding the same professional queue up.
    ServiceUser.objects.select_for_update().filter(pk=service_user.pk).first()
    if CareTeamMember.objects.open().filter(service_user=service_user, member=member).exists():
        raise CareTeamError(f"{member.display_name} is already on the care team.")
    place = CareTeamMember.objects.create(
        service_user=service_user, member=member, care_team_role=care_team_role,
        started_on=started_on, ended_on=ended_on, added_by=added_by,
    )
    access_event_record(
        actor=added_by, service_user=service_user, action="care_team.add",
        target=f"care_team_member:{place.pk}", basis=basis,
    )
    notification_send(
        user=member, url_name="home",
        text=f"You are on {service_user.name}'s care team as "
             f"{place.get_care_team_role_display().lower()} from "
             f"{started_on:%-d %B %Y}.",
    )
    return place


@transaction.atomic
def care_team_member_end(*, place: CareTeamMember, ended_by: User,
                         basis: str) -> CareTeamMember:
    """End a place now: it stops counting at once (a place still to start never does)."""
    today = timezone.localdate()
    place.ended_at = timezone.now()
    place.ended_on = max(today, place.started_on)
    place.ended_by = ended_by
    place.save(update_fields=["ended_at", "ended_on", "ended_by"])
    access_event_record(
        actor=ended_by, service_user=place.service_user, action="care_team.end",
        target=f"care_team_member:{place.pk}", basis=basis,
    )
    return place


# --- Emergency (break-glass) access ------------------------------------------------------
# Whether this professional may use it for this record is the policy's to say
# (break_glass_refusal); the page asks it first.


@transaction.atomic
def break_glass_open(*, professional: User, service_user: ServiceUser, reason: str,
                     basis: str) -> BreakGlassAccess:
    """Open someone's crisis plan and advance statement for a set time
    (`BREAK_GLASS_HOURS`), giving a reason. Audited, and everyone concerned is told at
    once: the service user, their care coordinators and the team's managers. The emails
    say only that there is something new; the in-app notice names who and why."""
    reason = reason.strip()
    if len(reason) < settings.BREAK_GLASS_REASON_MIN_LENGTH:
        raise CareTeamError(
            f"Give a reason of at least {settings.BREAK_GLASS_REASON_MIN_LENGTH} characters.")
    now = timezone.now()
    access = BreakGlassAccess.objects.create(
        service_user=service_user, professional=professional, reason=reason,
        started_at=now, expires_at=now + dt.timedelta(hours=settings.BREAK_GLASS_HOURS),
    )
    access_event_record(
        actor=professional, service_user=service_user, action="break_glass.open",
        target=f"break_glass:{access.pk}", basis=basis,
    )
    until = timezone.localtime(access.expires_at)
    about = (f"{professional.display_name} used emergency access on "
             f"{timezone.localtime(now):%-d %B %Y at %H:%M} to read")
    tail = f"crisis plan and advance statement until {until:%H:%M}. Reason given: {reason}"
    told: set[int] = {professional.pk}
    if service_user.user_id is not None and service_user.user.is_active:
        told.add(service_user.user_id)
        notification_send(user=service_user.user, text=f"{about} your {tail}",
                          url_name="service_user_detail", url_args=[service_user.pk])
    staff = list(User.objects.coordinating(service_user).filter(is_active=True)) + list(
        service_user.team.managers.filter(is_active=True))
    for person in staff:
        if person.pk in told:
            continue
        told.add(person.pk)
        notification_send(user=person, text=f"{about} {service_user.name}'s {tail}")
    return access
