"""GET /api/v1/things-to-do/: the signed-in person's things to do, as on their home page
(the same selector, so the page and the API can never disagree)."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.todo.selectors import things_to_do
from carecoord.web.api_views import api_view


class ThingsToDoApi(APIView):
    class Output(serializers.Serializer):
        role = serializers.CharField(source="hat")
        kind = serializers.CharField()
        text = serializers.CharField()
        detail = serializers.CharField()
        count = serializers.IntegerField()
        url = serializers.CharField()

    @extend_schema(
        tags=["things to do"], summary="Your things to do",
        description=(
            "What is waiting for the signed-in person, worked out from the records through "
            "the access policy, exactly as their home page lists it: each entry says what, "
            "how many, and links (`url`) to the page where it is done. An entry goes once "
            "it is done."
        ),
        responses={200: inline_serializer("ThingsToDo", {
            "count": serializers.IntegerField(),
            "results": Output(many=True),
        })},
    )
    def get(self, request: Request) -> Response:
        entries = things_to_do(viewer=request.user)
        return Response({"count": len(entries),
                         "results": self.Output(entries, many=True).data})


urlpatterns = [
    path("things-to-do/", api_view(ThingsToDoApi), name="api_things_to_do"),
]
