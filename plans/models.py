"""Care plans, WRAP plans and responsibility agreements; their items, history, versions,
signatures, goals' agreements and progress, suggestions and reviews."""

from __future__ import annotations

import hashlib
import json

from django.conf import settings
from django.core.validators import MaxValueValidator, MinValueValidator
from django.db import models
from django.db.models import Q

from carecoord.scoping import ScopedManager
from carecoord.web import date_bounds
from plans.sections import ItemType, PlanKind, section_choices, sections_for


class Plan(models.Model):
    """One plan of one kind for one service user. Its content is its items; what was
    agreed is its versions."""

    service_user = models.ForeignKey(
        "carecoord.ServiceUser", on_delete=models.CASCADE, related_name="plans"
    )
    kind = models.CharField(max_length=30, choices=PlanKind.choices)
    next_review_on = models.DateField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    # Bumped by every content change; a version records the revision it froze, so
    # "has anything changed since the last version?" is one comparison.
    content_revision = models.PositiveIntegerField(default=0)

    objects = ScopedManager()

    class Meta:
        ordering = ["service_user", "kind"]
        constraints = [
            models.UniqueConstraint(fields=["service_user", "kind"], name="one_plan_per_kind")
        ]

    def __str__(self) -> str:
        return f"{self.get_kind_display()} for {self.service_user}"

    @property
    def sections(self):
        return sections_for(self.kind)


class PlanItem(models.Model):
    """The unit of content, co-editing, history and sharing. Every plan kind uses it;
    the consent app points at it with a direct foreign key."""

    class WrittenBy(models.TextChoices):
        SERVICE_USER = "service_user", "Written by the service user"
        RECORDED_IN_MEETING = "recorded_in_meeting", "Recorded by the care coordinator in a meeting"
        COORDINATOR = "coordinator", "Written by the care coordinator"
        CARER = "carer", "Written by a carer"
        SUGGESTION_ACCEPTED = (
            "suggestion_accepted",
            "Suggested by the care coordinator, accepted by the service user",
        )
        SAID_BY_SERVICE_USER = (
            "said_by_service_user",
            "In the service user's words, recorded by the care coordinator",
        )

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="items")
    section = models.CharField(max_length=40, choices=section_choices())
    # For fixed questions (e.g. the crisis plan's "early signs"); empty for free items.
    prompt = models.CharField(max_length=40, blank=True)
    item_type = models.CharField(max_length=20, choices=ItemType.choices, default=ItemType.TEXT)
    title = models.CharField(max_length=200)
    body = models.TextField(blank=True)
    # Structured parts of goals and responsibilities (domain, target date, the positive
    # risk, ...), only the keys `plans.services.DETAIL_KEYS` allows for the item's type.
    # Who holds a responsibility is not here: it is a `Responsibility`, with real keys.
    details = models.JSONField(default=dict, blank=True)
    position = models.PositiveIntegerField(default=0)
    written_by = models.CharField(max_length=30, choices=WrittenBy.choices)
    author = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    revision = models.PositiveIntegerField(default=1)
    # The service user's own words wherever the item sits (a first meeting's "Who matters
    # to me" under carer involvement): they may change it like their own-words sections.
    own_words = models.BooleanField(default=False)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    removed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["plan", "section", "position", "pk"]
        indexes = [models.Index(fields=["plan", "section"])]
        constraints = [
            models.UniqueConstraint(
                fields=["plan", "prompt"], condition=~Q(prompt=""), name="one_item_per_prompt"
            )
        ]

    def __str__(self) -> str:
        return self.title

    @property
    def is_empty(self) -> bool:
        return not self.body.strip()

    def structured(self) -> dict:
        """The structured parts as one dict: `details`, and for a responsibility who holds
        it (from its `Responsibility`). What pages, the API, history and versions show."""
        responsibility = (getattr(self, "responsibility", None)
                          if self.item_type == ItemType.RESPONSIBILITY else None)
        if responsibility is None:
            return dict(self.details)
        return {**self.details, **responsibility.as_details()}

    def snapshot(self) -> dict:
        """What a version freezes of this item; also what history compares."""
        return {
            "id": self.pk,
            "section": self.section,
            "prompt": self.prompt,
            "item_type": self.item_type,
            "title": self.title,
            "body": self.body,
            "details": self.structured(),
            "written_by": self.written_by,
            "revision": self.revision,
        }


class Responsibility(models.Model):
    """Who holds a responsibility on a responsibility agreement: the service user, one of
    their carers (a real relationship, who then signs the agreement), the care
    coordinator, or a named service."""

    class Holder(models.TextChoices):
        SERVICE_USER = "service_user", "The service user"
        CARER = "carer", "A carer"
        COORDINATOR = "coordinator", "The care coordinator"
        SERVICE = "service", "A service"

    item = models.OneToOneField(PlanItem, on_delete=models.CASCADE,
                                related_name="responsibility")
    holder = models.CharField(max_length=20, choices=Holder.choices)
    holder_relationship = models.ForeignKey(
        "carers.CarerRelationship", null=True, blank=True, on_delete=models.PROTECT,
        related_name="responsibilities",
    )
    holder_service = models.CharField(max_length=200, blank=True)

    objects = ScopedManager()

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(Q(holder="carer") & Q(holder_relationship__isnull=False))
                | (~Q(holder="carer") & Q(holder_relationship__isnull=True)),
                name="carer_holder_names_a_relationship"),
            models.CheckConstraint(
                condition=(Q(holder="service") & ~Q(holder_service=""))
                | (~Q(holder="service") & Q(holder_service="")),
                name="service_holder_names_a_service"),
        ]

    def __str__(self) -> str:
        return f"{self.get_holder_display()} holds {self.item_id}"

    def as_details(self) -> dict:
        """As the `holder*` keys versions have always frozen (so their hashes hold)."""
        details: dict = {"holder": self.holder}
        if self.holder_relationship_id is not None:
            details["holder_relationship"] = self.holder_relationship_id
        if self.holder_service:
            details["holder_service"] = self.holder_service
        return details


class ItemChange(models.Model):
    """One change to an item: who, when, what it was before and after."""

    class Action(models.TextChoices):
        CREATED = "created", "Created"
        CHANGED = "changed", "Changed"
        REMOVED = "removed", "Removed"

    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="changes")
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, on_delete=models.SET_NULL, related_name="+"
    )
    changed_at = models.DateTimeField(auto_now_add=True)
    revision = models.PositiveIntegerField()
    action = models.CharField(max_length=20, choices=Action.choices)
    before = models.JSONField(null=True)
    after = models.JSONField(null=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["item", "revision"]

    def __str__(self) -> str:
        return f"{self.action} {self.item_id} r{self.revision}"


class GoalAgreement(models.Model):
    """One side's agreement to a goal at one revision. A goal is agreed when the service
    user and a care coordinator have both agreed to its current revision."""

    class Party(models.TextChoices):
        SERVICE_USER = "service_user", "Service user"
        COORDINATOR = "coordinator", "Care coordinator"

    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="agreements")
    party = models.CharField(max_length=20, choices=Party.choices)
    agreed_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                  related_name="+")
    revision = models.PositiveIntegerField()
    agreed_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["item", "party", "revision"],
                                    name="one_agreement_per_party_and_revision")
        ]

    def __str__(self) -> str:
        return f"{self.party} agreed r{self.revision}"


class ProgressUpdate(models.Model):
    """A dated note and a 0–10 rating of how a goal is going."""

    item = models.ForeignKey(PlanItem, on_delete=models.CASCADE, related_name="progress")
    recorded_on = models.DateField()
    rating = models.PositiveSmallIntegerField(
        validators=[MinValueValidator(0), MaxValueValidator(10)]
    )
    note = models.TextField(blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["recorded_on", "pk"]
        constraints = [
            models.CheckConstraint(condition=Q(rating__gte=0, rating__lte=10),
                                   name="progress_rating_0_to_10")
        ]

    def __str__(self) -> str:
        return f"{self.rating}/10 on {self.recorded_on}"

    def clean(self) -> None:
        super().clean()
        date_bounds.check_dates(recorded_on=date_bounds.past_date_problem(self.recorded_on))


def content_hash(snapshot: list[dict]) -> str:
    canonical = json.dumps(snapshot, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class PlanVersionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        if set(kwargs) - {"agreed_at"}:
            raise ValueError("A plan version's content cannot be changed.")
        return super().update(**kwargs)


class PlanVersion(models.Model):
    """An immutable snapshot of a plan's items, proposed for signature."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="versions")
    number = models.PositiveIntegerField()
    snapshot = models.JSONField()
    content_hash = models.CharField(max_length=64)
    plan_revision = models.PositiveIntegerField()
    proposed_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    proposed_at = models.DateTimeField(auto_now_add=True)
    agreed_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager.from_queryset(PlanVersionQuerySet)()

    class Meta:
        ordering = ["plan", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "number"], name="unique_version_number")
        ]
        # The versions still waiting for agreement: few at any time, but asked for on
        # every page (things to do: what to sign) and by "getting stuck". Without it each
        # of those reads every version of every plan (issue 15).
        indexes = [models.Index(fields=["plan"], condition=Q(agreed_at__isnull=True),
                                name="version_awaiting_agreement")]

    def __str__(self) -> str:
        return f"Version {self.number} of {self.plan}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            # Only the agreed time may be set later; the content never changes.
            kwargs["update_fields"] = ["agreed_at"]
        super().save(*args, **kwargs)

    def recompute_hash(self) -> str:
        return content_hash(self.snapshot)


class RequiredSigner(models.Model):
    """Who must sign a version for it to be agreed, fixed when it is proposed: the service
    user, a care coordinator allocated at the time of signing, and every carer named as
    holding a responsibility."""

    class Role(models.TextChoices):
        SERVICE_USER = "service_user", "Service user"
        COORDINATOR = "coordinator", "Care coordinator"
        CARER = "carer", "Carer"

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE,
                                related_name="required_signers")
    role = models.CharField(max_length=20, choices=Role.choices)
    carer = models.ForeignKey("carers.Carer", null=True, blank=True, on_delete=models.CASCADE,
                              related_name="+")

    objects = ScopedManager()

    class Meta:
        constraints = [
            # One row per role, and per carer for carers. Two conditional constraints,
            # because a plain unique constraint lets NULL carers repeat.
            models.UniqueConstraint(fields=["version", "role"],
                                    condition=Q(carer__isnull=True),
                                    name="one_required_signer_per_role"),
            models.UniqueConstraint(fields=["version", "carer"],
                                    condition=Q(carer__isnull=False),
                                    name="one_required_signer_per_carer"),
            models.CheckConstraint(condition=Q(role="carer", carer__isnull=False)
                                   | (~Q(role="carer") & Q(carer__isnull=True)),
                                   name="carer_signer_names_carer"),
        ]
        indexes = [models.Index(fields=["carer", "role"])]

    def __str__(self) -> str:
        return f"{self.role} for v{self.version_id}"


class Signature(models.Model):
    """A signer's decision on a version: signed (bound to its content hash) or declined
    with their reasons."""

    class Decision(models.TextChoices):
        SIGNED = "signed", "Signed"
        DECLINED = "declined", "Declined to sign"

    version = models.ForeignKey(PlanVersion, on_delete=models.CASCADE, related_name="signatures")
    signer = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                               related_name="plan_signatures")
    role = models.CharField(max_length=20, choices=RequiredSigner.Role.choices)
    decision = models.CharField(max_length=10, choices=Decision.choices)
    reason = models.TextField(blank=True)
    content_hash = models.CharField(max_length=64)
    signed_at = models.DateTimeField(auto_now_add=True)
    ip_address = models.GenericIPAddressField(null=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["signed_at"]
        constraints = [
            models.UniqueConstraint(fields=["version", "signer"], name="one_signature_per_signer")
        ]

    def __str__(self) -> str:
        return f"{self.signer} {self.decision} v{self.version.number}"


class Suggestion(models.Model):
    """A care coordinator's suggestion on a WRAP, which the service user accepts or
    dismisses. It never changes the WRAP by itself."""

    class Status(models.TextChoices):
        OPEN = "open", "Waiting for an answer"
        ACCEPTED = "accepted", "Accepted"
        DISMISSED = "dismissed", "Dismissed"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="suggestions")
    section = models.CharField(max_length=40, choices=section_choices())
    item = models.ForeignKey(PlanItem, null=True, blank=True, on_delete=models.CASCADE,
                             related_name="suggestions")
    text = models.TextField()
    suggested_by = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                                     related_name="+")
    suggested_at = models.DateTimeField(auto_now_add=True)
    status = models.CharField(max_length=10, choices=Status.choices, default=Status.OPEN)
    answered_at = models.DateTimeField(null=True, blank=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-suggested_at"]

    def __str__(self) -> str:
        return f"Suggestion on {self.plan}"


class Review(models.Model):
    """A care plan review: who came, what changed, the next date, and whether the
    service user felt listened to — in their own answer."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reviews")
    held_on = models.DateField()
    attendees = models.TextField(help_text="Who came, including carers.")
    carers_attended = models.ManyToManyField("carers.Carer", blank=True, related_name="+")
    what_changed = models.TextField()
    next_review_on = models.DateField()
    # "Did you feel listened to?" is answered by the service user themselves, afterwards.
    listened_score = models.PositiveSmallIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(5)]
    )
    listened_comment = models.TextField(blank=True)
    listened_answered_at = models.DateTimeField(null=True, blank=True)
    recorded_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                    on_delete=models.SET_NULL, related_name="+")
    created_at = models.DateTimeField(auto_now_add=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-held_on"]
        constraints = [
            models.CheckConstraint(
                condition=Q(listened_score__isnull=True)
                | Q(listened_score__gte=1, listened_score__lte=5),
                name="listened_score_1_to_5",
            )
        ]

    def __str__(self) -> str:
        return f"Review on {self.held_on}"


CARER_VIEWS_MAX_LENGTH = 3000


class CarerReviewViews(models.Model):
    """A carer's views, in their own words, for one care plan review (the plan's review
    date when they wrote them). Only a carer the service user involves in reviews can
    write them (consent.policy.reviews); the coordinators read them on the plan's reviews.
    When the review is recorded it names whose views it received (`review`)."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="carer_views")
    review_due_on = models.DateField()
    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    views = models.TextField(max_length=CARER_VIEWS_MAX_LENGTH)
    written_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    review = models.ForeignKey(Review, null=True, blank=True, on_delete=models.SET_NULL,
                               related_name="carer_views")

    objects = ScopedManager()

    class Meta:
        ordering = ["written_at", "pk"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "review_due_on", "carer"],
                                    name="one_carer_views_per_review"),
        ]

    def __str__(self) -> str:
        return f"Views of carer {self.carer_id} for review on {self.review_due_on}"



class ReviewReminder(models.Model):
    """That a reminder went out for one review date at one threshold. The unique
    constraint is what makes "exactly one reminder per review per threshold" true however
    often, or however concurrently, the sweep runs."""

    class Threshold(models.TextChoices):
        DUE_SOON = "due_soon", "Due soon"
        DUE_TODAY = "due_today", "Due today"
        OVERDUE = "overdue", "Overdue"

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="reminders")
    review_due_on = models.DateField()
    threshold = models.CharField(max_length=10, choices=Threshold.choices)
    sent_at = models.DateTimeField(auto_now_add=True)
    notified = models.BooleanField(
        default=True,
        help_text="False when a later threshold was reached at the same time and sent "
                  "instead (after the sweep could not run for a while).",
    )

    objects = ScopedManager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "review_due_on", "threshold"],
                                    name="one_reminder_per_review_and_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.threshold} reminder for review on {self.review_due_on}"


class FirstMeeting(models.Model):
    """The draft of an episode's first meeting, saved step by step on the server
    (plans.first_meeting), until the coordinator saves it to the care plan."""

    episode = models.OneToOneField("carecoord.Episode", on_delete=models.CASCADE,
                                   related_name="first_meeting")
    # Step code -> the answer as typed (text), or an ISO date for the planned end.
    answers = models.JSONField(default=dict, blank=True)
    started_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True,
                                   on_delete=models.SET_NULL, related_name="+")
    started_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)
    finished_at = models.DateTimeField(null=True, blank=True)
    finished_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                                    on_delete=models.SET_NULL, related_name="+")
    plan = models.ForeignKey(Plan, null=True, blank=True, on_delete=models.SET_NULL,
                             related_name="+")

    objects = ScopedManager()

    class Meta:
        ordering = ["-started_at"]

    def __str__(self) -> str:
        return f"First meeting for episode {self.episode_id}"

    @property
    def is_finished(self) -> bool:
        return self.finished_at is not None


class CarerReviewReminder(models.Model):
    """That a review reminder went out to one carer for one review date at one threshold:
    the same exactly-once rule as `ReviewReminder`, per recipient."""

    plan = models.ForeignKey(Plan, on_delete=models.CASCADE, related_name="carer_reminders")
    review_due_on = models.DateField()
    threshold = models.CharField(max_length=10, choices=ReviewReminder.Threshold.choices)
    carer = models.ForeignKey("carers.Carer", on_delete=models.CASCADE, related_name="+")
    sent_at = models.DateTimeField(auto_now_add=True)
    notified = models.BooleanField(default=True)

    objects = ScopedManager()

    class Meta:
        ordering = ["-sent_at"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "review_due_on", "threshold", "carer"],
                                    name="one_carer_reminder_per_review_and_threshold")
        ]

    def __str__(self) -> str:
        return f"{self.threshold} reminder to carer {self.carer_id} for {self.review_due_on}"
