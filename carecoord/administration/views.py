"""Pages of the administration area (ADR 0022). Thin: one selector or service call each.
Every page asks the policy first (through its selector, or `administrator_or_404` for
the writes): anyone but an administrator gets a 404, for GET and POST alike."""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.core.exceptions import ValidationError
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils.http import urlencode
from django.views.decorators.http import require_POST

from carecoord.administration import selectors, services
from carecoord.administration.forms import (
    RoleForm,
    StaffInviteForm,
    StaffSearchForm,
    TeamForm,
    TeamPlaceForm,
)
from carecoord.administration.tokens import staff_invitation_tokens
from carecoord.records.forms import NewPasswordForm
from carecoord.records.models import User
from carecoord.records.services import SelfAccessError
from consent import policy

PAGE_SIZE = 25


def administration_page(view: Callable[..., HttpResponse]) -> Callable[..., HttpResponse]:
    """404 for anyone who is not an administrator, before the view reads anything."""
    @wraps(view)
    def wrapper(request: HttpRequest, *args, **kwargs) -> HttpResponse:
        policy.administrator_or_404(request.user)
        return view(request, *args, **kwargs)
    return wrapper


@administration_page
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "administration/index.html")


# --- Teams --------------------------------------------------------------------------------


@administration_page
def team_list(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_for_administrator(viewer=request.user)
    return render(request, "administration/team_list.html", {"teams": teams})


def _team_form(request: HttpRequest, team=None) -> TeamForm:
    return TeamForm(request.POST or None, instance=team,
                    managers=selectors.managers_to_choose(viewer=request.user),
                    requested_by=request.user)


def _team_values(form: TeamForm) -> dict:
    values = dict(form.cleaned_data)
    return {"name": values.pop("name"), "managers": values.pop("managers"), **values}


@administration_page
def team_create(request: HttpRequest) -> HttpResponse:
    form = _team_form(request)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_create(created_by=request.user, **_team_values(form))
        except (SelfAccessError, ValueError, ValidationError) as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"{team.name} has been created.")
            return redirect("administration:team_list")
    return render(request, "administration/team_form.html", {"form": form, "team": None})


@administration_page
def team_edit(request: HttpRequest, team_id: int) -> HttpResponse:
    team = selectors.team_for_administrator(viewer=request.user, team_id=team_id)
    form = _team_form(request, team)
    if request.method == "POST" and form.is_valid():
        try:
            team = services.team_update(team=team, changed_by=request.user,
                                        **_team_values(form))
        except (SelfAccessError, ValueError, ValidationError) as error:
            form.add_error(None, _message(error))
        else:
            messages.success(request, f"{team.name} has been saved.")
            return redirect("administration:team_list")
    return render(request, "administration/team_form.html", {"form": form, "team": team})


def _message(error: Exception) -> str:
    if isinstance(error, ValidationError):
        return " ".join(error.messages)
    return str(error)


# --- Staff accounts -----------------------------------------------------------------------


@administration_page
def staff_list(request: HttpRequest) -> HttpResponse:
    search = StaffSearchForm(request.GET or None)
    text = search.cleaned_data["q"] if search.is_valid() else ""
    accounts = selectors.staff_accounts(viewer=request.user, search=text)
    page = Paginator(accounts, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "administration/staff_list.html", {
        "page": page, "search": text, "query": urlencode({"q": text}) if text else "",
    })


@administration_page
def staff_invite(request: HttpRequest) -> HttpResponse:
    form = StaffInviteForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            user = services.staff_invite(
                email=form.cleaned_data["email"], full_name=form.cleaned_data["full_name"],
                roles=form.cleaned_data["roles"], invited_by=request.user)
        except services.EmailInUseError as error:
            form.add_error("email", str(error))
        except services.AdministrationError as error:
            form.add_error("roles", str(error))
        else:
            messages.success(request, f"We have emailed an invitation to {user.display_name}.")
            return redirect("administration:staff_detail", user.pk)
    return render(request, "administration/staff_invite.html", {"form": form})


@administration_page
def staff_detail(request: HttpRequest, user_id: int) -> HttpResponse:
    """A person's account: roles, team places, caseload counts, and what can be changed
    (each change posts to its own URL and comes back here)."""
    summary = selectors.staff_account_summary(viewer=request.user, user_id=user_id)
    context = {
        "summary": summary, "account": summary.user,
        "is_self": summary.user.pk == request.user.pk,
        "add_role_form": RoleForm(choices=selectors.roles_to_add(summary=summary)),
        "roles_to_remove": selectors.roles_to_remove(summary=summary),
        "team_place_form": TeamPlaceForm(
            choices=selectors.teams_to_join(viewer=request.user, user=summary.user)),
    }
    return render(request, "administration/staff_detail.html", context)


def _staff_change(request: HttpRequest, user_id: int, change: Callable[[User], str],
                  ) -> HttpResponse:
    """Run one change on a staff account; back to their page with what happened."""
    account = selectors.staff_account_for_administrator(viewer=request.user, user_id=user_id)
    try:
        done = change(account)
    except (services.AdministrationError, SelfAccessError, ValueError) as error:
        messages.error(request, str(error))
    else:
        messages.success(request, done)
    return redirect("administration:staff_detail", account.pk)


@administration_page
@require_POST
def staff_role_add(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST)

    def change(account: User) -> str:
        if not form.is_valid():
            raise services.AdministrationError("Choose a role from the list.")
        role = form.cleaned_data["role"]
        services.staff_role_add(user=account, role=role, changed_by=request.user)
        label = dict(form.fields["role"].choices)[role]
        return f"{account.display_name} now has the role: {label}."
    return _staff_change(request, user_id, change)


@administration_page
@require_POST
def staff_role_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    form = RoleForm(request.POST)

    def change(account: User) -> str:
        if not form.is_valid():
            raise services.AdministrationError("Choose a role from the list.")
        role = form.cleaned_data["role"]
        services.staff_role_remove(user=account, role=role, changed_by=request.user)
        return (f"{account.display_name} no longer has the role: "
                f"{dict(form.fields['role'].choices)[role]}. They have been signed out.")
    return _staff_change(request, user_id, change)


@administration_page
@require_POST
def staff_team_place_add(request: HttpRequest, user_id: int) -> HttpResponse:
    def change(account: User) -> str:
        form = TeamPlaceForm(request.POST, choices=selectors.teams_to_join(
            viewer=request.user, user=account))
        if not form.is_valid():
            raise services.AdministrationError("Choose a team from the list.")
        team_id, place = form.team_id_and_place()
        team = selectors.team_for_administrator(viewer=request.user, team_id=team_id)
        services.staff_team_place_add(user=account, team=team, place=place,
                                      added_by=request.user)
        return f"{account.display_name} has been added to {team.name}."
    return _staff_change(request, user_id, change)


@administration_page
@require_POST
def staff_team_place_remove(request: HttpRequest, user_id: int) -> HttpResponse:
    def change(account: User) -> str:
        place = request.POST.get("place", "")
        if place not in ("manager", "coordinator"):
            raise services.AdministrationError("Choose a team place to remove.")
        team = selectors.team_for_administrator(viewer=request.user,
                                                team_id=_int(request.POST.get("team")))
        services.staff_team_place_remove(user=account, team=team, place=place,
                                         removed_by=request.user)
        return f"{account.display_name} has been removed from {team.name}."
    return _staff_change(request, user_id, change)


def _int(value: str | None) -> int:
    try:
        return int(value or "")
    except ValueError:
        return 0


@administration_page
@require_POST
def staff_invitation_resend(request: HttpRequest, user_id: int) -> HttpResponse:
    def change(account: User) -> str:
        services.staff_invitation_resend(user=account, sent_by=request.user)
        return f"We have emailed a new invitation to {account.display_name}."
    return _staff_change(request, user_id, change)


@administration_page
def staff_disable(request: HttpRequest, user_id: int) -> HttpResponse:
    """A confirmation page first: what disabling does, and the caseload to hand over."""
    summary = selectors.staff_account_summary(viewer=request.user, user_id=user_id)
    account = summary.user
    if request.method == "POST":
        try:
            services.staff_account_disable(user=account, disabled_by=request.user)
        except (services.AdministrationError, SelfAccessError) as error:
            messages.error(request, str(error))
        else:
            messages.success(request, f"{account.display_name}'s account has been disabled "
                                      "and they have been signed out everywhere.")
        return redirect("administration:staff_detail", account.pk)
    return render(request, "administration/staff_disable.html", {
        "summary": summary, "account": account, "is_self": account.pk == request.user.pk})


@administration_page
@require_POST
def staff_enable(request: HttpRequest, user_id: int) -> HttpResponse:
    def change(account: User) -> str:
        services.staff_account_enable(user=account, enabled_by=request.user)
        return f"{account.display_name}'s account has been enabled. They can sign in again."
    return _staff_change(request, user_id, change)


# --- The audit of these changes -----------------------------------------------------------


@administration_page
def change_list(request: HttpRequest) -> HttpResponse:
    events = selectors.administrative_changes(viewer=request.user)
    page = Paginator(events, PAGE_SIZE).get_page(request.GET.get("page"))
    return render(request, "administration/change_list.html", {
        "page": page, "lines": selectors.change_lines(list(page.object_list)),
    })


# --- Taking up a staff invitation (signed out) --------------------------------------------


class InvitationPasswordForm(NewPasswordForm):
    def save(self, commit: bool = True) -> User:
        return services.staff_invitation_accept(
            user=self.user, password=self.cleaned_data["new_password1"])


class StaffInvitationAcceptView(auth_views.PasswordResetConfirmView):
    """The link in a staff invitation: choose a password, once; then sign in, where the
    second step asks them to set up two-factor. Only for an account still waiting for its
    first password: the link never changes the password of an account in use."""

    form_class = InvitationPasswordForm
    token_generator = staff_invitation_tokens
    template_name = "administration/staff_invitation_accept.html"
    success_url = reverse_lazy("login")

    def get_user(self, uidb64: str) -> User | None:
        user = super().get_user(uidb64)
        if user is None or not user.is_active or not services.invitation_pending(user):
            return None
        return user

    def form_valid(self, form: InvitationPasswordForm) -> HttpResponse:
        response = super().form_valid(form)
        messages.success(self.request, "Your password is set. Sign in with it: you will then "
                                       "set up two-factor authentication.")
        return response
