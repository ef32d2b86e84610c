"""JSON API for plans: plans, items, versions and signatures, goals' agreements and
progress, and reviews. Same policy as the pages: what the caller may not see is 404.

Items are edited with optimistic concurrency: GET gives an `ETag` of `"<id>-<revision>"`
and PATCH/DELETE must send it back in `If-Match`. The revision in it is handed to the
service, which checks it under a row lock, so of two requests made with the same ETag
exactly one wins and the other gets 412 with the item as it is saved now.
"""

from __future__ import annotations

import datetime as dt
import re

from django.urls import path, reverse
from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.exceptions import APIException, PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord import selectors as record_selectors
from carecoord.api import api_view
from carecoord.models import User
from consent import policy
from plans import selectors, services
from plans.models import PlanItem, Signature
from plans.sections import ItemType, PlanKind, sections_for
from plans.sections import section as section_for
from plans.selectors import ItemView, OpenedVersion

# --- Errors and the base view ---------------------------------------------------------


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "This cannot be done now."
    default_code = "conflict"


class PreconditionRequired(APIException):
    status_code = status.HTTP_428_PRECONDITION_REQUIRED
    default_detail = (
        "Send the item's ETag in an If-Match header, so that a change made by someone "
        "else since you read it is not overwritten."
    )
    default_code = "precondition_required"


class PlansApi(APIView):
    """Base for the plans API views (parsing and errors come from the project defaults)."""


STALE_DETAIL = (
    "Someone else changed this item since you read it. Nothing was saved: compare your "
    "text with the current one and send your change again with the new ETag."
)
REMOVED_DETAIL = "This item has been removed since you read it. Nothing was saved."


# --- ETags ----------------------------------------------------------------------------

# Bounded, so a giant number in a header is simply not a match (and not a ValueError).
_ETAG = re.compile(r'^"(\d{1,18})-(\d{1,18})"$')


def item_etag(item: PlanItem) -> str:
    return f'"{item.pk}-{item.revision}"'


def _expected_revision(request: Request, item: PlanItem) -> int | None:
    """The revision named by If-Match for this item, or None when the header names no
    revision of it (which can only fail). Raises 428 when there is no ETag to check."""
    header = request.headers.get("If-Match", "").strip()
    # "*" would mean "whatever is there now": exactly the silent overwrite we refuse.
    if not header or header == "*":
        raise PreconditionRequired()
    for tag in header.split(","):
        # Weak tags (W/"...") never match in the strong comparison If-Match uses.
        match = _ETAG.match(tag.strip())
        if match and int(match[1]) == item.pk:
            return int(match[2])
    return None


def _stale(viewer, current: PlanItem) -> Response:
    if current.removed_at is not None:
        return Response({"error": "stale", "detail": REMOVED_DETAIL, "current": None},
                        status=status.HTTP_412_PRECONDITION_FAILED)
    return Response(
        {"error": "stale", "detail": STALE_DETAIL,
         "current": ItemOutput(selectors.item_view(viewer=viewer, item=current)).data},
        status=status.HTTP_412_PRECONDITION_FAILED,
        headers={"ETag": item_etag(current)},
    )


# --- Shared output --------------------------------------------------------------------


class ProgressOutput(serializers.Serializer):
    id = serializers.IntegerField()
    recorded_on = serializers.DateField()
    rating = serializers.IntegerField()
    note = serializers.CharField()
    recorded_by = serializers.CharField(source="recorded_by.display_name", default=None)
    created_at = serializers.DateTimeField()


GOAL_FIELDS = ("agreed", "agreed_by", "progress")


class ItemOutput(serializers.Serializer):
    """An ItemView. Goals add whether both sides agreed, who has, and progress."""

    id = serializers.IntegerField(source="item.pk")
    plan = serializers.IntegerField(source="item.plan_id")
    section = serializers.CharField(source="item.section")
    prompt = serializers.CharField(source="item.prompt")
    item_type = serializers.CharField(source="item.item_type")
    title = serializers.CharField(source="item.title")
    body = serializers.CharField(source="item.body")
    details = serializers.JSONField(source="item.details")
    written_by = serializers.CharField(source="item.written_by")
    written_by_label = serializers.CharField(source="item.get_written_by_display")
    revision = serializers.IntegerField(source="item.revision")
    updated_at = serializers.DateTimeField(source="item.updated_at")
    etag = serializers.SerializerMethodField()
    can_edit = serializers.BooleanField()
    agreed = serializers.BooleanField()
    agreed_by = serializers.SerializerMethodField()
    progress = ProgressOutput(many=True)

    def get_etag(self, view: ItemView) -> str:
        return item_etag(view.item)

    def get_agreed_by(self, view: ItemView) -> list[str]:
        return sorted(view.agreed_by)

    def to_representation(self, view: ItemView) -> dict:
        data = super().to_representation(view)
        if view.item.item_type != ItemType.GOAL:
            for key in GOAL_FIELDS:
                data.pop(key)
        return data


def _item_response(viewer, item: PlanItem, *, status_code: int = status.HTTP_200_OK,
                   location: bool = False) -> Response:
    headers = {"ETag": item_etag(item)}
    if location:
        headers["Location"] = reverse("api_item", args=[item.pk])
    return Response(ItemOutput(selectors.item_view(viewer=viewer, item=item)).data,
                    status=status_code, headers=headers)


# --- Input helpers --------------------------------------------------------------------

MAX_DETAILS = 30
MAX_DETAIL_TEXT = 5000


def _plain_text(value: str, what: str) -> None:
    # PostgreSQL refuses NUL in text and jsonb, and lone surrogates cannot be encoded:
    # either would be a 500 at save time.
    if "\x00" in value or any(0xD800 <= ord(char) <= 0xDFFF for char in value):
        raise serializers.ValidationError(f"The {what} contains characters we cannot store.")


class DetailsField(serializers.JSONField):
    """The structured parts of goals and responsibilities: a flat JSON object of plain
    values (domain, target date, who holds a responsibility, ...)."""

    def to_internal_value(self, data):
        data = super().to_internal_value(data)
        if not isinstance(data, dict):
            raise serializers.ValidationError("Send an object of named values.")
        if len(data) > MAX_DETAILS:
            raise serializers.ValidationError(f"Send at most {MAX_DETAILS} values.")
        for key, value in data.items():
            _plain_text(key, "name of a value")
            if len(key) > 40:
                raise serializers.ValidationError("Names of values are at most 40 characters.")
            if isinstance(value, str):
                _plain_text(value, f"value of {key!r}")
                if len(value) > MAX_DETAIL_TEXT:
                    raise serializers.ValidationError(
                        f"{key!r} is longer than {MAX_DETAIL_TEXT} characters."
                    )
            elif value is not None and not isinstance(value, bool | int | float):
                raise serializers.ValidationError(f"{key!r} must be text, a number or true/false.")
        return data


def _check_holder(details: dict | None, plan) -> None:
    """A responsibility held by a carer names one of this service user's carers: the
    carer becomes a required signer of the agreement."""
    if not details or details.get("holder_relationship") in (None, ""):
        return
    value = details["holder_relationship"]
    carer_relationships = {
        relationship.pk for relationship in selectors.carer_relationships_for_plan(plan=plan)
    }
    if isinstance(value, bool) or not isinstance(value, int) or value not in carer_relationships:
        raise serializers.ValidationError(
            {"details": ["holder_relationship must be one of this person's carers."]}
        )


def _valid(serializer_class: type[serializers.Serializer], request: Request,
           **context) -> dict:
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


# --- Plans ----------------------------------------------------------------------------


class PlanSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    next_review_on = serializers.DateField()
    url = serializers.SerializerMethodField()

    def get_url(self, plan) -> str:
        return reverse("api_plan", args=[plan.pk])


class ServiceUserPlansApi(PlansApi):
    def get(self, request: Request, service_user_id: int) -> Response:
        record = record_selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface="api.plans"
        )
        plans = selectors.plans_for_service_user(viewer=request.user,
                                                 service_user=record.service_user)
        ordered = [plans[kind] for kind in PlanKind.values if kind in plans]
        return Response({"results": PlanSummaryOutput(ordered, many=True).data})


class PlanDetailApi(PlansApi):
    class SectionOutput(serializers.Serializer):
        code = serializers.CharField(source="section.code")
        title = serializers.CharField(source="section.title")
        hint = serializers.CharField(source="section.hint")
        item_type = serializers.CharField(source="section.item_type")
        own_words = serializers.BooleanField(source="section.own_words")
        can_add = serializers.BooleanField()
        can_edit = serializers.BooleanField()
        incomplete = serializers.BooleanField()
        items = ItemOutput(many=True)

    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        plan = opened.plan
        data = dict(PlanSummaryOutput(plan).data)
        data.update({
            "service_user": {"id": plan.service_user_id, "name": plan.service_user.full_name},
            "can_propose": opened.can_propose,
            "can_suggest": opened.can_suggest,
            "can_record_review": opened.can_record_review,
            "sections": self.SectionOutput(
                selectors.plan_sections(viewer=request.user, opened=opened), many=True
            ).data,
        })
        return Response(data)


# --- Items ----------------------------------------------------------------------------


class PlanItemCreateApi(PlansApi):
    class Input(serializers.Serializer):
        section = serializers.CharField(max_length=40)
        title = serializers.CharField(max_length=200)
        body = serializers.CharField(required=False, allow_blank=True, default="")
        details = DetailsField(required=False, default=dict)
        recorded_in_meeting = serializers.BooleanField(required=False, default=False)

        def validate_section(self, value: str) -> str:
            plan = self.context["plan"]
            codes = [s.code for s in sections_for(plan.kind)]
            if value not in codes:
                raise serializers.ValidationError(
                    f"A {plan.get_kind_display().lower()} has these sections: "
                    f"{', '.join(codes)}."
                )
            if not section_for(plan.kind, value).open_ended:
                raise serializers.ValidationError(
                    "This section has fixed questions; answer those instead."
                )
            return value

        def validate(self, data: dict) -> dict:
            _check_holder(data.get("details"), self.context["plan"])
            return data

    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        plan = opened.plan
        data = _valid(self.Input, request, plan=plan)
        # Seeing the plan is allowed, so saying "you may not edit this section" leaks
        # nothing (e.g. a care coordinator on a WRAP, which only its owner writes).
        if not policy.can_edit_section(request.user, plan, data["section"]):
            raise PermissionDenied("You can read this section but not add to it.")
        try:
            item = services.item_create(
                plan=plan, section_code=data["section"], author=request.user,
                title=data["title"], body=data["body"], details=data["details"],
                recorded_in_meeting=data["recorded_in_meeting"],
            )
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return _item_response(request.user, item, status_code=status.HTTP_201_CREATED,
                              location=True)


class ItemApi(PlansApi):
    class Input(serializers.Serializer):
        title = serializers.CharField(max_length=200, required=False)
        body = serializers.CharField(required=False, allow_blank=True)
        details = DetailsField(required=False)
        recorded_in_meeting = serializers.BooleanField(required=False, default=False)

        def validate(self, data: dict) -> dict:
            _check_holder(data.get("details"), self.context["plan"])
            return data

    def _open_for_change(self, request: Request, item_id: int) -> PlanItem:
        item, _ = selectors.item_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        if not policy.can_edit_item(request.user, item):
            raise PermissionDenied("You can read this item but not change it.")
        return item

    def get(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.item_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        return _item_response(request.user, item)

    def patch(self, request: Request, item_id: int) -> Response:
        item = self._open_for_change(request, item_id)
        expected = _expected_revision(request, item)
        data = _valid(self.Input, request, plan=item.plan)
        if expected is None:
            return _stale(request.user, item)
        if "body" not in data and expected != item.revision:
            # The unchanged body would come from a read that is already out of date.
            return _stale(request.user, item)
        try:
            item = services.item_update(
                item=item, changed_by=request.user, expected_revision=expected,
                title=data.get("title"), body=data.get("body", item.body),
                details=data.get("details"),
                recorded_in_meeting=data["recorded_in_meeting"],
            )
        except services.ItemConflictError as conflict:
            return _stale(request.user, conflict.current)
        return _item_response(request.user, item)

    def delete(self, request: Request, item_id: int) -> Response:
        item = self._open_for_change(request, item_id)
        expected = _expected_revision(request, item)
        if expected is None:
            return _stale(request.user, item)
        try:
            services.item_remove(item=item, removed_by=request.user,
                                 expected_revision=expected)
        except services.ItemConflictError as conflict:
            return _stale(request.user, conflict.current)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(status=status.HTTP_204_NO_CONTENT)


# --- Goals ----------------------------------------------------------------------------


class GoalAgreementApi(PlansApi):
    def post(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        party = policy.goal_party(request.user, item)
        if party is None:
            raise PermissionDenied("Only the service user and their care coordinator agree "
                                   "goals.")
        # An agreement is to the words the person read: If-Match names that revision, so
        # a goal changed in the meantime is not agreed on their behalf. The service checks
        # it again under a row lock; losing that narrower race is a 409.
        expected = _expected_revision(request, item)
        if expected != item.revision:
            return _stale(request.user, item)
        try:
            services.goal_agree(item=item, agreed_by=request.user, party=party,
                                expected_revision=expected)
        except services.ItemConflictError:
            return _stale(request.user, item)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return _item_response(request.user, item, status_code=status.HTTP_201_CREATED)


class GoalProgressApi(PlansApi):
    class Input(serializers.Serializer):
        recorded_on = serializers.DateField()
        rating = serializers.IntegerField(min_value=0, max_value=10)
        note = serializers.CharField(required=False, allow_blank=True, default="")

        def validate_recorded_on(self, value: dt.date) -> dt.date:
            if value > timezone.localdate():
                raise serializers.ValidationError("Progress is recorded for today or earlier.")
            return value

    def get(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        return Response({"results": ProgressOutput(selectors.goal_progress(item=item),
                                                   many=True).data})

    def post(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        if not policy.can_edit_item(request.user, item):
            raise PermissionDenied("You can read this goal but not record progress on it.")
        data = _valid(self.Input, request)
        try:
            update = services.progress_record(item=item, recorded_by=request.user, **data)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(ProgressOutput(update).data, status=status.HTTP_201_CREATED)


# --- Versions and signatures ----------------------------------------------------------


class VersionSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField(source="version.pk")
    number = serializers.IntegerField(source="version.number")
    status = serializers.CharField()
    content_hash = serializers.CharField(source="version.content_hash")
    proposed_by = serializers.CharField(source="version.proposed_by.display_name",
                                        default=None)
    proposed_at = serializers.DateTimeField(source="version.proposed_at")
    agreed_at = serializers.DateTimeField(source="version.agreed_at")
    url = serializers.SerializerMethodField()

    def get_url(self, row) -> str:
        return reverse("api_version", args=[row.version.pk])


class RequiredSignerOutput(serializers.Serializer):
    role = serializers.CharField()
    carer = serializers.CharField(source="carer.full_name", default=None)


class SignatureOutput(serializers.Serializer):
    signer = serializers.CharField(source="signer.display_name")
    role = serializers.CharField()
    decision = serializers.CharField()
    reason = serializers.CharField()
    content_hash = serializers.CharField()
    signed_at = serializers.DateTimeField()


class VersionOutput(VersionSummaryOutput):
    """An OpenedVersion: the frozen snapshot, who must sign and who has answered."""

    plan = serializers.IntegerField(source="version.plan_id")
    plan_kind = serializers.CharField(source="version.plan.kind")
    snapshot = serializers.JSONField(source="entries")
    required_signers = serializers.SerializerMethodField()
    signatures = serializers.SerializerMethodField()
    signer_role = serializers.CharField()
    already_answered = serializers.BooleanField()
    can_sign = serializers.SerializerMethodField()

    def get_required_signers(self, opened: OpenedVersion) -> list:
        return RequiredSignerOutput(
            selectors.version_required_signers(version=opened.version), many=True
        ).data

    def get_signatures(self, opened: OpenedVersion) -> list:
        viewer = self.context["viewer"]
        return SignatureOutput(
            selectors.version_signatures(viewer=viewer, version=opened.version), many=True
        ).data

    def get_can_sign(self, opened: OpenedVersion) -> bool:
        return (opened.signer_role is not None and not opened.already_answered
                and opened.status in ("awaiting", "declined"))


def _version_response(opened: OpenedVersion, *, viewer: User,
                      status_code: int = status.HTTP_200_OK,
                      location: bool = False) -> Response:
    headers = {"Location": reverse("api_version", args=[opened.version.pk])} if location else {}
    return Response(VersionOutput(opened, context={"viewer": viewer}).data, status=status_code,
                    headers=headers)


class PlanVersionsApi(PlansApi):
    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        rows = selectors.versions_for_plan(viewer=request.user, plan=opened.plan)
        return Response({"results": VersionSummaryOutput(rows, many=True).data})

    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        if not opened.can_propose:
            raise PermissionDenied("You cannot propose this plan for signature.")
        try:
            version = services.version_propose(plan=opened.plan, proposed_by=request.user)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return _version_response(
            selectors.version_view(viewer=request.user, version=version), viewer=request.user,
            status_code=status.HTTP_201_CREATED, location=True,
        )


class VersionDetailApi(PlansApi):
    def get(self, request: Request, version_id: int) -> Response:
        opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                        surface="api.plan_version")
        return _version_response(opened, viewer=request.user)


class VersionSignatureApi(PlansApi):
    class Input(serializers.Serializer):
        decision = serializers.ChoiceField(choices=Signature.Decision.choices)
        password = serializers.CharField(required=False, allow_blank=True,
                                         trim_whitespace=False, max_length=1024)
        reason = serializers.CharField(required=False, allow_blank=True, max_length=10000)

        def validate(self, data: dict) -> dict:
            if data["decision"] == Signature.Decision.SIGNED and not data.get("password"):
                raise serializers.ValidationError(
                    {"password": ["Enter the password you use to sign in, to confirm it is "
                                  "you signing."]}
                )
            if data["decision"] == Signature.Decision.DECLINED and not data.get("reason"):
                raise serializers.ValidationError({"reason": ["Say why, in your own words."]})
            return data

    def post(self, request: Request, version_id: int) -> Response:
        opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                        surface="api.plan_version")
        if opened.signer_role is None:
            raise PermissionDenied("You are not one of the people who sign this version.")
        data = _valid(self.Input, request)
        try:
            if data["decision"] == Signature.Decision.SIGNED:
                signature = services.version_sign(
                    version=opened.version, signer=request.user, role=opened.signer_role,
                    password=data["password"],
                )
            else:
                signature = services.version_decline(
                    version=opened.version, signer=request.user, role=opened.signer_role,
                    reason=data["reason"],
                )
        except services.WrongPasswordError as error:
            raise serializers.ValidationError({"password": [str(error)]}) from error
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        version = signature.version
        # Signing is only possible on the latest version, so it cannot be "replaced".
        answered = selectors.version_view(viewer=request.user, version=version)
        return _version_response(answered, viewer=request.user,
                                 status_code=status.HTTP_201_CREATED)


# --- Reviews --------------------------------------------------------------------------


class PlanReviewsApi(PlansApi):
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        held_on = serializers.DateField()
        attendees = serializers.CharField()
        carers_attended = serializers.SerializerMethodField()
        what_changed = serializers.CharField()
        next_review_on = serializers.DateField()
        listened_score = serializers.IntegerField()
        listened_comment = serializers.CharField()
        recorded_by = serializers.CharField(source="recorded_by.display_name", default=None)
        created_at = serializers.DateTimeField()

        def get_carers_attended(self, review) -> list[dict]:
            return [{"id": carer.pk, "name": carer.full_name}
                    for carer in review.carers_attended.all()]

    class Input(serializers.Serializer):
        held_on = serializers.DateField()
        attendees = serializers.CharField(max_length=5000)
        what_changed = serializers.CharField(max_length=20000)
        next_review_on = serializers.DateField()
        carers_attended = serializers.ListField(child=serializers.IntegerField(),
                                                required=False, default=list, max_length=50)

        def validate_held_on(self, value: dt.date) -> dt.date:
            if value > timezone.localdate():
                raise serializers.ValidationError("Record a review once it has been held.")
            return value

        def validate_carers_attended(self, value: list[int]) -> list:
            carers = {relationship.carer_id: relationship.carer for relationship in
                      selectors.carer_relationships_for_plan(plan=self.context["plan"])}
            unknown = [carer_id for carer_id in value if carer_id not in carers]
            if unknown:
                raise serializers.ValidationError("Choose from this person's carers.")
            return [carers[carer_id] for carer_id in dict.fromkeys(value)]

        def validate(self, data: dict) -> dict:
            if data["next_review_on"] <= data["held_on"]:
                raise serializers.ValidationError(
                    {"next_review_on": ["The next review must be after this one."]}
                )
            return data

    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        reviews = selectors.reviews_for_plan(plan=opened.plan)
        return Response({"results": self.Output(reviews, many=True).data})

    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        if not opened.can_record_review:
            raise PermissionDenied("Reviews of a care plan are recorded by the allocated care "
                                   "coordinator.")
        data = _valid(self.Input, request, plan=opened.plan)
        try:
            review = services.review_record(plan=opened.plan, recorded_by=request.user, **data)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(self.Output(review).data, status=status.HTTP_201_CREATED)


urlpatterns = [
    path("service-users/<int:service_user_id>/plans/", api_view(ServiceUserPlansApi),
         name="api_service_user_plans"),
    path("plans/<int:plan_id>/", api_view(PlanDetailApi), name="api_plan"),
    path("plans/<int:plan_id>/items/", api_view(PlanItemCreateApi), name="api_plan_items"),
    path("plans/<int:plan_id>/versions/", api_view(PlanVersionsApi), name="api_plan_versions"),
    path("plans/<int:plan_id>/reviews/", api_view(PlanReviewsApi), name="api_plan_reviews"),
    path("items/<int:item_id>/", api_view(ItemApi), name="api_item"),
    path("items/<int:item_id>/agreements/", api_view(GoalAgreementApi),
         name="api_item_agreements"),
    path("items/<int:item_id>/progress/", api_view(GoalProgressApi), name="api_item_progress"),
    path("versions/<int:version_id>/", api_view(VersionDetailApi), name="api_version"),
    path("versions/<int:version_id>/signatures/", api_view(VersionSignatureApi),
         name="api_version_signatures"),
]
