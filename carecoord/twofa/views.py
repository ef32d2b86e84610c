"""Two-step sign-in, setting up an authenticator, recovery codes, and the account page.

The password step (SignInView) signs a person with a second factor *not yet* in: the
session only remembers, for a few minutes, whose password was right. The code step signs
them in and marks the session verified (django-otp). Staff with no authenticator yet are
signed in with the password and sent to set one up; SecondFactorMiddleware keeps every
other page from them until they have.
"""

from __future__ import annotations

import base64

from axes.handlers.proxy import AxesProxyHandler
from axes.helpers import get_lockout_response
from django.conf import settings
from django.contrib import messages
from django.contrib.auth import REDIRECT_FIELD_NAME, login, logout, user_login_failed
from django.contrib.auth.decorators import login_not_required
from django.contrib.auth.views import LoginView
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme, urlencode
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST
from django_otp import login as otp_login
from django_otp.plugins.otp_static.models import StaticDevice

from carecoord.records.forms import EmailAuthenticationForm
from carecoord.records.models import User
from carecoord.records.sessions import end_all_sessions
from carecoord.twofa import selectors, services
from carecoord.twofa.forms import CodeForm
from carecoord.twofa.qr import qr_svg

PENDING = "twofa_pending"
SETUP_DEVICE = "twofa_setup_device"
CODE_HELP = (
    "The 6-digit code your authenticator app shows now. If you do not have your phone, "
    "enter one of your recovery codes instead."
)


def _safe_next(request: HttpRequest, url: str | None) -> str:
    if url and url_has_allowed_host_and_scheme(
        url, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return url
    return reverse(settings.LOGIN_REDIRECT_URL)


def _with_next(name: str, next_url: str) -> str:
    return f"{reverse(name)}?{urlencode({REDIRECT_FIELD_NAME: next_url})}"


def _mark_verified(request: HttpRequest, device) -> None:
    # django-otp's login() records the device only on a user its middleware wrapped;
    # the user login() has just put on the request is a fresh one.
    if not hasattr(request.user, "otp_device"):
        request.user.otp_device = None
    otp_login(request, device)


def _count_failure(request: HttpRequest, user: User) -> bool:
    """A wrong code counts towards the same lock-out as a wrong password (django-axes
    listens to this signal). True when the account is now locked."""
    user_login_failed.send(
        sender=__name__, credentials={"username": user.email}, request=request
    )
    return bool(getattr(request, "axes_locked_out", False))


def _locked(request: HttpRequest, user: User) -> bool:
    return not AxesProxyHandler.is_allowed(request, {"username": user.email})


class SignInView(LoginView):
    authentication_form = EmailAuthenticationForm

    def form_valid(self, form) -> HttpResponse:
        user = form.get_user()
        next_url = self.get_success_url()
        if selectors.has_second_factor(user=user):
            # The password was right; the session stays signed out until the code.
            self.request.session.cycle_key()
            self.request.session[PENDING] = {
                "user": user.pk, "backend": user.backend, "next": next_url,
                "at": timezone.now().timestamp(),
            }
            return redirect("twofa_verify")
        response = super().form_valid(form)
        if selectors.second_factor_required(user=user):
            return redirect(_with_next("twofa_setup", next_url))
        return response


def _pending_user(request: HttpRequest) -> tuple[User | None, dict | None]:
    pending = request.session.get(PENDING)
    if not isinstance(pending, dict):
        return None, None
    age = timezone.now().timestamp() - float(pending.get("at", 0))
    if age > settings.TWOFA_PENDING_MINUTES * 60:
        request.session.pop(PENDING, None)
        return None, None
    user = selectors.active_user(user_id=pending.get("user"))
    return user, (pending if user else None)


@login_not_required
@never_cache
def verify(request: HttpRequest) -> HttpResponse:
    """The second step: a code from the authenticator app, or a recovery code."""
    if request.user.is_authenticated:
        if request.user.is_verified():
            return redirect(settings.LOGIN_REDIRECT_URL)
        if not selectors.has_second_factor(user=request.user):
            return redirect("twofa_setup")
        user, pending = request.user, None
    else:
        user, pending = _pending_user(request)
        if user is None:
            messages.info(request, "Sign in again: the time to enter the code ran out.")
            return redirect("login")

    if _locked(request, user):
        request.session.pop(PENDING, None)
        logout(request)
        return get_lockout_response(request, credentials={"username": user.email})

    form = CodeForm(request.POST or None, help_text=CODE_HELP)
    if request.method == "POST" and form.is_valid():
        device = services.second_factor_match(user=user, token=form.cleaned_data["code"])
        if device is not None:
            if pending is not None:
                request.session.pop(PENDING, None)
                next_url = _safe_next(request, pending.get("next"))
                login(request, user, backend=pending["backend"])
            else:
                next_url = _safe_next(request, request.GET.get(REDIRECT_FIELD_NAME))
            _mark_verified(request, device)
            if isinstance(device, StaticDevice):
                left = selectors.recovery_codes_left(user=user)
                messages.warning(
                    request,
                    f"You used a recovery code. You have {left} left: make new ones on "
                    "your account page if you are running out.",
                )
            return redirect(next_url)
        if _count_failure(request, user):
            request.session.pop(PENDING, None)
            logout(request)
            return get_lockout_response(request, credentials={"username": user.email})
        form.wrong("The code is not right, or has expired. Enter the code your app shows now.")
    return render(request, "twofa/verify.html", {"form": form})


def _secret_text(key_hex: str) -> str:
    secret = base64.b32encode(bytes.fromhex(key_hex)).decode().rstrip("=")
    return " ".join(secret[i:i + 4] for i in range(0, len(secret), 4))


@never_cache
def setup(request: HttpRequest) -> HttpResponse:
    """Set up an authenticator app: scan the QR code (or type the secret), confirm with a
    code, then see ten recovery codes once."""
    user = request.user
    next_url = _safe_next(request, request.GET.get(REDIRECT_FIELD_NAME))
    device = selectors.pending_totp_device(user=user, device_id=request.session.get(SETUP_DEVICE))
    if device is None:
        device = services.totp_setup_start(user=user)
        request.session[SETUP_DEVICE] = device.pk

    form = CodeForm(request.POST or None, help_text="The 6-digit code your app shows now.")
    if request.method == "POST" and form.is_valid():
        codes = services.totp_setup_confirm(user=user, device=device,
                                            token=form.cleaned_data["code"])
        if codes is not None:
            request.session.pop(SETUP_DEVICE, None)
            _mark_verified(request, device)
            return render(request, "twofa/recovery_codes.html",
                          {"codes": codes, "next_url": next_url, "first_time": True})
        if _count_failure(request, user):
            logout(request)
            return get_lockout_response(request, credentials={"username": user.email})
        form.wrong("The code is not right, or has expired. Enter the code your app shows now.")
    return render(request, "twofa/setup.html", {
        "form": form,
        "qr_svg": qr_svg(device.config_url),
        "secret": _secret_text(device.key),
        "replacing": selectors.has_second_factor(user=user),
        "required": selectors.second_factor_required(user=user),
    })


@never_cache
def account(request: HttpRequest) -> HttpResponse:
    user = request.user
    return render(request, "twofa/account.html", {
        "has_second_factor": selectors.has_second_factor(user=user),
        "required": selectors.second_factor_required(user=user),
        "recovery_codes_left": selectors.recovery_codes_left(user=user),
    })


@require_POST
@never_cache
def recovery_codes(request: HttpRequest) -> HttpResponse:
    if not selectors.has_second_factor(user=request.user):
        raise Http404
    codes = services.recovery_codes_regenerate(user=request.user)
    return render(request, "twofa/recovery_codes.html",
                  {"codes": codes, "next_url": reverse("account"), "first_time": False})


@require_POST
def remove(request: HttpRequest) -> HttpResponse:
    try:
        services.second_factor_remove(user=request.user)
    except services.SecondFactorRequiredError:
        raise Http404 from None  # staff have no such button
    messages.success(request, "Two-factor sign-in is off. You sign in with your password.")
    return redirect("account")


@require_POST
def sign_out_everywhere(request: HttpRequest) -> HttpResponse:
    end_all_sessions(request.user)
    logout(request)
    messages.success(request, "You are signed out everywhere, on every device.")
    return redirect("login")
