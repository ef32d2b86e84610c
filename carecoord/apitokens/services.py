"""Making, revoking and using personal API tokens. Each write is one transaction with its
audit event."""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from carecoord.apitokens.models import ApiToken, TokenScope
from carecoord.audit.request_context import current_api_token
from carecoord.audit.services import access_event_record

if TYPE_CHECKING:
    from carecoord.records.models import User

MAX_TOKEN_DAYS = 90
TOKEN_PREFIX = "cc_"


class TokenError(Exception):
    """The token cannot be made as asked."""


def token_label(token: ApiToken) -> str:
    """How the audit trail names a token: its name and a short, non-secret fingerprint
    (the start of the hash stored for it)."""
    return f"API token “{token.name}” [{token.digest[:10]}]"


@transaction.atomic
def api_token_create(*, user: User, name: str, scope: str, days: int) -> tuple[ApiToken, str]:
    """A new token for `user`. Returns the row and the token itself, which is shown to
    the person once and never stored (only its hash is)."""
    name = name.strip()
    if not name:
        raise TokenError("Give the token a name.")
    if scope not in TokenScope.values:
        raise TokenError("Choose read only, or read and write.")
    if not 1 <= days <= MAX_TOKEN_DAYS:
        raise TokenError(f"A token lasts between 1 and {MAX_TOKEN_DAYS} days.")
    token, secret = ApiToken.objects.create(
        user, expiry=dt.timedelta(days=days), prefix=TOKEN_PREFIX, name=name[:60], scope=scope,
    )
    access_event_record(actor=user, action="api.token.create", target="api_token",
                        basis=f"{token_label(token)}, {token.get_scope_display().lower()}")
    return token, secret


@transaction.atomic
def api_token_revoke(*, user: User, digest: str) -> ApiToken | None:
    """Revoke one of `user`'s own tokens at once. None if they have no such token."""
    token = ApiToken.objects.filter(user=user, digest=digest).first()
    if token is None:
        return None
    access_event_record(actor=user, action="api.token.revoke", target="api_token",
                        basis=token_label(token))
    token.delete()
    return token


@transaction.atomic
def api_token_used(*, token: ApiToken, method: str, path: str) -> None:
    """Record one use of a token: an access event naming it, and its last use. From here
    on in this request every access event also names the token (audit.services)."""
    current_api_token.set(token_label(token))
    now = timezone.now()
    ApiToken.objects.filter(pk=token.pk).update(last_used_at=now)
    access_event_record(actor=token.user, action="api.token.use",
                        target=f"{method} {path}"[:200], basis=token_label(token))
