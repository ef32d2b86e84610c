"""HTML pages for the peer-support directory, signposting and recovery stories.

Thin: parse input, call a selector or a service, render. Offers, signposting and stories
are reached only through peersupport.selectors (which ask consent.policy); what a person
may not see or change answers 404.
"""

from __future__ import annotations

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.core.paginator import Page, Paginator
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.views.decorators.http import require_POST

from carecoord.records import selectors as record_selectors
from consent import policy
from consent.policy import Basis
from peersupport import selectors, services
from peersupport.forms import (
    DECISION_PUBLISH,
    ModerationForm,
    OfferForm,
    OfferSearchForm,
    SignpostingForm,
    SignpostingUpdateForm,
    StoryForm,
)
from peersupport.models import StoryStatus
from peersupport.services import StoryActionError

PAGE_SIZE = 20


def _page(request: HttpRequest, items) -> tuple[Page, str]:
    """One page of `items`, and the query string of the other parameters (for links)."""
    page = Paginator(items, PAGE_SIZE).get_page(request.GET.get("page"))
    params = request.GET.copy()
    params.pop("page", None)
    return page, params.urlencode()


def _add_errors(form, error: ValidationError | StoryActionError) -> None:
    if isinstance(error, ValidationError) and hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error.messages if isinstance(error, ValidationError)
                       else str(error))


# --- Directory ------------------------------------------------------------------------


def directory(request: HttpRequest) -> HttpResponse:
    viewer = request.user
    can_manage = policy.can_manage_offers(viewer)
    # Only the filter fields count as a search; a bare ?page= keeps the default audience.
    asked = any(key in request.GET for key in ("q", "kind", "audience", "attendance",
                                                "place", "retired"))
    form = OfferSearchForm(request.GET if asked else None, show_retired_filter=can_manage)
    default_audience = selectors.default_audience(viewer=viewer)
    if not asked:
        form.initial["audience"] = default_audience
    search = form.search(default_audience=default_audience)
    offers = selectors.offer_search(viewer=viewer, search=search)
    page, query = _page(request, offers)
    return render(request, "peersupport/directory.html", {
        "form": form,
        "search": search,
        "page": page,
        "query": query,
        "can_manage": can_manage,
        "latest_stories": selectors.published_stories(viewer=viewer)[:3],
        "can_write_story": policy.can_write_story(viewer),
        "awaiting_moderation": (selectors.stories_awaiting_moderation(viewer=viewer).count()
                                if policy.is_story_moderator(viewer) else None),
    })


def offer_detail(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = policy.offer_for_viewer(request.user, offer_id)
    own_record = record_selectors.own_record(viewer=request.user)
    return render(request, "peersupport/offer_detail.html", {
        "offer": offer,
        "can_manage": policy.can_manage_offers(request.user),
        "own_record": (own_record if own_record is not None and offer.active
                       and policy.can_record_signposting(request.user, own_record) else None),
    })


def offer_create(request: HttpRequest) -> HttpResponse:
    if not policy.can_manage_offers(request.user):
        raise Http404
    form = OfferForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_create(created_by=request.user, **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{offer.name} has been added to the directory.")
            return redirect("offer_detail", offer.pk)
    return render(request, "peersupport/offer_form.html", {"form": form, "offer": None})


def offer_edit(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = policy.offer_for_editor(request.user, offer_id)
    form = OfferForm(request.POST or None, instance=offer)
    if request.method == "POST" and form.is_valid():
        try:
            offer = services.offer_update(offer=offer, changed_by=request.user,
                                          **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"{offer.name} has been updated.")
            return redirect("offer_detail", offer.pk)
    return render(request, "peersupport/offer_form.html", {"form": form, "offer": offer})


@require_POST
def offer_retire(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = policy.offer_for_editor(request.user, offer_id)
    services.offer_set_active(offer=offer, changed_by=request.user, active=False)
    messages.success(request, f"{offer.name} has been retired. It is no longer shown in the "
                              "directory; anyone already signposted to it still sees it on "
                              "their care plan.")
    return redirect("offer_detail", offer.pk)


@require_POST
def offer_reinstate(request: HttpRequest, offer_id: int) -> HttpResponse:
    offer = policy.offer_for_editor(request.user, offer_id)
    services.offer_set_active(offer=offer, changed_by=request.user, active=True)
    messages.success(request, f"{offer.name} is back in the directory.")
    return redirect("offer_detail", offer.pk)


# --- Signposting ----------------------------------------------------------------------


def signposting_create(request: HttpRequest, service_user_id: int) -> HttpResponse:
    target = selectors.signposting_target_open(
        viewer=request.user, service_user_id=service_user_id, surface="signposting_create"
    )
    service_user = target.service_user
    offers = selectors.offers_for_signposting(viewer=request.user)
    initial = {}
    # ASCII digits only: str.isdigit() also says yes to "²", which int() refuses.
    offer_id = request.GET.get("offer", "")
    if offer_id.isascii() and offer_id.isdigit() and len(offer_id) <= 18:
        initial["offer"] = offers.filter(pk=int(offer_id)).first()
    form = SignpostingForm(request.POST or None, initial=initial, offers=offers,
                           service_user_name=service_user.name, is_own=target.is_own)
    if request.method == "POST" and form.is_valid():
        services.signposting_record(service_user=service_user, offered_by=request.user,
                                    basis=str(target.basis), **form.cleaned_data)
        messages.success(request, f"{form.cleaned_data['offer'].name} has been recorded.")
        return redirect(selectors.signposting_return_url(viewer=request.user,
                                                         service_user=service_user))
    return render(request, "peersupport/signposting_form.html", {
        "form": form, "service_user": service_user, "is_own": target.is_own,
        "back_url": selectors.signposting_return_url(viewer=request.user,
                                                     service_user=service_user),
    })


def signposting_edit(request: HttpRequest, signposting_id: int) -> HttpResponse:
    opened = selectors.signposting_open(viewer=request.user, signposting_id=signposting_id,
                                        surface="signposting_edit")
    signposting = opened.signposting
    service_user = signposting.service_user
    is_own = opened.basis is Basis.SELF
    form = SignpostingUpdateForm(
        request.POST or None,
        initial={"taken_up": signposting.taken_up, "outcome": signposting.outcome},
        service_user_name=service_user.name, is_own=is_own,
    )
    back_url = selectors.signposting_return_url(viewer=request.user, service_user=service_user)
    if request.method == "POST" and form.is_valid():
        services.signposting_update(signposting=signposting, changed_by=request.user,
                                    basis=str(opened.basis), **form.cleaned_data)
        messages.success(request, "Your changes have been saved.")
        return redirect(back_url)
    return render(request, "peersupport/signposting_edit.html", {
        "form": form, "signposting": signposting, "service_user": service_user,
        "is_own": is_own, "back_url": back_url,
    })


# --- Recovery stories -----------------------------------------------------------------


def story_list(request: HttpRequest) -> HttpResponse:
    page, query = _page(request, selectors.published_stories(viewer=request.user))
    return render(request, "peersupport/story_list.html", {
        "page": page, "query": query,
        "can_write_story": policy.can_write_story(request.user),
        "awaiting_moderation": (selectors.stories_awaiting_moderation(viewer=request.user)
                                .count() if policy.is_story_moderator(request.user) else None),
    })


def story_detail(request: HttpRequest, story_id: int) -> HttpResponse:
    story = selectors.story_open(viewer=request.user, story_id=story_id)
    return render(request, "peersupport/story_detail.html", {
        "story": story,
        "is_author": story.author_id == request.user.pk,
        "can_edit": policy.can_edit_story(request.user, story),
        "can_submit": policy.can_submit_story(request.user, story),
        "can_withdraw": policy.can_withdraw_story(request.user, story),
        "can_moderate": policy.can_moderate_story(request.user, story),
    })


def own_stories(request: HttpRequest) -> HttpResponse:
    if not policy.can_write_story(request.user):
        raise Http404
    return render(request, "peersupport/own_stories.html",
                  {"stories": selectors.own_stories(viewer=request.user)})


def _story_saved_message(request: HttpRequest, story) -> None:
    if story.status == StoryStatus.SUBMITTED:
        messages.success(request, "Your story has been sent for approval. Nobody else can "
                                  "read it until it is approved, and you can withdraw it "
                                  "at any time.")
    else:
        messages.success(request, "Your story has been saved. Only you can read it.")


def story_create(request: HttpRequest) -> HttpResponse:
    if not policy.can_write_story(request.user):
        raise Http404
    form = StoryForm(request.POST or None, author_name=request.user.display_name)
    if request.method == "POST" and form.is_valid():
        try:
            story = services.story_create(author=request.user,
                                          submit=request.POST.get("action") == "submit",
                                          **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            _story_saved_message(request, story)
            return redirect("story_detail", story.pk)
    return render(request, "peersupport/story_form.html", {"form": form, "story": None})


def story_edit(request: HttpRequest, story_id: int) -> HttpResponse:
    story = selectors.story_for_author(viewer=request.user, story_id=story_id)
    if not policy.can_edit_story(request.user, story):
        raise Http404
    form = StoryForm(request.POST or None, instance=story,
                     author_name=request.user.display_name)
    if request.method == "POST" and form.is_valid():
        try:
            story = services.story_update(story=story, changed_by=request.user,
                                          submit=request.POST.get("action") == "submit",
                                          **form.cleaned_data)
        except (ValidationError, StoryActionError) as error:
            _add_errors(form, error)
        else:
            _story_saved_message(request, story)
            return redirect("story_detail", story.pk)
    return render(request, "peersupport/story_form.html", {"form": form, "story": story})


@require_POST
def story_submit(request: HttpRequest, story_id: int) -> HttpResponse:
    story = selectors.story_for_author(viewer=request.user, story_id=story_id)
    if not policy.can_submit_story(request.user, story):
        raise Http404
    try:
        story = services.story_submit(story=story, submitted_by=request.user)
    except StoryActionError as error:
        messages.error(request, str(error))
    else:
        _story_saved_message(request, story)
    return redirect("story_detail", story.pk)


@require_POST
def story_withdraw(request: HttpRequest, story_id: int) -> HttpResponse:
    story = selectors.story_for_author(viewer=request.user, story_id=story_id)
    if not policy.can_withdraw_story(request.user, story):
        raise Http404
    services.story_withdraw(story=story, withdrawn_by=request.user)
    messages.success(request, f"“{story.title}” has been withdrawn and is no longer on the "
                              "site. Only you and the people who approve stories can read it.")
    return redirect("own_stories")


def moderation_queue(request: HttpRequest) -> HttpResponse:
    if not policy.is_story_moderator(request.user):
        raise Http404
    return render(request, "peersupport/moderation_queue.html",
                  {"stories": selectors.stories_awaiting_moderation(viewer=request.user)})


def story_moderate(request: HttpRequest, story_id: int) -> HttpResponse:
    story = selectors.story_for_moderation(viewer=request.user, story_id=story_id)
    published = story.status == StoryStatus.PUBLISHED
    form = ModerationForm(request.POST or None, published=published,
                          initial={"read_version": services.story_version(story)})
    if request.method == "POST" and form.is_valid():
        decision = form.cleaned_data["decision"]
        read_version = form.cleaned_data["read_version"] or None
        try:
            if decision == DECISION_PUBLISH:
                services.story_publish(story=story, moderator=request.user,
                                       read_version=read_version)
            else:
                services.story_send_back(story=story, moderator=request.user,
                                         reason=form.cleaned_data["reason"],
                                         read_version=read_version)
        except StoryActionError as error:
            # Show the story as it is now, keep the decision and the note, and ask again.
            try:
                story = selectors.story_for_moderation(viewer=request.user, story_id=story_id)
            except Http404:  # withdrawn, or decided by someone else, meanwhile
                messages.error(request, str(error))
                return redirect("moderation_queue")
            data = request.POST.copy()
            data["read_version"] = services.story_version(story)
            form = ModerationForm(data, published=story.status == StoryStatus.PUBLISHED)
            form.is_valid()
            _add_errors(form, error)
        else:
            if decision == DECISION_PUBLISH:
                done = f"“{story.title}” is published. Its author has been told."
            else:
                done = f"“{story.title}” has been sent back to its author with your note."
            messages.success(request, done)
            return redirect("moderation_queue")
    return render(request, "peersupport/story_moderate.html",
                  {"form": form, "story": story, "published": published})
