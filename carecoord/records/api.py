"""JSON API for records. Same policy as the pages: not allowed is 404."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.urls import path
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.records import selectors


def api_view(view_class: type[APIView]):
    # The API authenticates itself and answers JSON: the page sign-in redirect from
    # LoginRequiredMiddleware would turn a 403 into an HTML 302.
    return login_not_required(view_class.as_view())


class EpisodeOutput(serializers.Serializer):
    id = serializers.IntegerField()
    started_on = serializers.DateField()
    planned_end_on = serializers.DateField()
    discharged_on = serializers.DateField(allow_null=True)


class ServiceUserListApi(APIView):
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        name = serializers.CharField()
        url = serializers.SerializerMethodField()

        def get_url(self, obj) -> str:
            return f"/api/v1/service-users/{obj.pk}/"

    def get(self, request: Request) -> Response:
        records = selectors.records_for_viewer(viewer=request.user)
        return Response({"results": self.Output(records, many=True).data})


class ServiceUserDetailApi(APIView):
    class Output(serializers.Serializer):
        id = serializers.IntegerField()
        full_name = serializers.CharField()
        preferred_name = serializers.CharField()
        pronouns = serializers.CharField()
        date_of_birth = serializers.DateField()
        nhs_number = serializers.CharField()
        email = serializers.EmailField()
        phone = serializers.CharField()
        preferred_contact = serializers.CharField()
        team = serializers.CharField(source="team.name")
        version = serializers.IntegerField()

    def get(self, request: Request, service_user_id: int) -> Response:
        record = selectors.service_user_open(
            viewer=request.user, service_user_id=service_user_id, surface="api.service_user"
        )
        data = dict(self.Output(record.service_user).data)
        data["basis"] = str(record.basis)
        data["episodes"] = EpisodeOutput(
            selectors.episodes_for_record(record=record), many=True
        ).data
        return Response(data)


class MeApi(APIView):
    def get(self, request: Request) -> Response:
        return Response({
            "email": request.user.email,
            "name": request.user.display_name,
            "roles": sorted(request.user.roles),
        })


urlpatterns = [
    path("me/", api_view(MeApi), name="api_me"),
    path("service-users/", api_view(ServiceUserListApi), name="api_service_users"),
    path("service-users/<int:service_user_id>/", api_view(ServiceUserDetailApi),
         name="api_service_user"),
]
