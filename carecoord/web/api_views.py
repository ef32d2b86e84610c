"""How every API view is mounted."""

from __future__ import annotations

from django.contrib.auth.decorators import login_not_required
from rest_framework.views import APIView


def api_view(view_class: type[APIView]):
    # The API authenticates itself and answers JSON: the page sign-in redirect from
    # LoginRequiredMiddleware would turn a 403 into an HTML 302.
    return login_not_required(view_class.as_view())
