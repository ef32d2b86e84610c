"""The materialised consent grants: django-guardian's direct foreign-key permission
tables for plan items (ADR 0003). Written only by `consent.services`, in the same
transaction as the decision; read only by `consent.policy`. Nothing else imports this
module (checked by import-linter)."""

from __future__ import annotations

from django.contrib.auth.models import Permission
from django.db import models
from django.db.models.signals import post_migrate
from guardian.models import GroupObjectPermissionBase, UserObjectPermissionBase

VIEW_ITEM = ("plans", "view_planitem")


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


# The id of plans.view_planitem, read once per process: the policy then asks its grants
# `permission_id = n` instead of joining the permission and content-type tables into every
# carer's query (issue 15: 7.4 -> 7.0 ms on the guardian baseline's path, in building,
# compiling and planning the query). Forgotten whenever the tables are made again
# (post_migrate: migrate, or a test database's flush), when the row may have another id.
# A stale id matches no grant (only consent.services writes them, with the row's id as it
# is then), so it shows less, never more: a process that outlived the row being deleted
# and made again by hand (which deletes every grant with it) shares nothing until
# restarted.
_view_item_permission_id: int | None = None


def view_item_permission_id() -> int | None:
    """The id of the one permission the grant tables hold (None before migrations have made
    it: a grant filtered on None matches nothing, so nothing is shown)."""
    global _view_item_permission_id
    if _view_item_permission_id is None:
        _view_item_permission_id = (
            Permission.objects.filter(content_type__app_label=VIEW_ITEM[0],
                                      codename=VIEW_ITEM[1])
            .values_list("pk", flat=True).first())
    return _view_item_permission_id


def _forget_view_item_permission(**kwargs: object) -> None:
    global _view_item_permission_id
    _view_item_permission_id = None


post_migrate.connect(_forget_view_item_permission, dispatch_uid="consent.grants.forget_view")
