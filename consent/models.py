"""Per-item confidentiality consent: what each carer may see of a service user's plans.

`ConsentDecision` is the history (every change, never edited). `ItemConsent` and
`SectionRule` hold the current decision per carer and item or section. Their repeated
columns (a decision's service user, plan and section; the current decision's carer, item
or plan and section) must agree with the rows they repeat: on PostgreSQL the database's
constraint triggers refuse rows that do not (migration 0002), and `clean()` asks the same
questions on every database (ADR 0008). The effect —
which items a carer may read — is kept as django-guardian object permissions in the
direct foreign-key table `PlanItemUserObjectPermission`, written only by
consent/services.py in the same transaction as the decision, so a carer's visible
items are one indexed query.
"""

from __future__ import annotations

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models
from django.db.models import Q

from carecoord.scoping import ScopedManager
from plans.models import Plan, PlanItem
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
    # Sharing an item shares what it says now. The progress notes recorded on a goal are
    # a separate choice: shared only when this is also ticked (never by default).
    include_progress_notes = models.BooleanField(default=False)
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

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

    def scope_problem(self) -> str | None:
        """Why this decision's item, plan, section and service user do not agree, in words
        people can read; None when they do. The same questions as the database's trigger
        (migration 0002), asked of the stored rows rather than the objects in hand, so a
        stale or altered item gets the same answer here as there; on SQLite, which has no
        trigger, this is the only answer."""
        if self.item_id is not None:
            found = PlanItem.objects.filter(pk=self.item_id).values_list(
                "plan_id", "section", "plan__service_user_id").first()
            if found is None:
                return None  # no such item: the foreign key's error, not ours
            item_plan_id, item_section, owner_id = found
            if item_plan_id != self.plan_id:
                return "This item is in another plan."
            if item_section != self.section:
                return "This item is in another section of the plan."
        else:
            owner_id = Plan.objects.filter(pk=self.plan_id).values_list(
                "service_user_id", flat=True).first()
            if owner_id is None:
                return None
        if owner_id != self.service_user_id:
            return "This plan belongs to another service user."
        return None

    def clean(self) -> None:
        super().clean()
        problem = self.scope_problem()
        if problem is not None:
            raise ValidationError(problem)


class ItemConsent(models.Model):
    """The current decision for one carer and one item. Overrides a section rule."""

    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    item = models.ForeignKey("plans.PlanItem", on_delete=models.CASCADE, related_name="+")
    decision = models.ForeignKey(ConsentDecision, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "item"],
                                               name="one_current_item_consent")]

    def __str__(self) -> str:
        return str(self.decision)

    def clean(self) -> None:
        # carer and item repeat the decision's so that "one current decision per carer
        # and item" can be a unique constraint and the grants' lookup needs no join.
        super().clean()
        if self.decision_id is None:
            return  # the required field's own error
        decision = self.decision
        if (decision.carer_id, decision.item_id) != (self.carer_id, self.item_id):
            raise ValidationError("The current decision must be this carer's decision about "
                                  "this item.")


class SectionRule(models.Model):
    """The current rule for one carer and one section of one plan: 'share my crisis plan
    with Mum' covers the section's items now and later."""

    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    plan = models.ForeignKey("plans.Plan", on_delete=models.CASCADE, related_name="+")
    section = models.CharField(max_length=40, choices=section_choices())
    decision = models.ForeignKey(ConsentDecision, on_delete=models.PROTECT, related_name="+")

    objects = ScopedManager()

    class Meta:
        constraints = [models.UniqueConstraint(fields=["carer", "plan", "section"],
                                               name="one_current_section_rule")]

    def __str__(self) -> str:
        return str(self.decision)

    def clean(self) -> None:
        # As for ItemConsent: the repeated columns carry the unique constraint.
        super().clean()
        if self.decision_id is None:
            return
        decision = self.decision
        if (decision.carer_id, decision.plan_id, decision.section, decision.item_id) != (
                self.carer_id, self.plan_id, self.section, None):
            raise ValidationError("The current rule must be this carer's decision about this "
                                  "section of this plan.")


class ReviewInvolvementDecision(models.Model):
    """Whether a carer is invited to give their views before the service user's care plan
    reviews: a consent decision like any other, decided by the service user (or recorded
    for them by their coordinator, with the basis), kept for ever as history. The latest
    one for a carer and service user is the one in force (`consent.policy.reviews`);
    the default, with none, is not involved."""

    service_user = models.ForeignKey("carecoord.ServiceUser", on_delete=models.CASCADE,
                                     related_name="review_involvement_decisions")
    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE,
                              related_name="review_involvement_decisions")
    involved = models.BooleanField()
    decided_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                   related_name="+")
    decided_as = models.CharField(max_length=20, choices=DecidedAs.choices)
    basis = models.TextField(blank=True)
    note = models.TextField(blank=True)
    decided_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-decided_at", "-pk"]
        indexes = [models.Index(fields=["carer", "service_user", "decided_at"])]
        constraints = [
            models.CheckConstraint(
                condition=Q(decided_as="service_user") | ~Q(basis=""),
                name="professional_involvement_decision_has_basis",
            )
        ]

    def __str__(self) -> str:
        return f"{'involve' if self.involved else 'do not involve'} {self.carer} in reviews"


# The grant tables live in consent/grants.py, which only the policy and the consent
# services may import (an import-linter contract); imported here so Django registers them.
from consent.grants import (  # noqa: E402, F401
    PlanItemGroupObjectPermission,
    PlanItemUserObjectPermission,
)
