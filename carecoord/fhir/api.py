"""The FHIR export's API: `GET /api/v1/service-users/<id>/fhir`, a FHIR R4 `Bundle` as
`application/fhir+json`. Anything the caller may not see is a JSON 404, like every other
API error (carecoord.web.api_errors)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import path
from django.utils import timezone
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.fhir import selectors
from carecoord.fhir.build import bundle_build
from carecoord.records.api import api_view

FHIR_JSON = "application/fhir+json"


class JSONWhateverTheClientAccepts(BaseContentNegotiation):
    """Answer JSON to any Accept header (FHIR clients ask for application/fhir+json, which
    DRF's negotiation would refuse with 406)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


class ServiceUserFhirApi(APIView):
    content_negotiation_class = JSONWhateverTheClientAccepts

    def get(self, request: Request, service_user_id: int) -> Response:
        export = selectors.fhir_export_open(viewer=request.user, service_user_id=service_user_id)
        bundle = bundle_build(export, base_url=f"{settings.SITE_URL.rstrip('/')}/fhir",
                              bundle_id=str(uuid.uuid4()), now=timezone.now())
        return Response(bundle, content_type=FHIR_JSON)


urlpatterns = [
    path("service-users/<int:service_user_id>/fhir", api_view(ServiceUserFhirApi),
         name="api_service_user_fhir"),
]
