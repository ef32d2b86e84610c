"""The API's OpenAPI description (drf-spectacular): every operation also documents the
errors every endpoint can answer, in the API's one error format (carecoord.web.api_errors)."""

from __future__ import annotations

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiResponse
from rest_framework import serializers


class ErrorOutput(serializers.Serializer):
    """Every API error: a short code, a sentence for people, and for invalid input the
    problem with each field named."""

    error = serializers.CharField(help_text="A short code: not_found, invalid, "
                                            "permission_denied, stale, conflict, …")
    detail = serializers.CharField(help_text="What went wrong, in plain English.")
    fields = serializers.DictField(
        child=serializers.JSONField(), required=False,
        help_text="For invalid input: each field's problems.",
    )
    current = serializers.JSONField(
        required=False, allow_null=True,
        help_text="For a stale change (412): the item as it is saved now.",
    )


def error(description: str) -> OpenApiResponse:
    return OpenApiResponse(response=ErrorOutput, description=description)


COMMON_ERRORS = {
    "405": "This endpoint does not answer that method.",
    "401": "Not signed in, or the API token is wrong or has expired.",
    "403": "Signed in, but this is not something you may do (e.g. a read-only token "
           "changing something, or reading a record you may only read).",
    "404": "Not found, or not yours to see: the API gives the same answer to both.",
    "406": "The Accept header asks for something other than JSON.",
}
INPUT_ERRORS = {
    "400": "The input is not valid: `fields` names each field and its problem.",
    "415": "The body is not JSON.",
}


class ApiSchema(AutoSchema):
    """drf-spectacular's schema, adding the error answers every operation can give."""

    def get_summary(self) -> str | None:
        # A list view's docstring is its description: its first sentence is the summary.
        summary = super().get_summary()
        if summary:
            return summary
        description = (self.get_description() or "").strip()
        first = description.split(". ")[0].split(":")[0].rstrip(".")
        return first[:80] or None

    def get_serializer_name(self, serializer, direction: str) -> str:
        # Views nest their Input and Output serializers: name the components after the
        # view too (PlanItemCreateApiInput), so that no two share a name.
        name = super().get_serializer_name(serializer, direction)
        qualname = type(serializer).__qualname__
        if "." in qualname and "<locals>" not in qualname:
            return qualname.replace(".", "")
        return name

    def _get_response_bodies(self, direction: str = "response") -> dict:
        responses = super()._get_response_bodies(direction=direction)
        errors = dict(COMMON_ERRORS)
        if self.method in {"POST", "PUT", "PATCH"} or self._is_list_view():
            errors.update(INPUT_ERRORS)
        if self.method in {"POST", "PUT", "PATCH", "DELETE"}:
            errors["409"] = "Not possible now, because of the state of what you are changing."
        for code, description in errors.items():
            if code not in responses:
                responses[code] = self._get_response_for_code(error(description), code,
                                                              direction=direction)
        return responses


class ApiTokenScheme(OpenApiAuthenticationExtension):
    """Personal API tokens (carecoord/apitokens), made on the profile page."""

    target_class = "carecoord.apitokens.authentication.ApiTokenAuthentication"
    name = "apiToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "Authorization",
            "description": "A personal API token from your profile page (API tokens), sent "
                           "as `Token <token>`. A read-only token may only use GET.",
        }
