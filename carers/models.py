"""Carers and their relationships with the service users they support."""

from enum import StrEnum

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carecoord.scoping import ScopedManager


class CarerSpaceBasis(StrEnum):
    """Why the policy allowed a read of a carer's own space (for the audit trail). Data
    only: the rules that give these answers are in consent.policy.carer_space."""

    OWN = "their own carer's space"
    COORDINATOR = "care coordinator of someone they care for"
    COORDINATOR_SHARED = "care coordinator of someone they care for; shared by the carer"
    ABOUT_THEM = "a carer's insight about them"


class Carer(models.Model):
    """A family member, friend or supporter. A person in their own right, with their own
    account once they accept an invitation."""

    user = models.OneToOneField(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="carer_record",
    )
    full_name = models.CharField(max_length=200)
    preferred_name = models.CharField(max_length=100, blank=True)
    email = models.EmailField(blank=True)
    phone = models.CharField(max_length=30, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.preferred_name or self.full_name


class CarerRelationshipQuerySet(models.QuerySet):
    def active(self) -> "CarerRelationshipQuerySet":
        """In force: accepted by the carer (or made with a new carer) and not ended."""
        return self.filter(ended_on__isnull=True, status=CarerRelationship.Status.ACTIVE)

    def offered(self) -> "CarerRelationshipQuerySet":
        """Offered to a carer who already had a record, waiting for them to accept."""
        return self.filter(ended_on__isnull=True, status=CarerRelationship.Status.OFFERED)

    def open(self) -> "CarerRelationshipQuerySet":
        """Active or offered: not ended (what one carer may have once per person)."""
        return self.filter(ended_on__isnull=True)


class CarerRelationship(models.Model):
    """That a carer supports a service user. Its existence is all a carer sees until the
    service user shares plan items with them.

    A relationship with a carer who already has a record (someone another team already
    knows) is only *offered*: it gives nobody anything until the carer accepts it (ADR
    0009). A relationship made with a new carer is active at once: that carer has no
    account and no private space yet, and the invitation link binds them to it."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        OFFERED = "offered", "Waiting for them to accept"
        DECLINED = "declined", "Declined"

    carer = models.ForeignKey(Carer, on_delete=models.CASCADE, related_name="relationships")
    service_user = models.ForeignKey(
        "carecoord.ServiceUser", on_delete=models.CASCADE, related_name="carer_relationships"
    )
    relationship = models.CharField(
        "how they know each other", max_length=100,
        help_text="In the service user's words, for example: Mum, partner, friend.",
    )
    started_on = models.DateField(default=timezone.localdate)
    ended_on = models.DateField(null=True, blank=True)
    added_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.ACTIVE)
    responded_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager.from_queryset(CarerRelationshipQuerySet)()

    class Meta:
        ordering = ["started_on"]
        constraints = [
            models.UniqueConstraint(
                fields=["carer", "service_user"], condition=Q(ended_on__isnull=True),
                name="one_active_relationship_per_carer_and_service_user",
            )
        ]

    def __str__(self) -> str:
        return f"{self.carer} ({self.relationship}) for {self.service_user}"

    @property
    def is_active(self) -> bool:
        return self.ended_on is None and self.status == self.Status.ACTIVE

    @property
    def is_offered(self) -> bool:
        return self.ended_on is None and self.status == self.Status.OFFERED


# --- The carer's own space -------------------------------------------------------------
# Private to the carer. Each record says which of their relationships the carer chose to
# share it through: the care coordinators of *that* person see it, nobody else's.


class CarerNeeds(models.Model):
    """The carer's own needs and the support they would like, in their words."""

    carer = models.OneToOneField(Carer, on_delete=models.CASCADE, related_name="needs")
    own_needs = models.TextField(blank=True)
    support_wanted = models.TextField(blank=True)
    shared_with = models.ManyToManyField(CarerRelationship, blank=True, related_name="+")
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    def __str__(self) -> str:
        return f"Needs of {self.carer}"


class WellbeingCheckIn(models.Model):
    """A short, gentle check-in: how are you coping (0 to 10), and in your words."""

    carer = models.ForeignKey(Carer, on_delete=models.CASCADE, related_name="check_ins")
    coping = models.PositiveSmallIntegerField()
    words = models.TextField(blank=True)
    shared_with = models.ManyToManyField(CarerRelationship, blank=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)

    objects = ScopedManager()

    class Meta:
        ordering = ["created_at", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(coping__gte=0, coping__lte=10),
                                   name="check_in_coping_0_to_10")
        ]

    def __str__(self) -> str:
        return f"{self.coping}/10 on {self.created_at:%Y-%m-%d}"


class AssessmentRequest(models.Model):
    """A carer's assessment, from request to offer to completion. Visible to the care
    coordinators of the people the carer chose to ask through: asking is the point."""

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested"
        OFFERED = "offered", "Offered"
        COMPLETED = "completed", "Completed"

    carer = models.ForeignKey(Carer, on_delete=models.CASCADE,
                              related_name="assessment_requests")
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.REQUESTED)
    requested_on = models.DateField(default=timezone.localdate)
    offered_on = models.DateField(null=True, blank=True)
    completed_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    # Whose care coordinators the carer asked: never everyone's by default.
    shared_with = models.ManyToManyField(CarerRelationship, blank=True, related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-requested_on", "-pk"]

    def __str__(self) -> str:
        return f"Carer's assessment for {self.carer}: {self.status}"


class CarerInsight(models.Model):
    """'What I know helps': what a carer has learned about the person they care for,
    told to the coordinator. The service user is told a carer contributed and may read
    it."""

    relationship = models.ForeignKey(CarerRelationship, on_delete=models.CASCADE,
                                     related_name="insights")
    text = models.TextField()
    created_at = models.DateTimeField(auto_now_add=True)
    read_by_service_user_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-created_at"]

    def __str__(self) -> str:
        return f"What {self.relationship.carer} knows helps"
