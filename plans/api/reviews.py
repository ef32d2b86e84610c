"""A care plan's reviews: list them, and record one (the allocated care coordinator)."""

from __future__ import annotations

import datetime as dt

from django.http import Http404
from django.utils import timezone
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.web import date_bounds, text_limits
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from carers.models import Carer
from plans import selectors, services
from plans.api.errors import Conflict
from plans.models import Review


class ReviewCarerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema(tags=["plans"])
class PlanReviewsApi(APIView):
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        held_on = serializers.DateField()
        attendees = serializers.CharField()
        carers_attended = serializers.SerializerMethodField()
        carers_views_received = serializers.SerializerMethodField()
        what_changed = serializers.CharField()
        next_review_on = serializers.DateField()
        listened_score = serializers.IntegerField(allow_null=True)
        listened_comment = serializers.CharField()
        recorded_by = serializers.CharField(source="recorded_by.display_name", default=None,
                                            allow_null=True)
        created_at = serializers.DateTimeField()

        def get_carers_views_received(self, review: Review) -> list[dict]:
            return [{"id": given.carer_id, "name": given.carer.full_name}
                    for given in review.carer_views.all()]

        @extend_schema_field(ReviewCarerOutput(many=True))
        def get_carers_attended(self, review: Review) -> list[dict]:
            return [{"id": carer.pk, "name": carer.full_name}
                    for carer in review.carers_attended.all()]

    class Input(serializers.Serializer):
        held_on = serializers.DateField(validators=[date_bounds.validate_any_date])
        attendees = serializers.CharField(max_length=text_limits.REVIEW_ATTENDEES)
        what_changed = serializers.CharField(max_length=text_limits.REVIEW_WHAT_CHANGED)
        next_review_on = serializers.DateField(validators=[date_bounds.validate_future_date])
        carers_attended = serializers.ListField(child=serializers.IntegerField(),
                                                required=False, default=list, max_length=50)

        def validate_held_on(self, value: dt.date) -> dt.date:
            if value > timezone.localdate():
                raise serializers.ValidationError("Record a review once it has been held.")
            return value

        def validate_carers_attended(self, value: list[int]) -> list[Carer]:
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

    @extend_schema(summary="A care plan's reviews",
                   parameters=PAGE_PARAMETERS,
                   responses={200: page_of(Output(many=True), "ReviewPage")},
                   description="Reviews held: who came, what changed, the next date and "
                               "whether the service user felt listened to.")
    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        if not opened.whole:
            raise Http404  # reviews are outside every care-team area
        reviews = selectors.reviews_for_plan(plan=opened.plan)
        return paginated(request, reviews, self.Output, view=self)

    @extend_schema(summary="Record a review", request=Input, responses={201: Output},
                   description="The allocated care coordinator records a review that has "
                               "been held.")
    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        if not opened.whole:
            raise Http404
        if not opened.can_record_review:
            raise PermissionDenied("Reviews of a care plan are recorded by the allocated care "
                                   "coordinator.")
        data = validated_input(self.Input, request, plan=opened.plan)
        try:
            review = services.review_record(plan=opened.plan, recorded_by=request.user, **data)
        except services.PlanActionError as error:
            raise Conflict(str(error)) from error
        return Response(self.Output(selectors.review_view(review=review)).data,
                        status=status.HTTP_201_CREATED)
