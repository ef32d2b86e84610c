"""Reads of the administration area. Each takes the viewer and asks the policy first
(`administrator_or_404`): anyone but an administrator gets a 404, as for a page that does
not exist.

What an administrator sees of people is their account: name, email address, roles,
places in teams, whether it is active. Of caseloads, only how many people each team's
coordinator holds, never who they are nor anything from their records.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.db.models import Count, Prefetch, Q, QuerySet
from django.http import Http404

from carecoord.administration.services import STAFF_AREA_ROLES, invitation_pending
from carecoord.audit.models import AccessEvent
from carecoord.records.models import Allocation, Role, Team, User, UserRole
from consent import policy

# --- Teams --------------------------------------------------------------------------------


def teams_for_administrator(*, viewer: User) -> QuerySet[Team]:
    policy.administrator_or_404(viewer)
    return Team.objects.order_by("name").prefetch_related(
        Prefetch("managers", queryset=User.objects.order_by("full_name")),
    ).annotate(coordinator_count=Count("coordinators", distinct=True))


def team_for_administrator(*, viewer: User, team_id: int) -> Team:
    team = teams_for_administrator(viewer=viewer).filter(pk=team_id).first()
    if team is None:
        raise Http404("No such team.")
    return team


def managers_to_choose(*, viewer: User) -> QuerySet[User]:
    """Who may be made a team's manager: active accounts holding the manager role (never
    a service user or a carer who does not also hold it)."""
    policy.administrator_or_404(viewer)
    return User.objects.filter(
        is_active=True, pk__in=UserRole.objects.filter(role=Role.MANAGER).values("user_id"),
    ).order_by("full_name")


# --- Staff accounts -----------------------------------------------------------------------


def _staff_q() -> Q:
    """A staff account: one holding a staff role, or Django admin's flags."""
    return (Q(pk__in=UserRole.objects.filter(role__in=STAFF_AREA_ROLES).values("user_id"))
            | Q(is_staff=True) | Q(is_superuser=True))


def staff_accounts(*, viewer: User, search: str = "") -> QuerySet[User]:
    """Staff accounts, by name; `search` matches a part of the name or email address."""
    policy.administrator_or_404(viewer)
    accounts = User.objects.filter(_staff_q())
    search = search.strip()
    if search:
        accounts = accounts.filter(Q(full_name__icontains=search) | Q(email__icontains=search))
    # Their staff roles only: whether someone is also a carer (or a service user) is not
    # an administrator's business.
    return accounts.order_by("full_name", "email").prefetch_related(Prefetch(
        "role_grants", queryset=UserRole.objects.filter(role__in=STAFF_AREA_ROLES)
        .order_by("role")))


def staff_account_for_administrator(*, viewer: User, user_id: int) -> User:
    """One staff account; 404 for anyone else's account (a service user's, a carer's)."""
    user = staff_accounts(viewer=viewer).filter(pk=user_id).first()
    if user is None:
        raise Http404("No such account.")
    return user


@dataclass(frozen=True)
class TeamPlace:
    team: Team
    place: str  # "manager" or "coordinator"

    @property
    def label(self) -> str:
        return "Manager" if self.place == "manager" else "Care coordinator"


@dataclass(frozen=True)
class CaseloadCount:
    team_name: str
    people: int


@dataclass(frozen=True)
class StaffAccountSummary:
    user: User
    roles: list[str]  # the labels of their staff roles (not "carer", "service user")
    team_places: list[TeamPlace]
    caseload: list[CaseloadCount]
    invitation_pending: bool

    @property
    def caseload_total(self) -> int:
        return sum(count.people for count in self.caseload)


def staff_account_summary(*, viewer: User, user_id: int) -> StaffAccountSummary:
    user = staff_account_for_administrator(viewer=viewer, user_id=user_id)
    roles = [role for role in STAFF_AREA_ROLES if role in user.roles]  # staff roles only
    places = [TeamPlace(team, "manager") for team in user.managed_teams.order_by("name")]
    places += [TeamPlace(team, "coordinator")
               for team in user.coordinator_teams.order_by("name")]
    # How many, per team: enough to know that someone must reallocate, and whom to ask
    # (the team's manager sees who they are); not who they are.
    caseload = [
        CaseloadCount(row["episode__service_user__team__name"], row["people"])
        for row in Allocation.objects.active().filter(coordinator=user)
        .values("episode__service_user__team__name")
        .annotate(people=Count("episode__service_user", distinct=True))
        .order_by("episode__service_user__team__name")
    ]
    return StaffAccountSummary(
        user=user, roles=[Role(role).label for role in roles], team_places=places,
        caseload=caseload, invitation_pending=invitation_pending(user),
    )


def roles_to_add(*, summary: StaffAccountSummary) -> list[tuple[str, str]]:
    held = set(summary.user.roles)
    return [(role.value, role.label) for role in STAFF_AREA_ROLES if role not in held]


def roles_to_remove(*, summary: StaffAccountSummary) -> list[tuple[str, str]]:
    held = set(summary.user.roles)
    return [(role.value, role.label) for role in STAFF_AREA_ROLES if role in held]


def teams_to_join(*, viewer: User, user: User) -> list[tuple[str, str]]:
    """(value, label) choices of the team places this person could take: a team and a
    place whose role they hold, that they do not have yet."""
    choices = []
    current = {(team.pk, "manager") for team in user.managed_teams.all()}
    current |= {(team.pk, "coordinator") for team in user.coordinator_teams.all()}
    for team in teams_for_administrator(viewer=viewer):
        for place, role, label in (("manager", Role.MANAGER, "manager"),
                                   ("coordinator", Role.COORDINATOR, "care coordinator")):
            if user.has_role(role) and (team.pk, place) not in current:
                choices.append((f"{team.pk}:{place}", f"{team.name} – {label}"))
    return choices


# --- The audit of administrative changes ------------------------------------------------

# The audit trail's actions that are administrative changes (people, roles, teams).
ADMINISTRATIVE_ACTIONS = (
    "staff.invite", "staff.invitation_resend", "staff.invitation_accept", "staff.disable",
    "staff.enable",
    "role.grant", "role.revoke", "user.account_change", "user.password_reset_link",
    "team.create", "team.rename", "team.settings",
    "team.manager_add", "team.manager_remove", "team.coordinator_add",
    "team.coordinator_remove",
)

# A service user or a carer taking up their invitation gives them their role, recorded
# as "role.grant": that names them as a patient or a carer, which is not an
# administrator's business. Those events stay out of this page.
_PERSONAL_ROLE_LABELS = (Role.SERVICE_USER.label, Role.CARER.label)


def administrative_changes(*, viewer: User) -> QuerySet[AccessEvent]:
    """The administrative changes in the audit trail, newest first. None of them is a
    read of a record (their service_user is empty)."""
    policy.administrator_or_404(viewer)
    events = AccessEvent.objects.filter(action__in=ADMINISTRATIVE_ACTIONS,
                                        service_user__isnull=True)
    for label in _PERSONAL_ROLE_LABELS:
        events = events.exclude(action__in=("role.grant", "role.revoke"),
                                basis__startswith=label)
    return events.select_related("actor").order_by("-occurred_at", "-id")


@dataclass(frozen=True)
class ChangeLine:
    event: AccessEvent
    who: str
    what: str


_WORDS = {
    "staff.invite": "invited {user} to join as staff ({detail})",
    "staff.invitation_resend": "sent {user} a new invitation link",
    "staff.invitation_accept": "chose a password from their invitation",
    "staff.disable": "disabled {user}'s account ({detail})",
    "staff.enable": "enabled {user}'s account again",
    "role.grant": "gave {user} the role: {role}",
    "role.revoke": "took away {user}'s role: {role}",
    "user.account_change": "changed {user}'s account in the emergency admin ({account})",
    "user.password_reset_link": "sent {user} a password reset link",
    "team.create": "created the team {team}",
    "team.rename": "renamed a team ({detail})",
    "team.settings": "changed the prompt and reminder settings of {team}",
    "team.manager_add": "made {member} a manager of {team}",
    "team.manager_remove": "removed {member} as a manager of {team}",
    "team.coordinator_add": "made {member} a care coordinator in {team}",
    "team.coordinator_remove": "removed {member} as a care coordinator in {team}",
}


def _detail(basis: str) -> str:
    prefix = "administrator: "
    return basis[len(prefix):] if basis.startswith(prefix) else basis


_FLAGS = {"is_active": ("enabled", "disabled"),
          "is_staff": ("gave admin site access", "took away admin site access"),
          "is_superuser": ("made superuser", "no longer superuser")}


def _account_change(basis: str) -> str:
    """The emergency admin's "is_active=False, is_staff=True" in words."""
    if basis == "created":
        return "created"
    words = []
    for part in basis.split(", "):
        flag, _, value = part.partition("=")
        if flag in _FLAGS:
            words.append(_FLAGS[flag][0 if value == "True" else 1])
        else:
            words.append(part)
    return ", ".join(words)


def change_lines(events: list[AccessEvent]) -> list[ChangeLine]:
    """Each event in plain English: who did what, to whom. Names are looked up for the
    whole page at once."""
    def ids(kind: str) -> set[int]:
        found = set()
        for event in events:
            name, _, pk = event.target.partition(":")
            if name == kind and pk.isdigit():
                found.add(int(pk))
        return found

    users = {user.pk: user.display_name for user in User.objects.filter(pk__in=ids("user"))}
    teams = {team.pk: team.name for team in Team.objects.filter(pk__in=ids("team"))}
    lines = []
    for event in events:
        kind, _, pk = event.target.partition(":")
        pk_int = int(pk) if pk.isdigit() else None
        member = event.basis.split(" ", 1)[1] if event.basis.startswith("user:") and " " in \
            event.basis else event.basis
        words = _WORDS.get(event.action, event.action + " ({detail})").format(
            user=users.get(pk_int, "a deleted account") if kind == "user" else event.target,
            team=teams.get(pk_int, "a deleted team") if kind == "team" else event.target,
            member=member, role=event.basis.split(":")[0], detail=_detail(event.basis),
            account=_account_change(event.basis),
        )
        lines.append(ChangeLine(
            event=event, who=event.actor.display_name if event.actor else "The system",
            what=words))
    return lines
