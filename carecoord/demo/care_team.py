"""The demo's care team: a psychiatrist on Alex Morgan's care team, and a duty worker on
Dan Reid's — added through the care-team service, as the coordinator's page would — so a
demo visitor can sign in as each and see only what their role allows. Made once, however
many times the demo is seeded."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone

from carecoord.careteam.services import care_team_member_add
from carecoord.demo.people import _user
from carecoord.records.models import CareTeamMember, CareTeamRole, Role, ServiceUser, User
from carecoord.twofa.services import demo_totp_enrol

# (email, full name, care-team role, whose care team (full name), weeks since they joined)
CARE_TEAM = [
    ("dr.adebayo@demo.carecoord.test", "Dr Funmi Adebayo", CareTeamRole.PSYCHIATRIST,
     "Alexandra Morgan", 8),
    ("duty.worker@demo.carecoord.test", "Lee Carter", CareTeamRole.DUTY_WORKER,
     "Daniel Reid", 2),
]

CARE_TEAM_LOGINS = [
    ("dr.adebayo@demo.carecoord.test",
     "psychiatrist (Dr Funmi Adebayo) on Alex's care team: care plan, crisis plan, advance "
     "statement"),
    ("duty.worker@demo.carecoord.test",
     "duty worker (Lee Carter) on Dan's care team: contacts and crisis plan only; can use "
     "emergency access for others"),
]


def seed_care_team(records: dict[str, ServiceUser]) -> None:
    today = timezone.localdate()
    for email, name, role, whose, weeks in CARE_TEAM:
        member = _user(email, name, [Role.PROFESSIONAL])
        # Professionals read records: they sign in with a second factor, as other staff.
        demo_totp_enrol(user=member)
        service_user = records[whose]
        if CareTeamMember.objects.open().filter(service_user=service_user,
                                                member=member).exists():
            continue
        coordinator = User.objects.coordinating(service_user).order_by("pk").first()
        care_team_member_add(
            service_user=service_user, member=member, care_team_role=role,
            started_on=today - dt.timedelta(weeks=weeks), added_by=coordinator,
            basis="allocated care coordinator",
        )
