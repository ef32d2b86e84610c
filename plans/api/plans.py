"""A service user's plans, and one plan with its sections and items."""

from __future__ import annotations

from django.urls import reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records import selectors as record_selectors
from plans import selectors
from plans.api.serializers import ItemOutput
from plans.models import Plan
from plans.sections import PlanKind


class PlanSummaryOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.CharField()
    kind_label = serializers.CharField(source="get_kind_display")
    next_review_on = serializers.DateField(allow_null=True)
    url = serializers.SerializerMethodField()

    def get_url(self, plan: Plan) -> str:
        return reverse("api_plan", args=[plan.pk])


class PlanListOutput(serializers.Serializer):
    results = PlanSummaryOutput(many=True)


class PlanOwnerOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


@extend_schema(tags=["plans"])
class ServiceUserPlansApi(APIView):
    @extend_schema(summary="A service user's plans",
                   description="Their care plan, WRAP and responsibility agreement, as far "
                               "as you may see them.",
                   responses={200: PlanListOutput})
    def get(self, request: Request, service_user_id: int) -> Response:
        record = record_selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface="api.plans"
        )
        plans = selectors.plans_for_service_user(viewer=request.user,
                                                 service_user=record.service_user)
        ordered = [plans[kind] for kind in PlanKind.values if kind in plans]
        return Response({"results": PlanSummaryOutput(ordered, many=True).data})


class PlanSectionOutput(serializers.Serializer):
    code = serializers.CharField(source="section.code")
    title = serializers.CharField(source="section.title")
    hint = serializers.CharField(source="section.hint")
    item_type = serializers.CharField(source="section.item_type")
    own_words = serializers.BooleanField(source="section.own_words")
    can_add = serializers.BooleanField()
    can_edit = serializers.BooleanField()
    incomplete = serializers.BooleanField()
    items = ItemOutput(many=True)


@extend_schema(tags=["plans"])
class PlanDetailApi(APIView):
    SectionOutput = PlanSectionOutput

    class Output(PlanSummaryOutput):
        service_user = PlanOwnerOutput()
        can_propose = serializers.BooleanField()
        can_suggest = serializers.BooleanField()
        can_record_review = serializers.BooleanField()
        sections = PlanSectionOutput(many=True)

    @extend_schema(summary="One plan, section by section",
                   description="Its sections and the items in them that you may see, with "
                               "what you may do. Another person's plan is 404.",
                   responses={200: Output})
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
