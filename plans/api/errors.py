"""The plans API's own error. Its JSON body comes from the project-wide handler,
carecoord.web.api_errors, like every other API error."""

from __future__ import annotations

from rest_framework import status
from rest_framework.exceptions import APIException


class Conflict(APIException):
    """A plans service refused the action (services.PlanActionError) for a reason of state,
    not of input or permission: the request may succeed later or on another version."""

    status_code = status.HTTP_409_CONFLICT
    default_detail = "This cannot be done now."
    default_code = "conflict"
