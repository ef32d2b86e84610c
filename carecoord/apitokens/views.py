"""The API tokens page of a person's profile: list, make (after confirming the password
within the last 10 minutes) and revoke their own tokens. A new token is shown once."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from carecoord.apitokens import selectors, services
from carecoord.apitokens.forms import PasswordConfirmForm, TokenCreateForm
from carecoord.apitokens.verification import recently_verified, session_password_confirmed


def _page(request: HttpRequest, *, form=None, confirm_form=None, new_token: str = "",
          status: int = 200) -> HttpResponse:
    verified = recently_verified(request)
    response = render(request, "carecoord/api_tokens.html", {
        "tokens": selectors.own_api_tokens(viewer=request.user),
        "verified": verified,
        "form": form or TokenCreateForm(),
        "confirm_form": confirm_form or PasswordConfirmForm(request=request),
        "new_token": new_token,
    }, status=status)
    return response


@never_cache
def api_tokens(request: HttpRequest) -> HttpResponse:
    return _page(request)


@never_cache
@require_POST
def api_tokens_confirm(request: HttpRequest) -> HttpResponse:
    form = PasswordConfirmForm(request.POST, request=request)
    if not form.is_valid():
        return _page(request, confirm_form=form, status=400)
    session_password_confirmed(request)
    return redirect("api_tokens")


@never_cache
@require_POST
def api_token_create(request: HttpRequest) -> HttpResponse:
    if not recently_verified(request):
        messages.warning(request, "Confirm your password first: it has been more than 10 "
                                  "minutes.")
        return redirect("api_tokens")
    form = TokenCreateForm(request.POST)
    if not form.is_valid():
        return _page(request, form=form, status=400)
    try:
        _, secret = services.api_token_create(user=request.user, **form.cleaned_data)
    except services.TokenError as error:
        form.add_error(None, str(error))
        return _page(request, form=form, status=400)
    # Shown in this answer only: it is not stored anywhere but as a hash.
    return _page(request, new_token=secret)


@require_POST
def api_token_revoke(request: HttpRequest, digest: str) -> HttpResponse:
    token = services.api_token_revoke(user=request.user, digest=digest)
    if token is not None:
        messages.success(request, f"The token “{token.name}” no longer works.")
    return redirect("api_tokens")
