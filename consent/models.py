"""Per-item confidentiality consent: what each carer may see of a service user's plans.

`ConsentDecision` is the history (every change, never edited). `ItemConsent` and
`SectionRule` hold the current decision per carer and item or section. The effect —
which items a carer may read — is kept as django-guardian object permissions in the
direct foreign-key table `PlanItemUserObjectPermission`, written only by
consent/services.py in the same transaction as the decision, so a carer's visible
items are one indexed query.
"""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q

from plans.sections import section_choices


class DecidedAs(models.TextChoices):
    SERVICE_USER = "service_user", "The service user decided"
    PROFESSIONAL = "professional", "A professional recorded it on their behalf"


class ConsentDecision(models.Model):
    """One decision about sharing with one carer: an item, or a whole section (a rule
    that also covers items added later). Kept for ever as history."""

    service_user = models.ForeignKey(
        "carecoord.ServiceUser", on_delete=models.CASCADE, related_name="consent_decisions"
    )
    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE,
                              related_name="consent_decisions")
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=40, choices=section_choices())
    item = models.ForeignKey("plans.PlanItem", null=True, blank=True, on_delete=models.CASCADE,
                             related_name="consent_decisions")
    shared = models.BooleanField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_as = models.CharField(max_length=20, choices=DecidedAs.choices)
    basis = models.TextField(
        blank=True,
        help_text="Why a professional recorded it, e.g. 'Asked for this in our meeting'.",
    )
    expires_on = models.DateField(null=True, blank=True)
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["service_user", "decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_as="service_user") | ~Q(basis=""),
                name="professional_decision_has_basis",
            )
        ]

    def __str__(self) -> str:
        scope = f"item {self.item_id}" if self.item_id else f"section {self.section}"
        return f"{'share' if self.shared else 'do not share'} {scope} with {self.carer}"

    @property
    def is_section_rule(self) -> bool:
        return self.item_id is None


class ItemConsent(models.Model):
    """The current decision for one carer and one item. Overrides a section rule."""

    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("plans.PlanItem", on_delete=models.CASCADE, related_name="+")
    decision = models.ForeignKey(ConsentDecision, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "item"],
                                               name="one_current_item_consent")]

    def __str__(self) -> str:
        return str(self.decision)


class SectionRule(models.Model):
    """The current rule for one carer and one section of one plan: 'share my crisis plan
    with Mum' covers the section's items now and later."""

    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=40, choices=section_choices())
    decision = models.ForeignKey(ConsentDecision, on_delete=models.PROTECT, related_name="+")

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "plan", "section"],
                                               name="one_current_section_rule")]

    def __str__(self) -> str:
        return str(self.decision)


# The grant tables live in consent/grants.py, which only the policy and the consent
# services may import (an import-linter contract); imported here so Django registers them.
from consent.grants import (  # noqa: E402, F401
    PlanItemGroupObjectPermission,
    PlanItemUserObjectPermission,
)
