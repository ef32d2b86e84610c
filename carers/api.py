"""JSON API for carers: what one person they care for has shared with them.

The same selector as the carer's page (carers.selectors.carer_person_open): only what is
shared, nothing about what is not, and each item read is written to the audit trail
with the consent decision that allowed it. Anyone else, or a relationship that is not
theirs: 404.
"""

from __future__ import annotations

from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records.api import api_view
from carers import selectors


class CarerSharedItemsApi(APIView):
    class Output(serializers.Serializer):
        id = serializers.IntegerField(source="item.pk")
        plan_kind = serializers.CharField(source="item.plan.kind")
        plan_kind_label = serializers.CharField(source="plan.kind_label")
        section = serializers.CharField(source="item.section")
        section_title = serializers.CharField(source="section.title")
        title = serializers.CharField(source="item.title")
        body = serializers.CharField(source="item.body")
        shared_at = serializers.DateTimeField(source="item.shared_at")

    def get(self, request: Request, relationship_id: int) -> Response:
        relationship, shared = selectors.carer_person_open(
            viewer=request.user, relationship_id=relationship_id
        )
        rows = [
            {"plan": plan, "section": section, "item": item}
            for plan in shared for section in plan.sections for item in section.items
        ]
        return Response({
            "person": {"relationship_id": relationship.pk,
                       "name": relationship.service_user.name},
            "results": self.Output(rows, many=True).data,
        })


urlpatterns = [
    path("carer/people/<int:relationship_id>/shared-items/", api_view(CarerSharedItemsApi),
         name="api_carer_shared_items"),
]
