"""Plan items: add one to an open-ended section, read, change and remove one. Changes
and removals are made against the ETag the client read (plans.api.etags)."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records.models import User
from carecoord.web import text_limits
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from carecoord.web.api_schema import ErrorOutput
from consent import policy
from plans import selectors, services
from plans.api.errors import Conflict
from plans.api.etags import expected_revision, item_etag, precondition_failed
from plans.api.serializers import ItemOutput
from plans.models import Plan, PlanItem
from plans.sections import section as section_for
from plans.sections import sections_for

MAX_DETAILS = 30
MAX_DETAIL_TEXT = 5000


def item_response(viewer: User, item: PlanItem, *, status_code: int = status.HTTP_200_OK,
                  location: bool = False) -> Response:
    """The item as `viewer` sees it, with the ETag a change to it must send back."""
    headers = {"ETag": item_etag(item)}
    if location:
        headers["Location"] = reverse("api_item", args=[item.pk])
    return Response(ItemOutput(selectors.item_view(viewer=viewer, item=item)).data,
                    status=status_code, headers=headers)


def stale_response(viewer: User, current: PlanItem) -> Response:
    """412 with the item as `viewer` sees it now (unless it has been removed)."""
    current_data = None
    if current.removed_at is None:
        current_data = ItemOutput(selectors.item_view(viewer=viewer, item=current)).data
    return precondition_failed(current, current_data=current_data)


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


def _check_holder(details: dict | None, plan: Plan) -> None:
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


IF_MATCH = OpenApiParameter(
    "If-Match", str, OpenApiParameter.HEADER, required=True,
    description="The item's ETag as you read it: a change made by someone else since "
                "then is not overwritten (412).",
)
STALE = OpenApiResponse(ErrorOutput, description="Stale: someone changed the item since "
                        "you read it. Nothing was saved; `current` is the item as saved "
                        "now (null if it was removed), and the ETag header is its new ETag.")
NO_ETAG = OpenApiResponse(ErrorOutput, description="If-Match is missing (or is \"*\").")


@extend_schema(tags=["plans"])
class PlanItemCreateApi(APIView):
    class Input(serializers.Serializer):
        section = serializers.CharField(max_length=40)
        title = serializers.CharField(max_length=text_limits.TITLE)
        body = serializers.CharField(required=False, allow_blank=True, default="",
                                     max_length=text_limits.ITEM_BODY)
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

    @extend_schema(summary="A plan's items",
                   description="The plan's items you may see, section by section, in order; "
                               "`section` narrows them to one section.",
                   parameters=[*PAGE_PARAMETERS, OpenApiParameter(
                       "section", str, description="A section code, e.g. goals.")],
                   responses={200: page_of(ItemOutput(many=True), "ItemPage")})
    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        section = request.query_params.get("section", "")
        views = [view for section_view in selectors.plan_sections(viewer=request.user,
                                                                   opened=opened)
                 if not section or section_view.section.code == section
                 for view in section_view.items]
        return paginated(request, views, ItemOutput, view=self)

    @extend_schema(summary="Add an item to a plan",
                   description="Adds an item to an open-ended section you may edit.",
                   request=Input, responses={201: ItemOutput})
    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        plan = opened.plan
        data = validated_input(self.Input, request, plan=plan)
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
        except services.InvalidDetailsError as error:
            raise serializers.ValidationError({"details": [str(error)]}) from error
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return item_response(request.user, item, status_code=status.HTTP_201_CREATED,
                             location=True)


@extend_schema(tags=["plans"])
class ItemApi(APIView):
    class Input(serializers.Serializer):
        title = serializers.CharField(max_length=text_limits.TITLE, required=False)
        body = serializers.CharField(required=False, allow_blank=True,
                                     max_length=text_limits.ITEM_BODY)
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

    @extend_schema(summary="One plan item",
                   description="The item as you may see it, with the ETag a change must send "
                               "back in If-Match.",
                   responses={200: ItemOutput})
    def get(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.item_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        return item_response(request.user, item)

    @extend_schema(summary="Change a plan item",
                   description="Changes the item you read: send its ETag in If-Match. A "
                               "stale ETag is 412 with the item as saved now.",
                   parameters=[IF_MATCH], request=Input,
                   responses={200: ItemOutput, 412: STALE, 428: NO_ETAG})
    def patch(self, request: Request, item_id: int) -> Response:
        item = self._open_for_change(request, item_id)
        expected = expected_revision(request, item)
        data = validated_input(self.Input, request, plan=item.plan)
        if expected is None:
            return stale_response(request.user, item)
        if "body" not in data and expected != item.revision:
            # The unchanged body would come from a read that is already out of date.
            return stale_response(request.user, item)
        try:
            item = services.item_update(
                item=item, changed_by=request.user, expected_revision=expected,
                title=data.get("title"), body=data.get("body", item.body),
                details=data.get("details"),
                recorded_in_meeting=data["recorded_in_meeting"],
            )
        except services.ItemConflictError as conflict:
            return stale_response(request.user, conflict.current)
        except services.InvalidDetailsError as error:
            raise serializers.ValidationError({"details": [str(error)]}) from error
        return item_response(request.user, item)

    @extend_schema(summary="Remove a plan item",
                   description="Removes the item you read: send its ETag in If-Match.",
                   parameters=[IF_MATCH],
                   responses={204: None, 412: STALE, 428: NO_ETAG})
    def delete(self, request: Request, item_id: int) -> Response:
        item = self._open_for_change(request, item_id)
        expected = expected_revision(request, item)
        if expected is None:
            return stale_response(request.user, item)
        try:
            services.item_remove(item=item, removed_by=request.user,
                                 expected_revision=expected)
        except services.ItemConflictError as conflict:
            return stale_response(request.user, conflict.current)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(status=status.HTTP_204_NO_CONTENT)
