"""DRF authentication by personal API token (`Authorization: Token cc_…`), and the scope
check: a read-only token may only read."""

from __future__ import annotations

from knox.auth import TokenAuthentication
from rest_framework.exceptions import PermissionDenied
from rest_framework.permissions import SAFE_METHODS, BasePermission

from carecoord.apitokens.models import ApiToken
from carecoord.apitokens.services import api_token_used


class ApiTokenAuthentication(TokenAuthentication):
    """knox's token check (hash compared in constant time; expired tokens are deleted),
    then the use is audited with the token's name."""

    def authenticate(self, request):
        result = super().authenticate(request)
        if result is None:
            return None
        user, token = result
        api_token_used(token=token, method=request.method, path=request.path)
        return user, token


class ReadOnlyToken(PermissionDenied):
    default_detail = "This API token is read only: make a read and write token to change things."
    default_code = "read_only_token"


class TokenScopePermission(BasePermission):
    """A read-only token refuses every unsafe method with 403 (JSON, like every API
    error). Session sign-ins are not affected."""

    def has_permission(self, request, view) -> bool:
        token = request.auth
        if isinstance(token, ApiToken) and token.read_only and request.method not in SAFE_METHODS:
            raise ReadOnlyToken()
        return True
