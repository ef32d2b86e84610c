"""The demo's people: a team, its staff, service users with their episodes, and carers."""

from __future__ import annotations

import datetime as dt
from functools import cache

from django.contrib.auth.hashers import make_password
from django.utils import timezone

from carecoord.records.models import Allocation, Episode, Role, ServiceUser, Team, User
from carecoord.records.services import role_grant
from carecoord.twofa.services import demo_totp_enrol
from carers.models import Carer, CarerRelationship

DEMO_PASSWORD = "recovery-demo-2026"

TEAM = "Tynedale Community Mental Health Team"

STAFF = [
    ("manager@demo.carecoord.test", "Priya Shah", [Role.MANAGER]),
    ("sam.okafor@demo.carecoord.test", "Sam Okafor", [Role.COORDINATOR]),
    ("jo.bell@demo.carecoord.test", "Jo Bell", [Role.COORDINATOR, Role.CARER]),
    ("admin@demo.carecoord.test", "Alex Admin", [Role.ADMIN]),
]

# (email or None, full name, preferred, pronouns, born, NHS number, coordinator email,
#  weeks since start, planned weeks)
SERVICE_USERS = [
    ("alex.morgan@demo.carecoord.test", "Alexandra Morgan", "Alex", "they/them",
     dt.date(1990, 3, 14), "9434765919", "sam.okafor@demo.carecoord.test", 10, 26),
    ("dan.reid@demo.carecoord.test", "Daniel Reid", "Dan", "he/him",
     dt.date(1978, 11, 2), "4010232137", "sam.okafor@demo.carecoord.test", 60, 52),
    ("fatima.hussain@demo.carecoord.test", "Fatima Hussain", "", "she/her",
     dt.date(1995, 6, 21), "", "sam.okafor@demo.carecoord.test", 3, 26),
    ("gaz.lowes@demo.carecoord.test", "Gareth Lowes", "Gaz", "he/him",
     dt.date(1969, 1, 30), "", "jo.bell@demo.carecoord.test", 40, 39),
    ("mei.chen@demo.carecoord.test", "Mei Chen", "", "she/her",
     dt.date(2001, 9, 5), "", "jo.bell@demo.carecoord.test", 20, 52),
    (None, "Ruth Adeyemi", "", "she/her",
     dt.date(1985, 4, 17), "", "jo.bell@demo.carecoord.test", 1, 26),
]

# (email or None, full name, preferred, cares for (full name), relationship)
CARERS = [
    ("linda.morgan@demo.carecoord.test", "Linda Morgan", "", "Alexandra Morgan", "Mum"),
    ("chris.reid@demo.carecoord.test", "Christine Reid", "Chris", "Daniel Reid", "Wife"),
    (None, "Omar Hussain", "", "Fatima Hussain", "Brother"),
    ("jo.bell@demo.carecoord.test", "Jo Bell", "", "Fatima Hussain", "Friend"),
]

DEMO_LOGINS = [
    ("manager@demo.carecoord.test", "team manager (Priya Shah)"),
    ("sam.okafor@demo.carecoord.test", "care coordinator (Sam Okafor)"),
    ("jo.bell@demo.carecoord.test", "care coordinator who is also a carer (Jo Bell)"),
    ("alex.morgan@demo.carecoord.test", "service user (Alex Morgan): agreed care plan"),
    ("dan.reid@demo.carecoord.test",
     "service user (Dan Reid): past planned end, care plan awaiting his signature"),
    ("fatima.hussain@demo.carecoord.test",
     "service user (Fatima Hussain): declined to sign, and said why"),
    ("linda.morgan@demo.carecoord.test",
     "carer (Linda Morgan, Alex's mum): sees a few items Alex shared"),
    ("chris.reid@demo.carecoord.test",
     "carer (Chris Reid, Dan's wife): sees Dan's crisis plan, but one answer"),
    ("admin@demo.carecoord.test",
     "administrator (Alex Admin): teams and staff accounts at /administration/"),
]


def seed_people() -> dict[str, ServiceUser]:
    """The demo team, its staff, service users with their episodes, and carers."""
    today = timezone.localdate()
    team, _ = Team.objects.get_or_create(name=TEAM)
    for email, name, roles in STAFF:
        user = _user(email, name, roles)
        if Role.MANAGER in roles:
            team.managers.add(user)
        if Role.COORDINATOR in roles:
            team.coordinators.add(user)
        if Role.ADMIN in roles:
            User.objects.filter(pk=user.pk).update(is_staff=True, is_superuser=True)
        # Staff sign in with a second factor: the demo's published secret, accepted only
        # while DEBUG is on (`python manage.py demo_otp_code <email>` prints a code).
        demo_totp_enrol(user=user)

    records = {}
    for (email, full_name, preferred, pronouns, born, nhs, coordinator_email,
         weeks_in, planned_weeks) in SERVICE_USERS:
        record, created = ServiceUser.objects.get_or_create(
            full_name=full_name, team=team,
            defaults={"preferred_name": preferred, "pronouns": pronouns,
                      "date_of_birth": born, "nhs_number": nhs, "email": email or ""},
        )
        records[full_name] = record
        if email and record.user_id is None:
            record.user = _user(email, full_name, [Role.SERVICE_USER], preferred=preferred)
            record.save(update_fields=["user"])
        if created:
            started = today - dt.timedelta(weeks=weeks_in)
            episode = Episode.objects.create(
                service_user=record, started_on=started,
                planned_end_on=started + dt.timedelta(weeks=planned_weeks),
            )
            Allocation.objects.create(
                episode=episode, coordinator=User.objects.get(email=coordinator_email),
                started_on=started,
            )

    for email, full_name, preferred, cares_for, relationship in CARERS:
        carer = Carer.objects.filter(full_name=full_name).first()
        if carer is None:
            carer = Carer.objects.create(full_name=full_name, preferred_name=preferred,
                                         email=email or "")
        if email and carer.user_id is None:
            carer.user = _user(email, full_name, [Role.CARER], preferred=preferred)
            carer.save(update_fields=["user"])
        CarerRelationship.objects.get_or_create(
            carer=carer, service_user=records[cares_for], ended_on=None,
            defaults={"relationship": relationship},
        )
    return records


def _user(email: str, name: str, roles: list[str], preferred: str = "") -> User:
    user = User.objects.filter(email=email).first()
    if user is None:
        # Greeted by the name on their record, as an invitation taken up would do.
        user = User.objects.create_user(email, None, full_name=name,
                                        preferred_name=preferred or "")
        # Argon2 is slow on purpose: hash the one demo password once, not per person.
        user.password = _password_hash()
        user.save(update_fields=["password"])
    for role in roles:
        role_grant(user=user, role=role)
    return user


@cache
def _password_hash() -> str:
    # Argon2 is slow on purpose: hash the one demo password once, not per person.
    return make_password(DEMO_PASSWORD)
