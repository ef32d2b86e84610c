"""People, roles, teams, service users, episodes of care, allocations and invitations."""

from __future__ import annotations

import datetime as dt
import hashlib
from functools import cached_property

from django.contrib.auth.base_user import AbstractBaseUser, BaseUserManager
from django.contrib.auth.models import PermissionsMixin
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carecoord.records.nhs_number import nhs_number_display, validate_nhs_number
from carecoord.scoping import ScopedManager
from carecoord.web import date_bounds


class Role(models.TextChoices):
    SERVICE_USER = "service_user", "Service user"
    CARER = "carer", "Carer"
    COORDINATOR = "coordinator", "Care coordinator"
    MANAGER = "manager", "Manager"
    ADMIN = "admin", "Administrator"
    # A psychiatrist, a duty worker, a crisis team member...: sees the parts of a record
    # their place on its care team allows (consent/policy/care_team.py), nothing else.
    PROFESSIONAL = "professional", "Care team professional"


# Who may be named on a care team, or open a crisis plan in an emergency (break-glass).
CARE_TEAM_ROLES = (Role.COORDINATOR, Role.PROFESSIONAL)
# Accounts of staff: they must sign in with two-factor, and can never take up a service
# user's or carer's invitation.
STAFF_ROLES = frozenset({Role.COORDINATOR, Role.MANAGER, Role.ADMIN, Role.PROFESSIONAL})


class UserQuerySet(models.QuerySet):
    def coordinating(self, service_user: ServiceUser | int) -> UserQuerySet:
        """The care coordinators actively allocated to this service user. The one
        definition of "their coordinators": the access policy (`coordinators_of`) and the
        services that tell coordinators something both use it."""
        return self.filter(
            pk__in=Allocation.objects.active()
            .filter(episode__service_user=service_user)
            .values("coordinator_id")
        )

    def coordinating_each(self, service_user_ids: list[int]) -> dict[int, list[User]]:
        """`coordinating`, set-wise: for each of these service users, their actively
        allocated coordinators, in one query (the same predicate: `Allocation.active`)."""
        result: dict[int, list[User]] = {pk: [] for pk in service_user_ids}
        rows = (Allocation.objects.active()
                .filter(episode__service_user_id__in=service_user_ids)
                .values_list("episode__service_user_id", "coordinator_id").distinct())
        pairs = list(rows)
        users = {u.pk: u for u in self.filter(pk__in={c for _, c in pairs})}
        for service_user_id, coordinator_id in sorted(pairs):
            result[service_user_id].append(users[coordinator_id])
        return result


class UserManager(BaseUserManager.from_queryset(UserQuerySet)):
    use_in_migrations = True

    def create_user(self, email: str, password: str | None = None, **extra) -> User:
        if not email:
            raise ValueError("An email address is required.")
        user = self.model(email=self.normalize_email(email).lower(), **extra)
        if password:
            user.set_password(password)
        else:
            user.set_unusable_password()
        user.save(using=self._db)
        return user

    def create_superuser(self, email: str, password: str | None = None, **extra) -> User:
        extra.setdefault("is_staff", True)
        extra.setdefault("is_superuser", True)
        user = self.create_user(email, password, **extra)
        UserRole.objects.get_or_create(user=user, role=Role.ADMIN)
        return user

    def get_by_natural_key(self, username: str) -> User:
        # Email addresses are stored lower-case; people type them however they like.
        return self.get(**{self.model.USERNAME_FIELD: username.strip().lower()})


class User(AbstractBaseUser, PermissionsMixin):
    """Anyone who signs in. What they may see comes from their roles and relationships."""

    email = models.EmailField("email address", unique=True)
    full_name = models.CharField(max_length=200)
    # What they asked to be called: greetings, lists and the audit trail use it; the full
    # name is for where someone must be identified (ADR 0020).
    preferred_name = models.CharField("name you would like us to use", max_length=100,
                                      blank=True)
    is_active = models.BooleanField(default=True)
    is_staff = models.BooleanField(default=False, help_text="May use the admin site.")
    date_joined = models.DateTimeField(default=timezone.now)

    objects = UserManager()

    USERNAME_FIELD = "email"
    EMAIL_FIELD = "email"
    REQUIRED_FIELDS = ["full_name"]

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.full_name or self.email

    def clean(self) -> None:
        super().clean()
        self.email = self.email.strip().lower()

    @property
    def display_name(self) -> str:
        """The name to use: the one they asked to be called, else their full name."""
        return self.preferred_name or self.full_name or self.email

    @cached_property
    def roles(self) -> frozenset[str]:
        return frozenset(self.role_grants.values_list("role", flat=True))

    def has_role(self, role: str) -> bool:
        return role in self.roles


class UserRole(models.Model):
    """A role a person holds; a person may hold several (a professional may also be a carer)."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="role_grants")
    role = models.CharField(max_length=20, choices=Role.choices)
    granted_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["user", "role"], name="unique_user_role")]

    def __str__(self) -> str:
        return f"{self.user} – {self.get_role_display()}"


class Team(models.Model):
    name = models.CharField(max_length=200, unique=True)
    managers = models.ManyToManyField(User, related_name="managed_teams", blank=True)
    coordinators = models.ManyToManyField(User, related_name="coordinator_teams", blank=True)
    # "Getting stuck" prompts: each team sets its own thresholds.
    stuck_no_progress_days = models.PositiveIntegerField(
        "no goal progress for this many days", default=90)
    stuck_awaiting_signature_days = models.PositiveIntegerField(
        "plan waiting for signatures for this many days", default=30)
    stuck_assessment_days = models.PositiveIntegerField(
        "carer's assessment not completed after this many days", default=28)
    stuck_falling_check_ins = models.PositiveIntegerField(
        "carer's wellbeing falling over this many check-ins", default=3)
    stuck_caseload_prompts = models.PositiveIntegerField(
        "coordinator has this many people with prompts", default=3)
    # Review reminders: how far ahead "due soon" starts, and how long after the date a
    # review counts as overdue.
    reminder_due_soon_days = models.PositiveIntegerField(
        "remind this many days before a review", default=14)
    reminder_overdue_days = models.PositiveIntegerField(
        "remind again this many days after a missed review", default=7)

    class Meta:
        ordering = ["name"]

    def __str__(self) -> str:
        return self.name


class ContactMethod(models.TextChoices):
    EMAIL = "email", "Email"
    PHONE = "phone", "Phone call"
    TEXT = "text", "Text message"
    LETTER = "letter", "Letter"


class ServiceUser(models.Model):
    """A person receiving care coordination: their record."""

    user = models.OneToOneField(
        User, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="service_user_record",
    )
    team = models.ForeignKey(Team, on_delete=models.PROTECT, related_name="service_users")
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(
        max_length=100, blank=True, help_text="What they like to be called."
    )
    pronouns = models.CharField(max_length=50, blank=True, help_text="For example, she/her.")
    date_of_birth = models.DateField()
    nhs_number = models.CharField(
        "NHS number", max_length=10, blank=True, validators=[validate_nhs_number]
    )
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    address = models.TextField(blank=True)
    preferred_contact = models.CharField(
        "how they prefer to be contacted", max_length=10,
        choices=ContactMethod.choices, default=ContactMethod.PHONE,
    )
    contact_notes = models.TextField(
        "anything else about contacting them", blank=True,
        help_text="For example, the best time to call, or not to leave voicemails.",
    )
    version = models.PositiveIntegerField(default=1)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["full_name"]
        # Not unique: a form that refused a number another record holds would tell any
        # coordinator that this person is a patient. A clash is saved and recorded as a
        # PossibleDuplicate for the team manager to resolve (ADR 0009).
        indexes = [models.Index(fields=["nhs_number"], name="service_user_nhs_number")]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        """The name to use: the one they chose."""
        return self.preferred_name or self.full_name

    @property
    def nhs_number_display(self) -> str:
        """943 476 5919: for staff who must identify the person, never for carers."""
        return nhs_number_display(self.nhs_number)

    def clean(self) -> None:
        super().clean()
        date_bounds.check_dates(date_of_birth=date_bounds.past_date_problem(self.date_of_birth))


class PossibleDuplicate(models.Model):
    """Two records hold the same NHS number. Recorded silently when a record is saved, so
    the coordinator's form answers the same whether or not another record has it; the
    managers of the records' teams are told and resolve it."""

    service_user = models.ForeignKey(ServiceUser, on_delete=models.CASCADE,
                                     related_name="duplicates_found")
    other = models.ForeignKey(ServiceUser, on_delete=models.CASCADE, related_name="+")
    nhs_number = models.CharField(max_length=10)
    recorded_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    recorded_at = models.DateTimeField(default=timezone.now)
    resolved_at = models.DateTimeField(null=True, blank=True)
    resolved_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                    related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-recorded_at", "-pk"]

    def __str__(self) -> str:
        return f"Possible duplicate: records {self.service_user_id} and {self.other_id}"


class EpisodeQuerySet(models.QuerySet):
    def waiting_for_coordinator(self) -> EpisodeQuerySet:
        """Open episodes with nobody allocated now: waiting for a care coordinator."""
        return self.filter(_waiting_for_coordinator())

    def with_waiting_for_coordinator(self) -> EpisodeQuerySet:
        """Each episode with `waiting_for_coordinator` (a bool), by the same predicate as
        `waiting_for_coordinator()`: a page that reads a team's episodes anyway counts the
        waiting ones from that read, and cannot count them otherwise than a filter would."""
        return self.annotate(waiting_for_coordinator=models.ExpressionWrapper(
            _waiting_for_coordinator(), output_field=models.BooleanField()))


def _waiting_for_coordinator() -> Q:
    # Whether or not the episode ever had an allocation (decided 2 December 2026): an
    # open episode whose allocations have all ended waits as much as one never allocated.
    # NOT EXISTS, not exclude(allocations__...): exclude's outer join would make an
    # episode with no allocation at all look allocated.
    current = Allocation.objects.active().filter(episode=models.OuterRef("pk"))
    return Q(discharged_on__isnull=True) & ~models.Exists(current)


class Episode(models.Model):
    """A time-limited period of care coordination. Length against plan is shown, not hidden."""

    service_user = models.ForeignKey(ServiceUser, on_delete=models.CASCADE, related_name="episodes")
    started_on = models.DateField()
    planned_end_on = models.DateField(help_text="When we plan care coordination to end.")
    discharged_on = models.DateField(null=True, blank=True)
    discharge_plan = models.TextField(blank=True)
    after_discharge_contacts = models.TextField(
        blank=True, help_text="Who to contact after care coordination ends, and how.")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager.from_queryset(EpisodeQuerySet)()

    class Meta:
        ordering = ["-started_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(planned_end_on__gt=models.F("started_on")),
                name="episode_planned_end_after_start",
            ),
            models.CheckConstraint(
                condition=Q(discharged_on__isnull=True)
                | Q(discharged_on__gte=models.F("started_on")),
                name="episode_discharge_not_before_start",
            ),
            models.UniqueConstraint(
                fields=["service_user"], condition=Q(discharged_on__isnull=True),
                name="one_open_episode_per_service_user",
            ),
        ]

    def __str__(self) -> str:
        return f"Episode from {self.started_on:%d %B %Y}"

    def clean(self) -> None:
        super().clean()
        date_bounds.check_dates(
            started_on=date_bounds.any_date_problem(self.started_on),
            planned_end_on=date_bounds.future_date_problem(self.planned_end_on),
            discharged_on=date_bounds.past_date_problem(self.discharged_on),
        )

    @property
    def is_open(self) -> bool:
        return self.discharged_on is None

    def length_days(self, today: dt.date | None = None) -> int:
        end = self.discharged_on or today or timezone.localdate()
        return (end - self.started_on).days

    @property
    def planned_days(self) -> int:
        return (self.planned_end_on - self.started_on).days

    def days_past_planned_end(self, today: dt.date | None = None) -> int:
        end = self.discharged_on or today or timezone.localdate()
        return max(0, (end - self.planned_end_on).days)

    @property
    def is_past_planned_end(self) -> bool:
        return self.days_past_planned_end() > 0

    @property
    def progress_text(self) -> str:
        """Length against plan in plain words, e.g. 'Week 30 of 26 planned'."""
        return self.progress_text_on(timezone.localdate())

    def progress_text_on(self, today: dt.date) -> str:
        """`progress_text` on a given day: a list of hundreds asks for today once."""
        week = self.length_days(today) // 7 + 1
        planned_weeks = max(1, round(self.planned_days / 7))
        text = f"Week {week} of {planned_weeks} planned"
        past = self.days_past_planned_end(today)
        if past:
            weeks_past = past // 7
            text += (
                f" ({weeks_past} week{'s' if weeks_past != 1 else ''} past the planned end)"
                if weeks_past
                else f" ({past} day{'s' if past != 1 else ''} past the planned end)"
            )
        return text


class AllocationQuerySet(models.QuerySet):
    def active(self) -> AllocationQuerySet:
        return self.filter(ended_on__isnull=True, episode__discharged_on__isnull=True)


class Allocation(models.Model):
    """A care coordinator allocated to an episode. Active while not ended and not discharged."""

    episode = models.ForeignKey(Episode, on_delete=models.CASCADE, related_name="allocations")
    coordinator = models.ForeignKey(User, on_delete=models.PROTECT, related_name="allocations")
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    allocated_by = models.ForeignKey(
        User, null=True, on_delete=models.SET_NULL, related_name="+"
    )

    objects = ScopedManager.from_queryset(AllocationQuerySet)()

    class Meta:
        ordering = ["started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["episode", "coordinator"], condition=Q(ended_on__isnull=True),
                name="one_active_allocation_per_coordinator_and_episode",
            )
        ]
        indexes = [models.Index(fields=["coordinator", "ended_on"])]

    def __str__(self) -> str:
        return f"{self.coordinator} for {self.episode.service_user}"


class InvitationKind(models.TextChoices):
    SERVICE_USER = "service_user", "Service user"
    CARER = "carer", "Carer"


class Invitation(models.Model):
    """A one-time, expiring link that lets a service user or carer set their password.

    Only a hash of the token is stored, so a database reader cannot use a pending link.
    """

    kind = models.CharField(max_length=20, choices=InvitationKind.choices)
    email = models.EmailField()
    service_user = models.ForeignKey(
        ServiceUser, on_delete=models.CASCADE, related_name="invitations"
    )
    carer_relationship = models.ForeignKey(
        "carers.CarerRelationship", null=True, blank=True, on_delete=models.CASCADE,
        related_name="invitations",
    )
    token_hash = models.CharField(max_length=64, unique=True)
    invited_by = models.ForeignKey(User, on_delete=models.PROTECT, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    accepted_at = models.DateTimeField(null=True, blank=True)
    accepted_by = models.ForeignKey(
        User, null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    withdrawn_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]
        constraints = [
            models.CheckConstraint(
                condition=Q(kind="service_user", carer_relationship__isnull=True)
                | Q(kind="carer", carer_relationship__isnull=False),
                name="invitation_carer_kind_has_relationship",
            )
        ]

    def __str__(self) -> str:
        return f"Invitation for {self.email}"

    @staticmethod
    def hash_token(token: str) -> str:
        return hashlib.sha256(token.encode()).hexdigest()

    @property
    def status(self) -> str:
        if self.accepted_at:
            return "accepted"
        if self.withdrawn_at:
            return "withdrawn"
        if self.expires_at <= timezone.now():
            return "expired"
        return "pending"


class CareTeamRole(models.TextChoices):
    """The part a professional plays in someone's care. What each may see is the policy's
    table (consent/policy/care_team.py), not this list."""

    PSYCHIATRIST = "psychiatrist", "Psychiatrist"
    DUTY_WORKER = "duty_worker", "Duty worker"
    CRISIS_TEAM = "crisis_team", "Crisis team"
    PSYCHOLOGIST = "psychologist", "Psychologist"
    OTHER = "other", "Other professional"


class CareTeamMemberQuerySet(models.QuerySet):
    def open(self) -> CareTeamMemberQuerySet:
        """Places not ended and not past their end date: in force now or still to start."""
        return self.filter(ended_at__isnull=True).filter(
            Q(ended_on__isnull=True) | Q(ended_on__gte=timezone.localdate()))

    def current(self) -> CareTeamMemberQuerySet:
        """Places in force now: started, not ended, and not past their end date (the end
        date is the last day a place counts)."""
        return self.open().filter(started_on__lte=timezone.localdate())


class CareTeamMember(models.Model):
    """A named professional on a service user's care team, in one care-team role, from a
    start date to an optional end date. Added and ended by the allocated care coordinator
    or the team's manager."""

    service_user = models.ForeignKey(ServiceUser, on_delete=models.CASCADE,
                                     related_name="care_team")
    member = models.ForeignKey(User, on_delete=models.PROTECT, related_name="care_team_places")
    care_team_role = models.CharField(max_length=20, choices=CareTeamRole.choices)
    started_on = models.DateField(default=timezone.localdate)
    # The last day the place counts (planned when added, or the day it was ended).
    ended_on = models.DateField(null=True, blank=True)
    # Set when someone ends the place: it stops counting at once.
    ended_at = models.DateTimeField(null=True, blank=True)
    added_by = models.ForeignKey(User, null=True, on_delete=models.SET_NULL, related_name="+")
    ended_by = models.ForeignKey(User, null=True, blank=True, on_delete=models.SET_NULL,
                                 related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager.from_queryset(CareTeamMemberQuerySet)()

    class Meta:
        ordering = ["started_on", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=Q(ended_on__isnull=True) | Q(ended_on__gte=models.F("started_on")),
                name="care_team_end_not_before_start",
            ),
            models.UniqueConstraint(
                fields=["service_user", "member"],
                condition=Q(ended_on__isnull=True, ended_at__isnull=True),
                name="one_open_care_team_place_per_member",
            ),
        ]
        indexes = [models.Index(fields=["member", "service_user"])]

    def __str__(self) -> str:
        return f"{self.member} ({self.get_care_team_role_display()}) for {self.service_user}"


class BreakGlassQuerySet(models.QuerySet):
    def active(self) -> BreakGlassQuerySet:
        now = timezone.now()
        return self.filter(started_at__lte=now, expires_at__gt=now)


class BreakGlassAccess(models.Model):
    """Emergency access: a professional who is not on someone's care team opened their
    crisis plan and advance statement, for a set time, giving a reason. Everyone concerned
    is told at once; every read is audited with the basis "break-glass"."""

    service_user = models.ForeignKey(ServiceUser, on_delete=models.CASCADE,
                                     related_name="break_glass_accesses")
    professional = models.ForeignKey(User, on_delete=models.PROTECT,
                                     related_name="break_glass_accesses")
    reason = models.TextField()
    started_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()

    objects = ScopedManager.from_queryset(BreakGlassQuerySet)()

    class Meta:
        ordering = ["-started_at"]
        constraints = [
            models.CheckConstraint(condition=Q(expires_at__gt=models.F("started_at")),
                                   name="break_glass_expires_after_start"),
        ]
        indexes = [models.Index(fields=["professional", "expires_at"])]

    def __str__(self) -> str:
        return f"Emergency access by {self.professional} to {self.service_user}"
