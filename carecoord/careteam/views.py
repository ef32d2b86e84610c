"""Pages for the care team and emergency (break-glass) access. Thin: the policy decides,
selectors read, services write; what a person may not see answers 404."""

from __future__ import annotations

from django.conf import settings
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from carecoord.careteam import services as care_team_services
from carecoord.careteam.forms import BreakGlassForm, CareTeamAddForm
from carecoord.records import selectors
from carecoord.records.models import CareTeamRole, ServiceUser
from consent import policy

# --- The care team --------------------------------------------------------------------


def care_team_manage(request: HttpRequest, service_user_id: int) -> HttpResponse:
    """The care team: who is on it, adding someone, ending a place. For the allocated
    care coordinator and the team's manager (who sees no more of the record than this)."""
    service_user = policy.service_user_for_care_team(request.user, service_user_id)
    candidates = selectors.care_team_candidates(viewer=request.user, service_user=service_user)
    form = CareTeamAddForm(request.POST or None, candidates=candidates)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        if not policy.may_join_care_team(request.user, service_user, data["member"]):
            raise Http404
        try:
            place = care_team_services.care_team_member_add(
                service_user=service_user, member=data["member"],
                care_team_role=data["care_team_role"], started_on=data["started_on"],
                ended_on=data["ended_on"], added_by=request.user,
                basis=_care_team_basis(request, service_user),
            )
        except care_team_services.CareTeamError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, f"{place.member.display_name} is on {service_user.name}'s "
                                      f"care team as {place.get_care_team_role_display().lower()}.")
            return redirect("care_team_manage", service_user.pk)
    return render(request, "carecoord/care_team.html", {
        "service_user": service_user, "form": form,
        "care_team": selectors.care_team_for_record(viewer=request.user,
                                                    service_user=service_user),
        "areas_by_role": _areas_by_role(),
        "can_open_record": policy.can_view_record(request.user, service_user),
        "today": timezone.localdate(),
    })


@require_POST
def care_team_end(request: HttpRequest, place_id: int) -> HttpResponse:
    place = policy.care_team_place_for_change(request.user, place_id)
    care_team_services.care_team_member_end(place=place, ended_by=request.user,
                                  basis=_care_team_basis(request, place.service_user))
    messages.success(request, f"{place.member.display_name} is no longer on "
                              f"{place.service_user.name}'s care team.")
    return redirect("care_team_manage", place.service_user_id)


def _care_team_basis(request: HttpRequest, service_user: ServiceUser) -> str:
    if policy.record_basis(request.user, service_user) is policy.Basis.ALLOCATED_COORDINATOR:
        return str(policy.Basis.ALLOCATED_COORDINATOR)
    return "team manager"


_AREA_WORDS = {
    policy.Area.CONTACTS: "contact details",
    policy.Area.CARE_PLAN: "care plan",
    policy.Area.CRISIS_PLAN: "crisis plan",
    policy.Area.ADVANCE_STATEMENT: "advance statement",
}


def _areas_by_role() -> list[tuple[str, str]]:
    """The policy's table in words, so the person adding someone knows what they will see."""
    return [(label, ", ".join(_AREA_WORDS[a] for a in policy.Area
                              if a in policy.AREAS_BY_ROLE.get(value, ())))
            for value, label in CareTeamRole.choices]


# --- Emergency (break-glass) access ---------------------------------------------------


def break_glass(request: HttpRequest) -> HttpResponse:
    """A professional not on someone's care team opens their crisis plan and advance
    statement in an emergency: by exact NHS number, with a reason, for a set time."""
    if not policy.can_use_break_glass(request.user):
        raise Http404
    form = BreakGlassForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        found = selectors.service_users_by_nhs_number(
            viewer=request.user, nhs_number=form.cleaned_data["nhs_number"])
        service_user = found[0] if len(found) == 1 else None
        if len(found) > 1:
            refusal = ("More than one record holds that NHS number. Ask the team's manager "
                       "which is the right one; emergency access will not guess.")
        elif service_user is None:
            refusal = "There is no record with that NHS number. Check it and try again."
        else:
            refusal = policy.break_glass_refusal(request.user, service_user)
        if refusal:
            form.add_error("nhs_number", refusal)
        else:
            care_team_services.break_glass_open(
                professional=request.user, service_user=service_user,
                reason=form.cleaned_data["reason"], basis=str(policy.Basis.BREAK_GLASS))
            plan = selectors.crisis_plan_for(viewer=request.user, service_user=service_user)
            if plan is None:
                messages.warning(request, f"{service_user.name} has no crisis plan written yet. "
                                          "Everyone concerned has been told you looked.")
                return redirect("home")
            return redirect(reverse("plan_detail", args=[plan.pk]) + "#section-crisis")
    return render(request, "carecoord/break_glass.html", {
        "form": form, "hours": settings.BREAK_GLASS_HOURS,
    })
