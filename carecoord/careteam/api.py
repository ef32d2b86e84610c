"""JSON API: a record's care team (`GET /api/v1/service-users/<id>/care-team/`), for those
who may open the record; anyone else gets the API's JSON 404."""

from __future__ import annotations

from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records import selectors
from carecoord.web.api_lists import PAGE_PARAMETERS, page_of, paginated
from carecoord.web.api_views import api_view


class CareTeamMemberOutput(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="member.display_name")
    care_team_role = serializers.CharField(help_text="psychiatrist, duty worker, crisis team…")
    care_team_role_label = serializers.CharField(source="get_care_team_role_display")
    started_on = serializers.DateField()
    ended_on = serializers.DateField(allow_null=True,
                                     help_text="The last day the place counts, if set.")


@extend_schema(tags=["records"])
class CareTeamApi(APIView):
    @extend_schema(
        summary="A record's care team",
        description=(
            "The named professionals on the person's care team now or about to be, with "
            "their role and dates. Each role sees only the parts of the record the access "
            "policy's table gives it. Opening the record is audited."
        ),
        parameters=PAGE_PARAMETERS,
        responses={200: page_of(CareTeamMemberOutput(many=True), "CareTeamPage")},
    )
    def get(self, request: Request, service_user_id: int) -> Response:
        record = selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface="api.care_team")
        members = selectors.care_team_for_record(viewer=request.user,
                                                 service_user=record.service_user)
        return paginated(request, members, CareTeamMemberOutput, view=self)


urlpatterns = [
    path("service-users/<int:service_user_id>/care-team/", api_view(CareTeamApi),
         name="api_care_team"),
]
