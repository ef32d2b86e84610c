"""Reading one's own API tokens (never their secret: only a hash is kept)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils import timezone

from carecoord.apitokens.models import ApiToken
from carecoord.records.models import User


def own_api_tokens(*, viewer: User) -> QuerySet[ApiToken]:
    """The viewer's tokens that still work, newest first."""
    return ApiToken.objects.filter(user=viewer, expiry__gt=timezone.now()).order_by("-created")
