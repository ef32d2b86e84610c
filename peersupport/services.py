"""Writes for the directory, signposting and recovery stories.

Keyword-only; each service is one transaction. Signposting is part of a service user's
record, so every change to it writes an access event inside the same transaction.
Permission is the caller's to check (through consent.policy) before calling.
"""

from __future__ import annotations

import datetime as dt

from django.db import transaction
from django.utils import timezone

from carecoord.audit.services import access_event_record
from carecoord.notifications.services import notification_send
from carecoord.records.models import ServiceUser, User
from carecoord.web import date_bounds
from peersupport.models import (
    Offer,
    PublishAs,
    RecoveryStory,
    Signposting,
    StoryStatus,
    TakenUp,
)


class StoryActionError(Exception):
    """The story is not in a state where this can happen (someone else got there first)."""


def _normalise_text(value: str) -> str:
    """Plain text as typed, with one kind of line ending and no trailing spaces."""
    return "\n".join(line.rstrip() for line in value.replace("\r\n", "\n").split("\n")).strip()


# --- Directory ------------------------------------------------------------------------

OFFER_FIELDS = ("name", "kind", "audience", "place", "online", "when", "contact",
                "description")


@transaction.atomic
def offer_create(*, created_by: User, name: str, kind: str, audience: str, place: str,
                 online: bool, when: str, contact: str, description: str) -> Offer:
    offer = Offer(
        name=name.strip(), kind=kind, audience=audience, place=place.strip(), online=online,
        when=when.strip(), contact=contact.strip(), description=_normalise_text(description),
        updated_by=created_by,
    )
    offer.full_clean()
    offer.save()
    return offer


@transaction.atomic
def offer_update(*, offer: Offer, changed_by: User, **changes) -> Offer:
    offer = Offer.objects.select_for_update().get(pk=offer.pk)
    for name in OFFER_FIELDS:
        if name in changes:
            value = changes[name]
            if name == "description":
                value = _normalise_text(value)
            elif isinstance(value, str):
                value = value.strip()
            setattr(offer, name, value)
    offer.updated_by = changed_by
    offer.full_clean()
    offer.save()
    return offer


@transaction.atomic
def offer_set_active(*, offer: Offer, changed_by: User, active: bool) -> Offer:
    """Retire an offer (it leaves the directory; signposting to it is kept), or bring
    it back."""
    Offer.objects.filter(pk=offer.pk).update(
        active=active, updated_by=changed_by, updated_at=timezone.now()
    )
    offer.refresh_from_db()
    return offer


# --- Signposting ----------------------------------------------------------------------


@transaction.atomic
def signposting_record(*, service_user: ServiceUser, offer: Offer, offered_by: User,
                       basis: str, offered_on: dt.date | None = None,
                       taken_up: str = TakenUp.NOT_YET, outcome: str = "") -> Signposting:
    date_bounds.check_dates(offered_on=date_bounds.past_date_problem(offered_on))
    signposting = Signposting.objects.create(
        service_user=service_user, offer=offer, offered_by=offered_by,
        offered_on=offered_on or timezone.localdate(), taken_up=taken_up,
        outcome=_normalise_text(outcome),
    )
    access_event_record(
        actor=offered_by, service_user=service_user, action="signposting.record",
        target=f"signposting:{signposting.pk}", basis=basis,
    )
    return signposting


@transaction.atomic
def signposting_update(*, signposting: Signposting, changed_by: User, basis: str,
                       taken_up: str, outcome: str) -> Signposting:
    signposting = Signposting.objects.select_for_update().get(pk=signposting.pk)
    signposting.taken_up = taken_up
    signposting.outcome = _normalise_text(outcome)
    signposting.save(update_fields=["taken_up", "outcome", "updated_at"])
    access_event_record(
        actor=changed_by, service_user=signposting.service_user,
        action="signposting.update", target=f"signposting:{signposting.pk}", basis=basis,
    )
    return signposting


# --- Recovery stories -----------------------------------------------------------------


def _story_fields(*, title: str, body: str, publish_as: str, chosen_name: str) -> dict:
    return {
        "title": " ".join(title.split()),
        "body": _normalise_text(body),
        "publish_as": publish_as,
        # A chosen name is kept only while it is the one to show.
        "chosen_name": " ".join(chosen_name.split()) if publish_as == PublishAs.CHOSEN_NAME
        else "",
    }


def _locked(story: RecoveryStory, *allowed: str) -> RecoveryStory:
    story = RecoveryStory.objects.select_for_update().select_related("author").get(pk=story.pk)
    if allowed and story.status not in allowed:
        raise StoryActionError(
            f"This story is {story.get_status_display().lower()} now, so that cannot be done."
        )
    return story


@transaction.atomic
def story_create(*, author: User, title: str, body: str, publish_as: str,
                 chosen_name: str = "", submit: bool = False) -> RecoveryStory:
    now = timezone.now()
    story = RecoveryStory(
        author=author,
        status=StoryStatus.SUBMITTED if submit else StoryStatus.DRAFT,
        submitted_at=now if submit else None,
        **_story_fields(title=title, body=body, publish_as=publish_as,
                        chosen_name=chosen_name),
    )
    story.full_clean()
    story.save()
    return story


@transaction.atomic
def story_update(*, story: RecoveryStory, changed_by: User, title: str, body: str,
                 publish_as: str, chosen_name: str = "", submit: bool = False
                 ) -> RecoveryStory:
    """Its author changes it. A published story is withdrawn before it is changed, so
    nothing unapproved is ever shown."""
    story = _locked(story, StoryStatus.DRAFT, StoryStatus.SUBMITTED, StoryStatus.SENT_BACK,
                    StoryStatus.WITHDRAWN)
    if story.author_id != changed_by.pk:
        raise StoryActionError("Only its author can change a story.")
    for name, value in _story_fields(title=title, body=body, publish_as=publish_as,
                                     chosen_name=chosen_name).items():
        setattr(story, name, value)
    if submit and story.status != StoryStatus.SUBMITTED:
        story.status = StoryStatus.SUBMITTED
        story.submitted_at = timezone.now()
    story.full_clean()
    story.save()
    return story


@transaction.atomic
def story_submit(*, story: RecoveryStory, submitted_by: User) -> RecoveryStory:
    story = _locked(story, StoryStatus.DRAFT, StoryStatus.SENT_BACK, StoryStatus.WITHDRAWN)
    if story.author_id != submitted_by.pk:
        raise StoryActionError("Only its author can send a story for approval.")
    story.status = StoryStatus.SUBMITTED
    story.submitted_at = timezone.now()
    story.save(update_fields=["status", "submitted_at", "updated_at"])
    return story


def _unchanged_since(story: RecoveryStory, read_version: str | None) -> None:
    """A moderator decides about the text they read: if its author changed it since,
    they read it again first."""
    if read_version is not None and read_version != story_version(story):
        raise StoryActionError("The author has changed this story since you opened it. "
                               "Read it again before you decide.")


def story_version(story: RecoveryStory) -> str:
    return story.updated_at.isoformat() if story.updated_at else ""


@transaction.atomic
def story_publish(*, story: RecoveryStory, moderator: User,
                  read_version: str | None = None) -> RecoveryStory:
    story = _locked(story, StoryStatus.SUBMITTED)
    if story.author_id == moderator.pk:
        raise StoryActionError("Someone else must approve your own story.")
    _unchanged_since(story, read_version)
    now = timezone.now()
    story.status = StoryStatus.PUBLISHED
    story.published_at = now
    story.moderated_by = moderator
    story.moderated_at = now
    story.moderation_reason = ""
    story.save(update_fields=["status", "published_at", "moderated_by", "moderated_at",
                              "moderation_reason", "updated_at"])
    notification_send(user=story.author, text="Your recovery story has been published.",
                      url_name="story_detail", url_args=[story.pk])
    return story


@transaction.atomic
def story_send_back(*, story: RecoveryStory, moderator: User, reason: str,
                    read_version: str | None = None) -> RecoveryStory:
    """Send a submitted story back to its author with the reason, or take a published
    one down (it disappears at once) and do the same."""
    story = _locked(story, StoryStatus.SUBMITTED, StoryStatus.PUBLISHED)
    if story.author_id == moderator.pk:
        raise StoryActionError("Someone else must decide about your own story.")
    _unchanged_since(story, read_version)
    reason = _normalise_text(reason)
    if not reason:
        raise StoryActionError("Say why the story is being sent back.")
    story.status = StoryStatus.SENT_BACK
    story.published_at = None
    story.moderated_by = moderator
    story.moderated_at = timezone.now()
    story.moderation_reason = reason
    story.save(update_fields=["status", "published_at", "moderated_by", "moderated_at",
                              "moderation_reason", "updated_at"])
    notification_send(user=story.author,
                      text="Your recovery story has been sent back to you with a note.",
                      url_name="story_detail", url_args=[story.pk])
    return story


@transaction.atomic
def story_withdraw(*, story: RecoveryStory, withdrawn_by: User) -> RecoveryStory:
    """Its author takes it back, whatever state it is in: off the site at once; only the
    author and moderators can still read it."""
    story = _locked(story)
    if story.author_id != withdrawn_by.pk:
        raise StoryActionError("Only its author can withdraw a story.")
    if story.status == StoryStatus.WITHDRAWN:
        return story
    story.status = StoryStatus.WITHDRAWN
    story.withdrawn_at = timezone.now()
    story.published_at = None
    story.save(update_fields=["status", "withdrawn_at", "published_at", "updated_at"])
    return story
