"""The API's OpenAPI schema (/api/schema/) and its documentation page (/api/docs/):
Swagger UI from local static files (drf-spectacular-sidecar), started by a static script
(static/api/swagger-init.js) so the page keeps the strict Content-Security-Policy: no
inline script or style, no other host."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.views import SpectacularAPIView


def api_docs(request: HttpRequest) -> HttpResponse:
    return render(request, "api/docs.html", {"schema_url": reverse("api_schema")})


schema_view = login_not_required(SpectacularAPIView.as_view())
docs_view = login_not_required(api_docs)
