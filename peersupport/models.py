"""Peer support and learning: the directory of offers, signposting people to them, and
stories of recovery written by service users and carers."""

from __future__ import annotations

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone

from carecoord.scoping import ScopedManager


class OfferKind(models.TextChoices):
    PEER_SUPPORT_GROUP = "peer_support_group", "Peer support group"
    COURSE = "course", "Course"
    RECOVERY_COLLEGE = "recovery_college", "Recovery college session"
    ONLINE_COMMUNITY = "online_community", "Online community"
    OTHER = "other", "Something else"


class Audience(models.TextChoices):
    SERVICE_USERS = "service_users", "People using mental health services"
    CARERS = "carers", "Carers, family and friends"
    BOTH = "both", "Everyone: people using services and carers"


class OfferQuerySet(models.QuerySet):
    def active(self) -> OfferQuerySet:
        return self.filter(active=True)

    def for_audience(self, audience: str) -> OfferQuerySet:
        """Offers for service users or for carers include those for both."""
        if audience in (Audience.SERVICE_USERS, Audience.CARERS):
            return self.filter(audience__in=[audience, Audience.BOTH])
        return self


class Offer(models.Model):
    """A group, course, recovery college session or online community people can be
    signposted to. Staff keep the directory; everyone signed in can search it."""

    name = models.CharField(max_length=200)
    kind = models.CharField("kind of opportunity", max_length=30, choices=OfferKind.choices)
    audience = models.CharField("who it is for", max_length=20, choices=Audience.choices)
    place = models.CharField("where it happens", max_length=200, blank=True)
    online = models.BooleanField("it happens online", default=False)
    when = models.CharField("when it happens", max_length=200)
    contact = models.CharField("how to get in touch", max_length=300)
    description = models.TextField("short description", max_length=600)
    active = models.BooleanField(default=True, help_text="Retired offers are not shown.")
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    updated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )

    objects = OfferQuerySet.as_manager()

    class Meta:
        ordering = ["name", "pk"]
        constraints = [
            models.CheckConstraint(
                condition=~Q(place="") | Q(online=True), name="offer_has_place_or_online"
            )
        ]

    def __str__(self) -> str:
        return self.name

    @property
    def where_text(self) -> str:
        if self.place and self.online:
            return f"{self.place}, and online"
        return self.place or "Online"


class TakenUp(models.TextChoices):
    NOT_YET = "not_yet", "Not yet"
    YES = "yes", "Yes"
    NO = "no", "No"


class Signposting(models.Model):
    """That someone was offered an opportunity from the directory, whether they took it
    up and what came of it. Part of the service user's record, shown on the care plan."""

    service_user = models.ForeignKey(
        "carecoord.ServiceUser", on_delete=models.CASCADE, related_name="signpostings"
    )
    offer = models.ForeignKey(Offer, on_delete=models.PROTECT, related_name="signpostings")
    offered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    offered_on = models.DateField(default=timezone.localdate)
    taken_up = models.CharField(
        max_length=10, choices=TakenUp.choices, default=TakenUp.NOT_YET
    )
    outcome = models.TextField("what came of it", blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-offered_on", "-pk"]
        indexes = [models.Index(fields=["service_user", "offered_on"])]

    def __str__(self) -> str:
        return f"{self.offer} offered to {self.service_user}"


class PublishAs(models.TextChoices):
    MY_NAME = "my_name", "Under my name"
    CHOSEN_NAME = "chosen_name", "Under a name I choose"
    ANONYMOUSLY = "anonymous", "Anonymously"


class StoryStatus(models.TextChoices):
    DRAFT = "draft", "Draft"
    SUBMITTED = "submitted", "Waiting for approval"
    PUBLISHED = "published", "Published"
    SENT_BACK = "sent_back", "Sent back"
    WITHDRAWN = "withdrawn", "Withdrawn"


ANONYMOUS = "Anonymous"


class RecoveryStory(models.Model):
    """A story of recovery in its author's words. Plain text: it is shown escaped, with
    its line breaks, and never as markup. Nobody else reads it until a moderator
    approves it; its author can withdraw it at any time."""

    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, on_delete=models.CASCADE, related_name="recovery_stories"
    )
    title = models.CharField(max_length=150)
    body = models.TextField("your story", max_length=20000)
    publish_as = models.CharField(
        "how to show who wrote it", max_length=20, choices=PublishAs.choices,
        default=PublishAs.ANONYMOUSLY,
    )
    chosen_name = models.CharField("the name to show", max_length=100, blank=True)
    status = models.CharField(
        max_length=20, choices=StoryStatus.choices, default=StoryStatus.DRAFT
    )
    moderation_reason = models.TextField("why it was sent back", blank=True)
    moderated_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
        related_name="+",
    )
    moderated_at = models.DateTimeField(null=True, blank=True)
    submitted_at = models.DateTimeField(null=True, blank=True)
    published_at = models.DateTimeField(null=True, blank=True)
    withdrawn_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-published_at", "-pk"]
        verbose_name_plural = "recovery stories"
        constraints = [
            models.CheckConstraint(
                condition=~Q(publish_as="chosen_name") | ~Q(chosen_name=""),
                name="story_chosen_name_given",
            ),
            models.CheckConstraint(
                condition=~Q(status="published") | Q(published_at__isnull=False),
                name="story_published_has_date",
            ),
        ]
        indexes = [models.Index(fields=["status", "published_at"])]

    def __str__(self) -> str:
        return self.title

    @property
    def byline(self) -> str:
        """The name shown with the story: never the author's name if they chose
        anonymity or a name of their own."""
        if self.publish_as == PublishAs.MY_NAME:
            return self.author.display_name
        if self.publish_as == PublishAs.CHOSEN_NAME and self.chosen_name:
            return self.chosen_name
        return ANONYMOUS

    @property
    def is_published(self) -> bool:
        return self.status == StoryStatus.PUBLISHED
