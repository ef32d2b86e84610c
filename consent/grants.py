"""The materialised consent grants: django-guardian's direct foreign-key permission
tables for plan items (ADR 0003). Written only by `consent.services`, in the same
transaction as the decision; read only by `consent.policy`. Nothing else imports this
module (checked by import-linter)."""

from __future__ import annotations

from django.db import models
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase


class PlanItemUserObjectPermission(UserObjectPermissionBase):
    """django-guardian's direct foreign-key permission table for plan items. The extra
    columns record which decision granted it and until when; the policy honours the
    expiry at read time, so an expired grant is never shown, cleanup or not."""

    content_object = models.ForeignKey("plans.PlanItem", on_delete=models.CASCADE)
    expires_on = models.DateField(null=True, blank=True)
    # Every grant is some decision's effect (consent.services._sync writes no other), so
    # it names one. Decisions are history and are never deleted; one that still grants
    # access must not disappear from under its grant (PROTECT), nor leave the grant
    # standing unexplained (what SET_NULL did).
    decision = models.ForeignKey("consent.ConsentDecision", on_delete=models.PROTECT,
                                 related_name="+")

    class Meta(UserObjectPermissionBase.Meta):
        indexes = [models.Index(fields=["user", "content_object"])]


class PlanItemGroupObjectPermission(GroupObjectPermissionBase):
    """Guardian asks for the group twin of a direct table; groups are never granted."""

    content_object = models.ForeignKey("plans.PlanItem", on_delete=models.CASCADE)
