"""The FHIR export's API: `GET /api/v1/service-users/<id>/fhir`, a FHIR R4 `Bundle` as
`application/fhir+json`. Anything the caller may not see is a JSON 404, like every other
API error (carecoord.web.api_errors)."""

from __future__ import annotations

import uuid

from django.conf import settings
from django.urls import path
from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.negotiation import BaseContentNegotiation
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from carecoord.fhir import selectors
from carecoord.fhir.build import bundle_build
from carecoord.web.api_views import api_view

FHIR_JSON = "application/fhir+json"


class JSONWhateverTheClientAccepts(BaseContentNegotiation):
    """Answer JSON to any Accept header (FHIR clients ask for application/fhir+json, which
    DRF's negotiation would refuse with 406)."""

    def select_parser(self, request, parsers):
        return parsers[0]

    def select_renderer(self, request, renderers, format_suffix=None):
        return renderers[0], renderers[0].media_type


@extend_schema(tags=["fhir"])
class ServiceUserFhirApi(APIView):
    content_negotiation_class = JSONWhateverTheClientAccepts

    @extend_schema(
        summary="A record as an HL7 FHIR R4 bundle",
        description=(
            "A `Bundle` of type `collection` (UK Core profiles where one exists): Patient, "
            "CarePlan per plan kind, Goal, CareTeam, RelatedPerson, Consent per carer and "
            "Provenance per signed version, holding only what the caller may see. A carer's "
            "bundle holds only what the service user shared with them. Any Accept header "
            "gets `application/fhir+json`; a record the caller may not see is a JSON 404."
        ),
        responses={(200, FHIR_JSON): OpenApiResponse(
            response=OpenApiTypes.OBJECT, description="A FHIR R4 Bundle (type collection).")},
    )
    def get(self, request: Request, service_user_id: int) -> Response:
        export = selectors.fhir_export_open(viewer=request.user, service_user_id=service_user_id)
        bundle = bundle_build(export, base_url=f"{settings.SITE_URL.rstrip('/')}/fhir",
                              bundle_id=str(uuid.uuid4()), now=timezone.now())
        return Response(bundle, content_type=FHIR_JSON)


urlpatterns = [
    path("service-users/<int:service_user_id>/fhir", api_view(ServiceUserFhirApi),
         name="api_service_user_fhir"),
]
