"""A goal's agreement (by the service user and their care coordinator, each to the
words they read) and the progress recorded on it. Anything but a goal is 404 here."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.web import date_bounds, text_limits
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from consent import policy
from plans import selectors, services
from plans.api.errors import Conflict
from plans.api.etags import expected_revision
from plans.api.items import IF_MATCH, NO_ETAG, STALE, item_response, stale_response
from plans.api.serializers import ItemOutput, ProgressOutput


@extend_schema(tags=["plans"])
class GoalAgreementApi(APIView):
    @extend_schema(summary="Agree to a goal",
                   description="The service user or their care coordinator agrees to the "
                               "goal's words as they read them (If-Match).",
                   parameters=[IF_MATCH], request=None,
                   responses={201: ItemOutput, 412: STALE, 428: NO_ETAG})
    def post(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        party = policy.goal_party(request.user, item)
        if party is None:
            raise PermissionDenied("Only the service user and their care coordinator agree "
                                   "goals.")
        # An agreement is to the words the person read: If-Match names that revision, so
        # a goal changed in the meantime is not agreed on their behalf. The service checks
        # it again under a row lock; losing that narrower race is the same 412, with the
        # words as they are saved now.
        expected = expected_revision(request, item)
        if expected != item.revision:
            return stale_response(request.user, item)
        try:
            services.goal_agree(item=item, agreed_by=request.user, party=party,
                                expected_revision=expected)
        except services.ItemConflictError as conflict:
            return stale_response(request.user, conflict.current)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return item_response(request.user, item, status_code=status.HTTP_201_CREATED)


@extend_schema(tags=["plans"])
class GoalProgressApi(APIView):
    class Input(serializers.Serializer):
        recorded_on = serializers.DateField(validators=[date_bounds.validate_any_date])
        rating = serializers.IntegerField(min_value=0, max_value=10)
        note = serializers.CharField(required=False, allow_blank=True, default="",
                                     max_length=text_limits.NOTE)

        def validate_recorded_on(self, value: dt.date) -> dt.date:
            if value > timezone.localdate():
                raise serializers.ValidationError("Progress is recorded for today or earlier.")
            return value

    @extend_schema(summary="Progress on a goal", parameters=PAGE_PARAMETERS,
                   responses={200: page_of(ProgressOutput(many=True), "ProgressPage")},
                   description="Progress recorded on the goal over time, 0 to 10.")
    def get(self, request: Request, item_id: int) -> Response:
        item = selectors.goal_progress_open(viewer=request.user, item_id=item_id,
                                            surface="api.plan_item")
        return paginated(request, selectors.goal_progress(viewer=request.user, item=item),
                         ProgressOutput, view=self)

    @extend_schema(summary="Record progress on a goal", request=Input,
                   responses={201: ProgressOutput},
                   description="Records progress (0 to 10) for today or a day before.")
    def post(self, request: Request, item_id: int) -> Response:
        item, _ = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="api.plan_item")
        if not policy.can_edit_item(request.user, item):
            raise PermissionDenied("You can read this goal but not record progress on it.")
        data = validated_input(self.Input, request)
        try:
            update = services.progress_record(item=item, recorded_by=request.user, **data)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(ProgressOutput(update).data, status=status.HTTP_201_CREATED)
