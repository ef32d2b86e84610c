"""Who exactly can read each item of a service user's plans: the same rules as
`items_visible_to`, seen from the other side (the item's, not the viewer's).

The consent pages say "You, your care coordinator Sam Okafor and Mum can see this"
instead of "Nobody else can see this". The answer has to be the policy's, not a
template's guess, so it is built here from the very pieces the read rules use: the
record's readers (the person and their allocated care coordinators, `coordinators_of`),
the care-team table (`AREAS_BY_ROLE`, `ITEM_AREAS`, `BREAK_GLASS_AREAS`), and the live
grants of carers (`_shared_with`'s conditions). A fixed number of queries for any number
of items. tests/consent/test_readers.py checks every reader named here against
`items_visible_to`, and every other person of the test world against it too.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field

from django.db.models import Q
from django.utils import timezone

from carecoord.records.models import (
    STAFF_ROLES,
    BreakGlassAccess,
    CareTeamMember,
    ServiceUser,
    User,
)
from carers.models import Carer, CarerRelationship
from consent.grants import PlanItemUserObjectPermission, view_item_permission_id
from consent.policy.base import coordinators_of
from consent.policy.care_team import (
    BREAK_GLASS_AREAS,
    Area,
    area_of_entry,
    roles_seeing,
)
from plans.models import Plan, PlanItem


@dataclass(frozen=True)
class CareTeamReader:
    user: User
    role: str  # the care-team role, in words ("Psychiatrist"), or "emergency access"
    emergency: bool = False


@dataclass
class ItemReaders:
    """Everyone who can read one item now, other than by being an administrator of the
    database: nobody is left out and nobody is added."""

    service_user: User | None  # their own account, if they have one
    coordinators: list[User]
    care_team: list[CareTeamReader] = field(default_factory=list)
    carers: list[Carer] = field(default_factory=list)

    @property
    def users(self) -> set[int]:
        """The ids of every account that can read the item (for checks and tests)."""
        ids = {user.pk for user in self.coordinators}
        ids |= {reader.user.pk for reader in self.care_team}
        ids |= {carer.user_id for carer in self.carers if carer.user_id}
        if self.service_user is not None:
            ids.add(self.service_user.pk)
        return ids


def _staff() -> Q:
    """The members side of `care_team._is_staff`: active, with a staff role."""
    return Q(member__is_active=True, member__role_grants__role__in=STAFF_ROLES)


def _area_holders(service_user: ServiceUser) -> dict[Area, list[CareTeamReader]]:
    """For each area, who holds it of this record now: a current care-team place whose
    role the table allows, or an unexpired emergency access (the other side of
    `care_team._granted`). Two queries."""
    holders: dict[Area, list[CareTeamReader]] = defaultdict(list)
    places = (CareTeamMember.objects.current().filter(service_user=service_user)
              .filter(_staff()).select_related("member").distinct()
              .order_by("member__full_name", "pk"))
    for place in places:
        for area in Area:
            if place.care_team_role in roles_seeing(area):
                holders[area].append(CareTeamReader(
                    user=place.member, role=place.get_care_team_role_display()))
    accesses = (BreakGlassAccess.objects.active().filter(service_user=service_user)
                .filter(professional__is_active=True,
                        professional__role_grants__role__in=STAFF_ROLES)
                .select_related("professional").distinct().order_by("pk"))
    for access in accesses:
        for area in BREAK_GLASS_AREAS:
            holders[area].append(CareTeamReader(user=access.professional,
                                                role="emergency access", emergency=True))
    return holders


def _carers_with_grants(service_user: ServiceUser,
                        items: list[PlanItem]) -> dict[int, list[Carer]]:
    """For each item, the carers it is shared with now: a live grant while the carer
    relationship is active (`plans._shared_with`'s conditions). Two queries."""
    today = timezone.localdate()
    grants = list(
        PlanItemUserObjectPermission.objects.filter(
            content_object_id__in=[item.pk for item in items if item.removed_at is None],
            permission_id=view_item_permission_id(),
        ).filter(Q(expires_on__isnull=True) | Q(expires_on__gte=today))
        .values_list("content_object_id", "user_id")
    )
    carers = {
        relationship.carer.user_id: relationship.carer
        for relationship in CarerRelationship.objects.active().filter(
            service_user=service_user,
            carer__user_id__in={user_id for _, user_id in grants},
            carer__user__is_active=True,
        ).select_related("carer")
    }
    by_item: dict[int, list[Carer]] = defaultdict(list)
    for item_id, user_id in grants:
        if user_id in carers:
            by_item[item_id].append(carers[user_id])
    for shared in by_item.values():
        shared.sort(key=lambda carer: carer.name)
    return by_item


def item_readers(service_user: ServiceUser,
                 items: Iterable[PlanItem]) -> dict[int, ItemReaders]:
    """Who can read each of `items` (all of one service user's plans) now, by item id.
    The caller has already opened the record for the viewer (consent pages: the
    service user or their coordinator), who may know who else reads it."""
    items = list(items)
    owner = service_user.user if service_user.user_id and service_user.user.is_active else None
    coordinators = list(coordinators_of(service_user).filter(is_active=True)
                        .order_by("full_name", "pk"))
    holders = _area_holders(service_user)
    carers = _carers_with_grants(service_user, items)
    kinds = dict(Plan.objects.filter(pk__in={item.plan_id for item in items})
                 .values_list("pk", "kind"))
    readers = {}
    for item in items:
        area = area_of_entry(kind=kinds[item.plan_id],
                             entry={"section": item.section, "prompt": item.prompt})
        readers[item.pk] = ItemReaders(
            service_user=owner, coordinators=coordinators,
            care_team=list(holders.get(area, [])) if area else [],
            carers=list(carers.get(item.pk, [])),
        )
    return readers


def record_readers(service_user: ServiceUser) -> ItemReaders:
    """Who can read everything in the person's plans: they and their care coordinators."""
    owner = service_user.user if service_user.user_id and service_user.user.is_active else None
    return ItemReaders(service_user=owner, coordinators=list(
        coordinators_of(service_user).filter(is_active=True).order_by("full_name", "pk")))
