"""The carer's pages: what each person they care for has shared with them, and their
own space (needs, wellbeing check-ins, carer's assessment, what they know helps).

Thin: parse input, one selector or service call, render. Everything is reached through
carers.selectors or consent.policy; not allowed and not found are the same 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_http_methods, require_POST

from carers import selectors, services
from carers.forms import (
    AssessmentRequestForm,
    CarerInsightForm,
    CarerNeedsForm,
    CarerReviewViewsForm,
    WellbeingCheckInForm,
)
from consent import policy
from plans import services as plan_services
from plans.models import CARER_VIEWS_MAX_LENGTH


def carer_person(request: HttpRequest, relationship_id: int) -> HttpResponse:
    page = selectors.carer_person_open(viewer=request.user, relationship_id=relationship_id)
    return render(request, "carers/person.html", {
        "page": page, "relationship": page.relationship,
        "service_user": page.relationship.service_user, "shared": page.shared,
        "preview": False,
    })


# --- The carer's own space --------------------------------------------------------------


def carer_space(request: HttpRequest) -> HttpResponse:
    space = selectors.carer_space_open(viewer=request.user)
    return render(request, "carers/space.html", {"space": space})


def _sharing_words(relationships) -> str:
    names = [f"{r.service_user.name}'s care coordinator" for r in relationships]
    if not names:
        return "Only you can see it."
    return "It is shared with " + " and ".join(names) + "."


def carer_needs_edit(request: HttpRequest) -> HttpResponse:
    carer, needs = selectors.own_needs(viewer=request.user)
    relationships = selectors.own_relationships(viewer=request.user)
    initial = {}
    if needs is not None:
        initial = {"own_needs": needs.own_needs, "support_wanted": needs.support_wanted,
                   "shared_with": [r.pk for r in needs.shared_through]}
    form = CarerNeedsForm(request.POST or None, initial=initial, relationships=relationships)
    if request.method == "POST" and form.is_valid():
        services.carer_needs_save(carer=carer, **form.cleaned_data)
        messages.success(request, "Your needs and the support you would like are saved. "
                         + _sharing_words(form.cleaned_data["shared_with"]))
        return redirect("carer_space")
    return render(request, "carers/needs_form.html", {"form": form})


def wellbeing_check_in(request: HttpRequest) -> HttpResponse:
    carer = policy.own_carer_space(request.user)
    form = WellbeingCheckInForm(request.POST or None,
                                relationships=selectors.own_relationships(viewer=request.user))
    if request.method == "POST" and form.is_valid():
        services.wellbeing_check_in_record(carer=carer, **form.cleaned_data)
        messages.success(request, "Thank you for checking in. "
                         + _sharing_words(form.cleaned_data["shared_with"]))
        return redirect("carer_space")
    return render(request, "carers/check_in_form.html", {"form": form})


@require_POST
def wellbeing_check_in_share(request: HttpRequest, check_in_id: int) -> HttpResponse:
    """Share one check-in through one relationship, or stop sharing it (through one, or
    all when none is named). With one relationship only, it need not be named."""
    check_in = policy.own_check_in(request.user, check_in_id)
    shared = request.POST.get("shared") == "yes"
    relationship_id = request.POST.get("relationship", "")
    if relationship_id.isdigit():
        relationship = policy.relationship_of_carer(request.user, int(relationship_id))
    else:
        own = list(selectors.own_relationships(viewer=request.user)[:2])
        relationship = own[0] if shared and len(own) == 1 else None
    if shared and relationship is None:
        messages.error(request, "Choose whose care coordinator to share it with.")
        return redirect("carer_space")
    services.wellbeing_check_in_share(check_in=check_in, shared=shared,
                                      relationship=relationship)
    if shared:
        messages.success(request, f"{relationship.service_user.name}'s care coordinator can "
                                  "now see that check-in.")
    elif relationship is not None:
        messages.success(request, f"{relationship.service_user.name}'s care coordinator can "
                                  "no longer see that check-in.")
    else:
        messages.success(request, "That check-in is now private to you.")
    return redirect("carer_space")


def assessment_request_create(request: HttpRequest) -> HttpResponse:
    carer = policy.own_carer_space(request.user)
    form = AssessmentRequestForm(request.POST or None,
                                 relationships=selectors.own_relationships(viewer=request.user))
    if request.method == "POST" and form.is_valid():
        try:
            services.assessment_request_create(carer=carer, **form.cleaned_data)
        except services.AssessmentRequestError as error:
            messages.info(request, str(error))
        else:
            messages.success(request, "You have asked for a carer's assessment. The care "
                                      "coordinator will be in touch.")
        return redirect("carer_space")
    return render(request, "carers/assessment_request_form.html", {"form": form})


@require_http_methods(["GET", "HEAD", "POST"])
def carer_review_views(request: HttpRequest, relationship_id: int) -> HttpResponse:
    """Give your views before {name}'s review: only for a carer involved in reviews."""
    page = selectors.review_views_open(viewer=request.user, relationship_id=relationship_id)
    initial = {"views": page.views.views} if page.views else None
    form = CarerReviewViewsForm(request.POST or None, initial=initial)
    if request.method == "POST" and form.is_valid():
        plan_services.carer_review_views_save(
            plan=page.plan, carer=page.relationship.carer, views=form.cleaned_data["views"],
            written_by=request.user)
        messages.success(request, f"Thank you. {page.relationship.service_user.name}'s care "
                                  "coordinator will read your views before the review.")
        return redirect("carer_review_views", page.relationship.pk)
    return render(request, "carers/review_views.html", {
        "form": form, "page": page, "relationship": page.relationship,
        "service_user": page.relationship.service_user, "plan": page.plan,
        "max_length": CARER_VIEWS_MAX_LENGTH,
    })


def carer_insight_create(request: HttpRequest, relationship_id: int) -> HttpResponse:
    relationship = policy.relationship_of_carer(request.user, relationship_id)
    service_user = relationship.service_user
    form = CarerInsightForm(request.POST or None, service_user_name=service_user.name)
    if request.method == "POST" and form.is_valid():
        services.carer_insight_add(relationship=relationship, text=form.cleaned_data["text"])
        messages.success(request, f"Thank you. {service_user.name}'s care coordinator can "
                                  "now read what you know helps.")
        return redirect("carer_space")
    return render(request, "carers/insight_form.html",
                  {"form": form, "relationship": relationship, "service_user": service_user})


@require_http_methods(["GET", "HEAD", "POST"])
def carer_insight(request: HttpRequest, insight_id: int) -> HttpResponse:
    if request.method == "POST":
        insight = policy.insight_for_service_user(request.user, insight_id)
        services.carer_insight_mark_read(insight=insight)
        messages.success(request, "Marked as read.")
        return redirect("service_user_detail", insight.relationship.service_user_id)
    insight, basis = selectors.insight_open(viewer=request.user, insight_id=insight_id)
    return render(request, "carers/insight.html", {
        "insight": insight, "relationship": insight.relationship,
        "is_about_viewer": basis is policy.CarerSpaceBasis.ABOUT_THEM,
        "is_author": basis is policy.CarerSpaceBasis.OWN,
    })


# --- The coordinator's side -------------------------------------------------------------


@require_POST
def assessment_request_offer(request: HttpRequest, service_user_id: int,
                             request_id: int) -> HttpResponse:
    return _assessment_move(request, service_user_id, request_id,
                            services.assessment_request_offer, "offered_by",
                            "The carer's assessment is marked as offered. {name} has been "
                            "told.")


@require_POST
def assessment_request_complete(request: HttpRequest, service_user_id: int,
                                request_id: int) -> HttpResponse:
    return _assessment_move(request, service_user_id, request_id,
                            services.assessment_request_complete, "completed_by",
                            "The carer's assessment is marked as completed. {name} has been "
                            "told.")


def _assessment_move(request: HttpRequest, service_user_id: int, request_id: int,
                     service, actor_argument: str, done: str) -> HttpResponse:
    assessment_request = policy.assessment_request_for_coordinator(
        request.user, request_id, service_user_id
    )
    try:
        service(assessment_request=assessment_request, **{actor_argument: request.user})
    except services.AssessmentRequestError as error:
        messages.info(request, str(error))
    else:
        messages.success(request, done.format(name=assessment_request.carer.name))
    return redirect("service_user_detail", service_user_id)
