"""Who may use the administration area (teams, staff accounts, the audit of their
changes): people who hold the administrator role on an active account. Everyone else
gets the same 404 as for a page that does not exist.

Administrators get no special access to records: nothing here opens a record, a plan or
an item; those rules (in the other modules) do not mention administrators at all.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from carecoord.records.models import Role, User, UserRole
from consent.policy.base import _signed_in

if TYPE_CHECKING:
    from consent.policy.base import Viewer


def _administrator_q() -> Q:
    """The one predicate: an active account holding the administrator role. (Django's
    is_staff/is_superuser flags are for the emergency Django admin, not this area.)"""
    return Q(is_active=True, pk__in=UserRole.objects.filter(role=Role.ADMIN).values("user_id"))


def administrators(queryset: QuerySet[User] | None = None) -> QuerySet[User]:
    """The people (among `queryset`) who may use the administration area."""
    queryset = User.objects.all() if queryset is None else queryset
    return queryset.filter(_administrator_q())


def can_administer(viewer: Viewer) -> bool:
    """May `viewer` use the administration area? The queryset rule asked about them."""
    if not _signed_in(viewer):
        return False
    # The header asks this on every page: someone whose roles (already read for this
    # request) do not include administrator cannot pass the rule, so it is not asked of
    # the database; for those who may, the rule itself decides.
    if Role.ADMIN not in viewer.roles:
        return False
    return administrators(User.objects.filter(pk=viewer.pk)).exists()


def administrator_or_404(viewer: Viewer) -> User:
    """The viewer, if they may use the administration area; otherwise 404."""
    if not can_administer(viewer):
        raise Http404("No such page.")
    return viewer
