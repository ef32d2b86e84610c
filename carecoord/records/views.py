"""HTML pages for people, records, episodes, allocations, carers, invitations and teams.

Thin: parse input, one selector or service call, render. Every record is reached through
the access policy (via selectors); not allowed and not found are the same 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import login
from django.contrib.auth.decorators import login_not_required
from django.core.exceptions import ValidationError
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from carecoord.records import selectors, services
from carecoord.records.forms import (
    AllocationForm,
    CarerAddForm,
    EpisodeForm,
    EpisodeStartForm,
    InvitationAcceptForm,
    OwnDetailsForm,
    ServiceUserCreateForm,
    ServiceUserDetailsForm,
    TeamThresholdsForm,
)
from carecoord.records.models import Invitation, Role, ServiceUser
from carers import services as carer_services
from consent import policy
from plans import selectors as plan_selectors


def home(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    context: dict = {"today": timezone.localdate()}
    if viewer.has_role(Role.COORDINATOR):
        context["caseload"] = selectors.caseload(viewer=viewer)
        context["can_add_service_user"] = selectors.may_add_service_users(viewer=viewer)
    if viewer.has_role(Role.PROFESSIONAL) or viewer.has_role(Role.COORDINATOR):
        places = selectors.care_team_places_of(viewer=viewer)
        # A coordinator sees the section only when they are on someone's care team.
        if places or viewer.has_role(Role.PROFESSIONAL):
            context["care_team_places"] = places
    if viewer.has_role(Role.SERVICE_USER):
        record = selectors.own_record(viewer=viewer)
        context["own_record"] = record
        context["own_episode"] = selectors.open_episode(service_user=record) if record else None
    if viewer.has_role(Role.CARER):
        context["cared_for"] = selectors.cared_for(viewer=viewer)
        context["carer_offers"] = selectors.carer_offers(viewer=viewer)
    if viewer.has_role(Role.MANAGER):
        context["team_caseloads"] = selectors.team_caseloads(viewer=viewer)
    return render(request, "carecoord/home.html", context)


# --- Records --------------------------------------------------------------------------


def service_user_create(request: HttpRequest) -> HttpResponse:
    teams = selectors.teams_for_new_service_user(viewer=request.user)
    if not teams.exists():
        raise Http404
    form = ServiceUserCreateForm(request.POST or None, teams=teams)
    if request.method == "POST" and form.is_valid():
        data = dict(form.cleaned_data)
        team = data.pop("team")
        if not policy.can_add_service_user(request.user, team):
            raise Http404
        service_user = services.service_user_create(created_by=request.user, team=team, **data)
        messages.success(request, f"{service_user.name}'s record has been created. "
                                  "You are their care coordinator.")
        return redirect("service_user_detail", service_user.pk)
    return render(request, "carecoord/service_user_create.html", {"form": form})


RECORD_VIEWS_ON_RECORD = 5  # the latest groups on the record page; the rest on their own


def service_user_detail(request: HttpRequest, service_user_id: int) -> HttpResponse:
    record = selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface="service_user_record"
    )
    return render(
        request,
        "carecoord/service_user_detail.html",
        {
            "record": record,
            "service_user": record.service_user,
            "episodes": selectors.episodes_for_record(record=record),
            "carers": selectors.carers_for_record(viewer=request.user, record=record),
            "invitations": selectors.invitations_for_record(record=record),
            "record_views": selectors.record_views_grouped(
                viewer=request.user, record=record, per_page=RECORD_VIEWS_ON_RECORD),
            "care_team": selectors.care_team_for_record(
                viewer=request.user, service_user=record.service_user, basis=record.basis),
            "first_meeting": plan_selectors.first_meeting_status(
                service_user=record.service_user, can_manage_care=record.can_manage_care),
            "today": timezone.localdate(),
        },
    )


def record_views_list(request: HttpRequest, service_user_id: int) -> HttpResponse:
    """Who has looked at your record: all of it, a page at a time (the person only)."""
    record = selectors.own_record_open(viewer=request.user, service_user_id=service_user_id)
    page = selectors.record_views_grouped(viewer=request.user, record=record,
                                          page_number=request.GET.get("page"))
    return render(request, "carecoord/record_views.html",
                  {"record": record, "service_user": record.service_user, "page": page})


def service_user_edit(request: HttpRequest, service_user_id: int) -> HttpResponse:
    record = selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface="service_user_edit"
    )
    if record.can_manage_care:
        form_class = ServiceUserDetailsForm
    elif record.can_edit_own_details:
        form_class = OwnDetailsForm
    else:
        raise Http404
    service_user = record.service_user
    form = form_class(request.POST or None, instance=service_user)
    conflict = None
    if request.method == "POST" and form.is_valid():
        changes = {name: form.cleaned_data[name] for name in form.Meta.fields}
        try:
            services.service_user_update(
                service_user=service_user, changed_by=request.user,
                expected_version=form.cleaned_data["version"], basis=str(record.basis),
                **changes,
            )
        except services.EditConflictError:
            # Keep what they typed; show what the other person saved; let them decide.
            service_user.refresh_from_db()
            conflict = _saved_values(service_user, form)
            data = request.POST.copy()
            data["version"] = str(service_user.version)
            form = form_class(data, instance=service_user)
            form.is_valid()
        except ValidationError as error:
            form.add_error(None, error)
        else:
            messages.success(request, "The details have been saved.")
            return redirect("service_user_detail", service_user.pk)
    return render(
        request,
        "carecoord/service_user_edit.html",
        {"form": form, "service_user": service_user, "record": record, "conflict": conflict},
    )


def _saved_values(service_user: ServiceUser, form) -> list[tuple[str, str]]:
    """What is saved now, field by field, to show beside the user's unsaved text."""
    rows = []
    for name in form.Meta.fields:
        display = getattr(service_user, f"get_{name}_display", None)
        value = display() if display else getattr(service_user, name)
        rows.append((str(form.fields[name].label), "" if value is None else str(value)))
    return rows


# --- Episodes and allocations ---------------------------------------------------------


def episode_edit(request: HttpRequest, service_user_id: int, episode_id: int) -> HttpResponse:
    record = selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface="episode_edit"
    )
    if not record.can_manage_care:
        raise Http404
    episode = selectors.episodes_for_record(record=record).filter(pk=episode_id).first()
    if episode is None or not episode.is_open:
        raise Http404
    form = EpisodeForm(request.POST or None, instance=episode)
    if request.method == "POST" and form.is_valid():
        services.episode_update(episode=episode, changed_by=request.user, **form.cleaned_data)
        if form.cleaned_data["discharged_on"]:
            messages.success(request, "Care coordination has ended and the discharge plan is "
                                      "saved.")
            return redirect("home")
        messages.success(request, "The episode of care has been updated.")
        return redirect("service_user_detail", record.service_user.pk)
    return render(request, "carecoord/episode_edit.html",
                  {"form": form, "service_user": record.service_user, "episode": episode})


def episode_start(request: HttpRequest, service_user_id: int) -> HttpResponse:
    service_user = policy.service_user_for_allocation(request.user, service_user_id)
    if selectors.open_episode(service_user=service_user) is not None:
        raise Http404
    form = EpisodeStartForm(
        request.POST or None, coordinators=selectors.team_coordinators(team=service_user.team)
    )
    if request.method == "POST" and form.is_valid():
        services.episode_start(service_user=service_user, started_by=request.user,
                               **form.cleaned_data)
        messages.success(request, f"A new episode of care has started for {service_user.name}.")
        return redirect("team_detail", service_user.team_id)
    return render(request, "carecoord/episode_start.html",
                  {"form": form, "service_user": service_user})


def allocation_create(request: HttpRequest, service_user_id: int) -> HttpResponse:
    service_user = policy.service_user_for_allocation(request.user, service_user_id)
    episode = selectors.open_episode(service_user=service_user)
    if episode is None:
        raise Http404
    form = AllocationForm(
        request.POST or None, coordinators=selectors.team_coordinators(team=service_user.team)
    )
    if request.method == "POST" and form.is_valid():
        coordinator = form.cleaned_data["coordinator"]
        if not policy.may_allocate_coordinator(request.user, service_user, coordinator):
            raise Http404
        services.allocation_create(
            episode=episode, coordinator=coordinator, allocated_by=request.user,
            basis="team manager" if policy.teams_managed_by(request.user).filter(
                pk=service_user.team_id).exists() else "allocated care coordinator",
        )
        messages.success(request, f"{coordinator.display_name} is now allocated to "
                                  f"{service_user.name}.")
        return redirect(_allocation_return(request, service_user))
    return render(request, "carecoord/allocation_create.html",
                  {"form": form, "service_user": service_user, "episode": episode})


@require_POST
def allocation_end(request: HttpRequest, allocation_id: int) -> HttpResponse:
    allocation = selectors.allocation_for_change(viewer=request.user, allocation_id=allocation_id)
    service_user = allocation.episode.service_user
    services.allocation_end(allocation=allocation, ended_by=request.user,
                            basis="allocation change")
    messages.success(request, f"{allocation.coordinator.display_name} is no longer allocated to "
                              f"{service_user.name}.")
    return redirect(_allocation_return(request, service_user))


def _allocation_return(request: HttpRequest, service_user: ServiceUser) -> str:
    if policy.can_view_record(request.user, service_user):
        return reverse("service_user_detail", args=[service_user.pk])
    return reverse("team_detail", args=[service_user.team_id])


# --- Carers and invitations -----------------------------------------------------------


def carer_add(request: HttpRequest, service_user_id: int) -> HttpResponse:
    record = selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface="carer_add"
    )
    if not record.can_manage_care:
        raise Http404
    form = CarerAddForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        relationship = carer_services.carer_add(
            service_user=record.service_user, added_by=request.user, **form.cleaned_data
        )
        if relationship.is_offered:
            messages.success(request, f"{relationship.carer.name} has been asked to be a "
                                      "carer. It is waiting for them to accept.")
        else:
            messages.success(request, f"{relationship.carer.name} has been added as a carer.")
        return redirect("service_user_detail", record.service_user.pk)
    return render(request, "carecoord/carer_add.html",
                  {"form": form, "service_user": record.service_user})


@require_POST
def carer_end(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = policy.carer_relationship_for_care_manager(request.user, relationship_id)
    carer_services.carer_relationship_end(relationship=relationship, ended_by=request.user)
    messages.success(request, f"{relationship.carer.name} is no longer linked as a carer.")
    return redirect("service_user_detail", relationship.service_user_id)


@require_POST
def carer_offer_answer(request: HttpRequest, relationship_id: int) -> HttpResponse:
    """The carer accepts or declines being added as a carer of someone."""
    relationship = policy.carer_offer_for_carer(request.user, relationship_id)
    accept = request.POST.get("answer") == "accept"
    try:
        if accept:
            carer_services.carer_offer_accept(relationship=relationship,
                                              accepted_by=request.user)
        else:
            carer_services.carer_offer_decline(relationship=relationship,
                                               declined_by=request.user)
    except carer_services.CarerOfferError as error:
        messages.info(request, str(error))
    else:
        name = relationship.service_user.name
        messages.success(request, f"You are now linked as a carer of {name}." if accept
                         else f"You have declined being a carer of {name}.")
    return redirect("home")


@require_POST
def invitation_send_service_user(request: HttpRequest, service_user_id: int) -> HttpResponse:
    service_user = policy.record_for_care_manager(request.user, service_user_id)
    if service_user.user_id:
        messages.info(request, f"{service_user.name} already has an account.")
    elif not service_user.email:
        messages.error(request, f"Add {service_user.name}'s email address first, then send "
                                "the invitation.")
    else:
        services.invitation_create(invited_by=request.user, service_user=service_user)
        messages.success(request, f"An invitation has been sent to {service_user.email}.")
    return redirect("service_user_detail", service_user.pk)


@require_POST
def invitation_send_carer(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = policy.carer_relationship_for_care_manager(request.user, relationship_id)
    carer = relationship.carer
    if carer.user_id:
        messages.info(request, f"{carer.name} already has an account.")
    elif not carer.email:
        messages.error(request, f"There is no email address for {carer.name}.")
    else:
        services.invitation_create(invited_by=request.user,
                                   service_user=relationship.service_user,
                                   carer_relationship=relationship)
        messages.success(request, f"An invitation has been sent to {carer.email}.")
    return redirect("service_user_detail", relationship.service_user_id)


def _invited_name(invitation: Invitation) -> str:
    """The full name on the record the invitation is for (loaded with it by
    invitation_by_token: no further query)."""
    if invitation.carer_relationship_id is not None:
        return invitation.carer_relationship.carer.full_name
    return invitation.service_user.full_name


@login_not_required
def invitation_accept(request: HttpRequest, token: str) -> HttpResponse:
    try:
        invitation = services.invitation_by_token(token)
    except services.InvitationUnusableError as error:
        return render(request, "carecoord/invitation_unusable.html",
                      {"status": error.status}, status=410 if error.status != "unknown" else 404)
    signed_in = request.user if request.user.is_authenticated else None
    if signed_in is not None and signed_in.email.lower() != invitation.email.lower():
        return render(request, "carecoord/invitation_unusable.html",
                      {"status": "wrong_account"}, status=410)
    if signed_in is not None and services.is_staff_account(signed_in):
        return render(request, "carecoord/invitation_unusable.html",
                      {"status": "staff_account"}, status=410)
    existing_account = signed_in is None and selectors.account_exists(email=invitation.email)
    # The name the coordinator wrote down, ready to correct: not a blank to fill in.
    form = InvitationAcceptForm(request.POST or None, email=invitation.email,
                                initial={"full_name": _invited_name(invitation)})
    if request.method == "POST" and (signed_in or (not existing_account and form.is_valid())):
        try:
            user = services.invitation_accept(
                token=token,
                password=None if signed_in else form.cleaned_data["password1"],
                full_name="" if signed_in else form.cleaned_data["full_name"],
                preferred_name="" if signed_in else form.cleaned_data["preferred_name"],
                signed_in_user=signed_in,
            )
        except services.InvitationUnusableError as error:
            return render(request, "carecoord/invitation_unusable.html",
                          {"status": error.status}, status=410)
        if signed_in is None:
            login(request, user, backend="django.contrib.auth.backends.ModelBackend")
        messages.success(request, "Your account is ready. Welcome.")
        return redirect("home")
    return render(
        request,
        "carecoord/invitation_accept.html",
        {"form": form, "invitation": invitation, "signed_in": signed_in,
         "existing_account": existing_account},
    )


# --- Teams (managers) -----------------------------------------------------------------


def team_detail(request: HttpRequest, team_id: int) -> HttpResponse:
    team = policy.team_for_manager(request.user, team_id)
    (caseloads,) = selectors.team_caseloads(viewer=request.user, team_id=team.pk)
    return render(
        request,
        "carecoord/team_detail.html",
        {
            "team": team,
            "caseloads": caseloads,
            "service_users": selectors.team_service_users(viewer=request.user, team=team),
            "possible_duplicates": selectors.possible_duplicates_for_team(
                viewer=request.user, team=team),
        },
    )


@require_POST
def possible_duplicate_resolve(request: HttpRequest, team_id: int,
                               duplicate_id: int) -> HttpResponse:
    team = policy.team_for_manager(request.user, team_id)
    duplicate = policy.possible_duplicate_for_manager(request.user, duplicate_id)
    services.possible_duplicate_resolve(duplicate=duplicate, resolved_by=request.user)
    messages.success(request, "The possible duplicate is marked as checked.")
    return redirect("team_detail", team.pk)


def team_settings(request: HttpRequest, team_id: int) -> HttpResponse:
    """The team's "getting stuck" thresholds: its managers only (anyone else: 404)."""
    team = policy.team_for_manager(request.user, team_id)
    form = TeamThresholdsForm(request.POST or None, instance=team)
    if request.method == "POST" and form.is_valid():
        services.team_settings_update(team=team, changed_by=request.user,
                                      **form.cleaned_data)
        messages.success(request, "The team's settings have been saved.")
        return redirect("team_detail", team.pk)
    return render(request, "carecoord/team_settings.html", {"form": form, "team": team})
