"""Access rules for the peer-support directory, signposting and recovery stories.

Same shape as the rest of the policy: a queryset form and a single-object form built on
one predicate, and Http404 for anything not allowed.

- Directory: everyone signed in reads active offers; staff (care coordinators, managers,
  administrators) add, edit and retire them, and also see retired ones.
- Signposting is part of the service user's record: the person themselves and their
  allocated care coordinators read and record it. Managers get counts, never rows.
- Stories: a published story is open to everyone signed in. Until then, and after it
  is withdrawn, only its author and the moderators (managers and administrators) may
  read it — except a draft, which nobody but its author has been shown.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Q, QuerySet
from django.http import Http404

from carecoord.records.models import Role, ServiceUser
from consent.policy.base import FULL_BASES, Basis, _signed_in
from consent.policy.records import record_basis, records_read_in_full, records_visible_to
from peersupport.models import Offer, RecoveryStory, Signposting, StoryStatus

if TYPE_CHECKING:
    from consent.policy.base import Viewer

STAFF_ROLES = (Role.COORDINATOR, Role.MANAGER, Role.ADMIN)
MODERATOR_ROLES = (Role.MANAGER, Role.ADMIN)
STORY_WRITER_ROLES = (Role.SERVICE_USER, Role.CARER)
# A story its author may still change; a published one is withdrawn first.
STORY_EDITABLE = (StoryStatus.DRAFT, StoryStatus.SUBMITTED, StoryStatus.SENT_BACK,
                  StoryStatus.WITHDRAWN)
STORY_SUBMITTABLE = (StoryStatus.DRAFT, StoryStatus.SENT_BACK, StoryStatus.WITHDRAWN)


def _has_any_role(viewer: Viewer, roles: tuple[str, ...]) -> bool:
    return _signed_in(viewer) and any(viewer.has_role(role) for role in roles)


# --- Directory ------------------------------------------------------------------------


def can_manage_offers(viewer: Viewer) -> bool:
    return _has_any_role(viewer, STAFF_ROLES)


def offers_visible_to(viewer: Viewer, queryset: QuerySet[Offer] | None = None
                      ) -> QuerySet[Offer]:
    queryset = Offer.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    if can_manage_offers(viewer):
        return queryset
    return queryset.filter(active=True)


def offer_for_viewer(viewer: Viewer, offer_id: int) -> Offer:
    offer = offers_visible_to(viewer).filter(pk=offer_id).first()
    if offer is None:
        raise Http404("No such offer.")
    return offer


def offer_for_editor(viewer: Viewer, offer_id: int) -> Offer:
    offer = offer_for_viewer(viewer, offer_id)
    if not can_manage_offers(viewer):
        raise Http404("No such offer.")
    return offer


# --- Signposting ----------------------------------------------------------------------


def signposting_visible_to(
    viewer: Viewer, queryset: QuerySet[Signposting] | None = None
) -> QuerySet[Signposting]:
    """The service user's own, and those of the people the viewer is allocated to."""
    queryset = Signposting.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    # Signposting is for those who read the record in full, not its care team.
    return queryset.filter(service_user__in=records_read_in_full(viewer).values("pk"))


def signposting_visible_on_basis(
    viewer: Viewer, basis: Basis | None, queryset: QuerySet[Signposting]
) -> QuerySet[Signposting]:
    """`signposting_visible_to` for the signposting of one record (`queryset`) opened on
    `basis`: a reader of the whole record reads all of it (the rule is
    `records_read_in_full`, which is how that basis was found), so it is not asked
    again; on any other basis, nothing."""
    if basis in FULL_BASES:
        return queryset
    return queryset.none()


def can_record_signposting(viewer: Viewer, service_user: ServiceUser) -> bool:
    return can_record_signposting_on_basis(record_basis(viewer, service_user))


def can_record_signposting_on_basis(basis: Basis | None) -> bool:
    """`can_record_signposting` for a basis already known (the plan page's)."""
    return basis in (Basis.SELF, Basis.ALLOCATED_COORDINATOR)


def signposting_record_for_viewer(viewer: Viewer, service_user_id: int
                                  ) -> tuple[ServiceUser, Basis]:
    """A record the viewer may add signposting to (their own, or one they coordinate)."""
    service_user = records_visible_to(viewer).filter(pk=service_user_id).first()
    basis = record_basis(viewer, service_user) if service_user else None
    if service_user is None or basis not in (Basis.SELF, Basis.ALLOCATED_COORDINATOR):
        raise Http404("No such record.")
    return service_user, basis


def signposting_for_viewer(viewer: Viewer, signposting_id: int) -> tuple[Signposting, Basis]:
    signposting = (
        signposting_visible_to(
            viewer, Signposting.objects.select_related("service_user", "offer", "offered_by")
        ).filter(pk=signposting_id).first()
    )
    basis = record_basis(viewer, signposting.service_user) if signposting else None
    if signposting is None or basis not in (Basis.SELF, Basis.ALLOCATED_COORDINATOR):
        raise Http404("No such signposting.")
    return signposting, basis


# --- Recovery stories -----------------------------------------------------------------


def is_story_moderator(viewer: Viewer) -> bool:
    return _has_any_role(viewer, MODERATOR_ROLES)


def can_write_story(viewer: Viewer) -> bool:
    return _has_any_role(viewer, STORY_WRITER_ROLES)


def _story_predicate(viewer: Viewer) -> Q:
    visible = Q(status=StoryStatus.PUBLISHED) | Q(author_id=viewer.pk)
    if is_story_moderator(viewer):
        visible |= ~Q(status=StoryStatus.DRAFT)
    return visible


def stories_visible_to(
    viewer: Viewer, queryset: QuerySet[RecoveryStory] | None = None
) -> QuerySet[RecoveryStory]:
    queryset = RecoveryStory.objects.all() if queryset is None else queryset
    if not _signed_in(viewer):
        return queryset.none()
    return queryset.filter(_story_predicate(viewer))


def can_view_story(viewer: Viewer, story: RecoveryStory) -> bool:
    if not _signed_in(viewer):
        return False
    return (
        story.status == StoryStatus.PUBLISHED
        or story.author_id == viewer.pk
        or (is_story_moderator(viewer) and story.status != StoryStatus.DRAFT)
    )


def story_for_viewer(viewer: Viewer, story_id: int) -> RecoveryStory:
    story = (
        stories_visible_to(viewer, RecoveryStory.objects.select_related("author"))
        .filter(pk=story_id).first()
    )
    if story is None or not can_view_story(viewer, story):
        raise Http404("No such story.")
    return story


def can_edit_story(viewer: Viewer, story: RecoveryStory) -> bool:
    return (_signed_in(viewer) and story.author_id == viewer.pk
            and story.status in STORY_EDITABLE)


def can_submit_story(viewer: Viewer, story: RecoveryStory) -> bool:
    return (_signed_in(viewer) and story.author_id == viewer.pk
            and story.status in STORY_SUBMITTABLE)


def can_withdraw_story(viewer: Viewer, story: RecoveryStory) -> bool:
    """Its author, at any time, whatever state it is in."""
    return (_signed_in(viewer) and story.author_id == viewer.pk
            and story.status != StoryStatus.WITHDRAWN)


def stories_to_moderate(
    viewer: Viewer, queryset: QuerySet[RecoveryStory] | None = None
) -> QuerySet[RecoveryStory]:
    """Stories waiting for a decision, for moderators. Nobody approves their own."""
    queryset = RecoveryStory.objects.all() if queryset is None else queryset
    if not is_story_moderator(viewer):
        return queryset.none()
    return queryset.filter(status=StoryStatus.SUBMITTED).exclude(author_id=viewer.pk)


def can_moderate_story(viewer: Viewer, story: RecoveryStory) -> bool:
    """Approve or send back a submitted story, or take a published one down."""
    return (
        is_story_moderator(viewer)
        and story.author_id != viewer.pk
        and story.status in (StoryStatus.SUBMITTED, StoryStatus.PUBLISHED)
    )


def story_for_moderator(viewer: Viewer, story_id: int) -> RecoveryStory:
    story = story_for_viewer(viewer, story_id)
    if not can_moderate_story(viewer, story):
        raise Http404("No such story.")
    return story
