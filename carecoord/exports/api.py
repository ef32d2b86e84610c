"""JSON API: one's own exported files and their state. The file itself is downloaded
from the page link, which asks the access policy again and is audited."""

from __future__ import annotations

import django_filters
from django.urls import path, reverse
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.exports import selectors
from carecoord.exports.models import Export
from carecoord.web.api_lists import ListApi
from carecoord.web.api_views import api_view


class ExportOutput(serializers.Serializer):
    id = serializers.IntegerField()
    kind = serializers.ChoiceField(choices=Export.Kind.choices)
    title = serializers.CharField()
    status = serializers.ChoiceField(choices=Export.Status.choices)
    created_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


class ExportDetailOutput(ExportOutput):
    download_url = serializers.CharField(allow_null=True,
                                         help_text="While you may download it; else null.")


class ExportFilter(django_filters.FilterSet):
    status = django_filters.ChoiceFilter(choices=Export.Status.choices)
    kind = django_filters.ChoiceFilter(choices=Export.Kind.choices)


@extend_schema(tags=["exports"])
class ExportListApi(ListApi):
    """The files you asked to be made (plan PDFs, reports), newest first."""

    serializer_class = ExportOutput
    filterset_class = ExportFilter
    ordering_fields = ("created_at", "title")

    def get_queryset(self):
        return selectors.exports_for_viewer(viewer=self.request.user)


@extend_schema(tags=["exports"])
class ExportDetailApi(APIView):
    @extend_schema(summary="One of your exported files",
                   description="Its state, and where to download it while you may. Someone "
                               "else's file is 404.",
                   responses={200: ExportDetailOutput})
    def get(self, request: Request, export_id: int) -> Response:
        export, downloadable = selectors.export_for_viewer(viewer=request.user,
                                                           export_id=export_id)
        data = dict(ExportOutput(export).data)
        data["download_url"] = (reverse("export_download", args=[export.pk])
                                if downloadable else None)
        return Response(data)


urlpatterns = [
    path("exports/", api_view(ExportListApi), name="api_exports"),
    path("exports/<int:export_id>/", api_view(ExportDetailApi), name="api_export"),
]
