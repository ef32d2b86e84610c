"""JSON API: one's own notifications (never anyone else's: those are not found)."""

from __future__ import annotations

import django_filters
from django.urls import path
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.notifications import selectors
from carecoord.web.api_lists import ListApi
from carecoord.web.api_views import api_view


class NotificationOutput(serializers.Serializer):
    id = serializers.IntegerField()
    text = serializers.CharField()
    url = serializers.CharField(help_text="Where to look (a page of this site), or empty.")
    created_at = serializers.DateTimeField()
    read_at = serializers.DateTimeField(allow_null=True)


class NotificationFilter(django_filters.FilterSet):
    unread = django_filters.BooleanFilter(field_name="read_at", lookup_expr="isnull",
                                          label="Only unread (true) or only read (false).")


@extend_schema(tags=["notifications"])
class NotificationListApi(ListApi):
    """Your own notifications, newest first. They never hold clinical content: they say
    that something happened and where to look."""

    serializer_class = NotificationOutput
    filterset_class = NotificationFilter
    ordering_fields = ("created_at",)

    def get_queryset(self):
        return selectors.notifications_queryset(viewer=self.request.user)


@extend_schema(tags=["notifications"])
class NotificationDetailApi(APIView):
    @extend_schema(summary="One of your notifications",
                   description="One of your own notifications; anyone else's is 404.",
                   responses={200: NotificationOutput})
    def get(self, request: Request, notification_id: int) -> Response:
        notification = selectors.notification_for_viewer(viewer=request.user,
                                                         notification_id=notification_id)
        return Response(NotificationOutput(notification).data)


urlpatterns = [
    path("notifications/", api_view(NotificationListApi), name="api_notifications"),
    path("notifications/<int:notification_id>/", api_view(NotificationDetailApi),
         name="api_notification"),
]
