"""JSON API for carers: what one person they care for has shared with them.

The same selector as the carer's page (carers.selectors.carer_person_open): only what is
shared, nothing about what is not, and each item read is written to the audit trail
with the consent decision that allowed it. Anyone else, or a relationship that is not
theirs: 404.
"""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records import selectors as record_selectors
from carecoord.web.api_errors import validated_input
from carecoord.web.api_lists import ListApi
from carecoord.web.api_views import api_view
from carers import selectors
from plans import services as plan_services
from plans.models import CARER_VIEWS_MAX_LENGTH


class CaredForOutput(serializers.Serializer):
    relationship_id = serializers.IntegerField(source="pk")
    name = serializers.CharField(source="service_user.name",
                                 help_text="The name they asked to be called.")
    relationship = serializers.CharField()
    shared_items_url = serializers.SerializerMethodField()

    def get_shared_items_url(self, relationship) -> str:
        return f"/api/v1/carer/people/{relationship.pk}/shared-items/"


@extend_schema(tags=["carers"])
class CaredForListApi(ListApi):
    """As a carer: the people you care for. Only that you do; what each shared with you
    is under shared-items."""

    serializer_class = CaredForOutput

    def get_queryset(self):
        return record_selectors.cared_for(viewer=self.request.user).order_by("pk")


class SharedItemOutput(serializers.Serializer):
    id = serializers.IntegerField(source="item.pk")
    plan_kind = serializers.CharField(source="item.plan.kind")
    plan_kind_label = serializers.CharField(source="plan.kind_label")
    section = serializers.CharField(source="item.section")
    section_title = serializers.CharField(source="section.title")
    title = serializers.CharField(source="item.title")
    body = serializers.CharField(source="item.body")
    shared_at = serializers.DateTimeField(source="item.shared_at", allow_null=True)


class SharedPersonOutput(serializers.Serializer):
    relationship_id = serializers.IntegerField()
    name = serializers.CharField()


class SharedItemsOutput(serializers.Serializer):
    person = SharedPersonOutput()
    results = SharedItemOutput(many=True)


@extend_schema(tags=["carers"])
class CarerSharedItemsApi(APIView):
    Output = SharedItemOutput

    @extend_schema(summary="What one person shared with you",
                   description="As a carer: the plan items this person chose to share with "
                               "you, and nothing else. Each read is audited with the consent "
                               "decision that allowed it.",
                   responses={200: SharedItemsOutput})
    def get(self, request: Request, relationship_id: int) -> Response:
        page = selectors.carer_person_open(viewer=request.user,
                                           relationship_id=relationship_id)
        rows = [
            {"plan": plan, "section": section, "item": item}
            for plan in page.shared for section in plan.sections for item in section.items
        ]
        return Response({
            "person": {"relationship_id": page.relationship.pk,
                       "name": page.relationship.service_user.name},
            "results": self.Output(rows, many=True).data,
        })


class ReviewViewsInput(serializers.Serializer):
    views = serializers.CharField(max_length=CARER_VIEWS_MAX_LENGTH,
                                  help_text="Your views, in your own words.")


class ReviewViewsOutput(serializers.Serializer):
    person = SharedPersonOutput()
    review_due_on = serializers.DateField(allow_null=True)
    views = serializers.CharField(allow_null=True,
                                  help_text="What you have written so far, if anything.")
    max_length = serializers.IntegerField()


@extend_schema(tags=["carers"])
class CarerReviewViewsApi(APIView):
    """The carer's views before the service user's next care plan review: read and
    write, only for a carer the service user involves in reviews (else 404, as the page)."""

    Input = ReviewViewsInput

    def _answer(self, page) -> Response:
        return Response({
            "person": {"relationship_id": page.relationship.pk,
                       "name": page.relationship.service_user.name},
            "review_due_on": page.plan.next_review_on,
            "views": page.views.views if page.views else None,
            "max_length": CARER_VIEWS_MAX_LENGTH,
        })

    @extend_schema(summary="Your views for their next review",
                   description="As a carer the service user involves in their reviews: "
                               "the views you have written for the next care plan review.",
                   responses={200: ReviewViewsOutput})
    def get(self, request: Request, relationship_id: int) -> Response:
        return self._answer(selectors.review_views_open(viewer=request.user,
                                                        relationship_id=relationship_id))

    @extend_schema(summary="Give your views for their next review",
                   description="Write or change your views, in your own words, before the "
                               "review. The care coordinator reads them on the review.",
                   request=ReviewViewsInput, responses={200: ReviewViewsOutput})
    def put(self, request: Request, relationship_id: int) -> Response:
        page = selectors.review_views_open(viewer=request.user, relationship_id=relationship_id)
        data = validated_input(self.Input, request)
        plan_services.carer_review_views_save(plan=page.plan, carer=page.relationship.carer,
                                              views=data["views"], written_by=request.user)
        return self._answer(selectors.review_views_open(viewer=request.user,
                                                        relationship_id=relationship_id))


urlpatterns = [
    path("carer/people/", api_view(CaredForListApi), name="api_cared_for"),
    path("carer/people/<int:relationship_id>/shared-items/", api_view(CarerSharedItemsApi),
         name="api_carer_shared_items"),
    path("carer/people/<int:relationship_id>/review-views/", api_view(CarerReviewViewsApi),
         name="api_carer_review_views"),
]
