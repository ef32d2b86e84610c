"""A care plan's reviews: list them, and record one (the allocated care coordinator)."""

from __future__ import annotations

import datetime as dt

from django.utils import timezone
from rest_framework import serializers, status
from rest_framework.exceptions import PermissionDenied
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.web.api_errors import validated_input
from carers.models import Carer
from plans import selectors, services
from plans.api.errors import Conflict
from plans.models import Review


class PlanReviewsApi(APIView):
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        held_on = serializers.DateField()
        attendees = serializers.CharField()
        carers_attended = serializers.SerializerMethodField()
        carers_views_received = serializers.SerializerMethodField()
        what_changed = serializers.CharField()
        next_review_on = serializers.DateField()
        listened_score = serializers.IntegerField()
        listened_comment = serializers.CharField()
        recorded_by = serializers.CharField(source="recorded_by.display_name", default=None)
        created_at = serializers.DateTimeField()

        def get_carers_views_received(self, review: Review) -> list[dict]:
            return [{"id": given.carer_id, "name": given.carer.full_name}
                    for given in review.carer_views.all()]

        def get_carers_attended(self, review: Review) -> list[dict]:
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

    def get(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
        reviews = selectors.reviews_for_plan(plan=opened.plan)
        return Response({"results": self.Output(reviews, many=True).data})

    def post(self, request: Request, plan_id: int) -> Response:
        opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="api.plan")
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
