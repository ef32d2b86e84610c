"""Carers and their relationships with the service users they support."""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


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

    class Meta:
        ordering = ["full_name"]

    def __str__(self) -> str:
        return self.name

    @property
    def name(self) -> str:
        return self.preferred_name or self.full_name


class CarerRelationshipQuerySet(models.QuerySet):
    def active(self) -> "CarerRelationshipQuerySet":
        return self.filter(ended_on__isnull=True)


class CarerRelationship(models.Model):
    """That a carer supports a service user. Its existence is all a carer sees until the
    service user shares plan items with them."""

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

    objects = CarerRelationshipQuerySet.as_manager()

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
        return self.ended_on is None
