"""The API answers every error as JSON with a 4xx status, never an HTML 500 for bad input."""

from __future__ import annotations

from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from django.views import defaults
from rest_framework import parsers, serializers, status
from rest_framework.exceptions import ParseError, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import exception_handler


def json_exception_handler(exc: Exception, context: dict) -> Response | None:
    if isinstance(exc, DjangoValidationError):
        exc = ValidationError(exc.message_dict if hasattr(exc, "error_dict") else exc.messages)
    response = exception_handler(exc, context)
    if response is None:
        return None
    if isinstance(exc, Http404) or response.status_code == status.HTTP_404_NOT_FOUND:
        response.data = {"error": "not_found", "detail": "Not found."}
    elif isinstance(response.data, dict) and "detail" in response.data:
        response.data = {"error": getattr(exc, "default_code", "error"),
                         "detail": response.data["detail"]}
    else:
        response.data = {"error": "invalid", "detail": "Check the fields listed.",
                         "fields": response.data}
    return response


class JSONParser(parsers.JSONParser):
    """DRF's JSON parser, answering a body nested too deeply for Python's json module as
    400 like any other bad JSON: json raises RecursionError there, not ValueError."""

    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError as error:
            raise ParseError("JSON parse error - nested too deeply.") from error


def validated_input(serializer_class: type[serializers.Serializer], request: Request,
                    **context) -> dict:
    """The request body as `serializer_class` cleans it; otherwise a 400 naming each
    field, in the one error format above."""
    serializer = serializer_class(data=request.data, context=context)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


def not_found(request, exception=None):
    """Django's 404 for a URL no route matches: JSON under /api/ (an id the `int`
    converter refuses, a mistyped path), the site's page elsewhere."""
    if request.path.startswith("/api/"):
        return JsonResponse({"error": "not_found", "detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)
