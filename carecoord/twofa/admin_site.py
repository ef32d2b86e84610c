"""The admin site, behind the same two-step sign-in as every other page: its own sign-in
form (password only) is replaced by the site's, and a session that has not passed the
second factor has no admin permission (as django-otp's OTPAdminSite does)."""

from __future__ import annotations

from django.contrib import admin
from django.contrib.admin.apps import AdminConfig
from django.contrib.auth import REDIRECT_FIELD_NAME
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponseRedirect
from django.urls import reverse
from django.utils.decorators import method_decorator
from django.utils.http import urlencode


class CareAdminSite(admin.AdminSite):
    site_header = "Care coordination administration"
    site_title = "Care coordination administration"

    def has_permission(self, request: HttpRequest) -> bool:
        user = request.user
        return bool(super().has_permission(request) and user.is_verified())

    @method_decorator(login_not_required)
    def login(self, request: HttpRequest, extra_context=None) -> HttpResponseRedirect:
        target = request.GET.get(REDIRECT_FIELD_NAME) or reverse("admin:index")
        return HttpResponseRedirect(
            f"{reverse('login')}?{urlencode({REDIRECT_FIELD_NAME: target})}"
        )


class CareAdminConfig(AdminConfig):
    """Django's admin app, with this site as its default site."""

    default_site = "carecoord.twofa.admin_site.CareAdminSite"
