"""HTML pages for care plans, WRAP plans and responsibility agreements.

Thin: parse input, call a selector or a service, render. Plans, items, versions, reviews
and suggestions are reached only through plans.selectors (which ask consent.policy), and
every permission to act comes from consent.policy, asked again when a form is sent. What
a person may not see answers 404.
"""

from __future__ import annotations

import datetime as dt

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.forms import Form
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_POST

from carecoord.records import selectors as record_selectors
from carecoord.web.links import link_maker
from consent import policy
from consent.policy import Basis
from plans import exports as plan_exports
from plans import first_meeting as first_meeting_steps
from plans import selectors, services
from plans.forms import (
    DeclineForm,
    FirstMeetingDateForm,
    FirstMeetingTextForm,
    ItemForm,
    ListenedForm,
    ProgressForm,
    ReviewForm,
    RevisionForm,
    SignForm,
    SuggestionForm,
)
from plans.sections import ItemType, PlanKind, Section
from plans.sections import section as section_for
from plans.services import ItemConflictError, PlanActionError


def _section_or_404(kind: str, code: str) -> Section:
    try:
        return section_for(kind, code)
    except KeyError:
        raise Http404("No such section.") from None


def _add_errors(form: Form, error: ValidationError | PlanActionError) -> None:
    """Show a service's refusal on the form, beside the field it names if there is one."""
    if isinstance(error, PlanActionError):
        form.add_error(None, str(error))
        return
    if hasattr(error, "error_dict"):
        for field, errors in error.error_dict.items():
            form.add_error(field if field in form.fields else None, errors)
    else:
        form.add_error(None, error)


def _plan_url(plan_id: int, anchor: str = "") -> str:
    url = reverse("plan_detail", args=[plan_id])
    return f"{url}#{anchor}" if anchor else url


# --- Plans ----------------------------------------------------------------------------


@require_POST
def plan_start(request: HttpRequest, service_user_id: int, kind: str) -> HttpResponse:
    if kind not in PlanKind.values:
        raise Http404
    record = record_selectors.service_user_open(
        viewer=request.user, service_user_id=service_user_id, surface="plan_start"
    )
    if not policy.can_start_plan(request.user, record.service_user):
        raise Http404
    plan = services.plan_create(service_user=record.service_user, kind=kind,
                                created_by=request.user)
    return redirect("plan_detail", plan.pk)


# The links each item of a plan page has (a goal all four), by URL name.
ITEM_LINKS = ("item_edit", "item_history")
GOAL_LINKS = (*ITEM_LINKS, "goal_agree", "progress_add")


def _add_item_links(sections: list[selectors.SectionView]) -> None:
    """Each item's links, each URL reversed once a page rather than once an item (80
    items: about 200 `reverse()` calls, a fifth of the template's time; issue 15)."""
    makers = {name: link_maker(name) for name in GOAL_LINKS}
    for section_view in sections:
        for view in section_view.items:
            names = GOAL_LINKS if view.item.item_type == ItemType.GOAL else ITEM_LINKS
            view.links = {name: makers[name](view.item.pk) for name in names}


def _plan_page_context(request: HttpRequest, opened: selectors.OpenedPlan, *,
                       printing: bool = False) -> dict:
    """Everything the plan page and its print view show."""
    viewer = request.user
    plan = opened.plan
    sections = selectors.plan_sections(viewer=viewer, opened=opened)
    _add_item_links(sections)
    versions = selectors.versions_for_plan(viewer=viewer, opened=opened)
    for index, row in enumerate(versions):  # newest first: the next row is the older one
        row.previous = versions[index + 1].version if index + 1 < len(versions) else None
    latest = versions[0].version if versions else None
    to_sign = selectors.version_to_sign(versions=versions)
    reads = selectors.plan_page_reads(viewer=viewer, opened=opened)
    return {
        "opened": opened,
        "plan": plan,
        "service_user": plan.service_user,
        "is_own": opened.basis is Basis.SELF,
        "sections": sections,
        "contents": selectors.plan_contents(opened=opened, sections=sections,
                                            to_sign=to_sign, printing=printing),
        "to_sign": to_sign,
        "episode": reads.episode,
        "versions": versions,
        "latest_version": latest,
        "unsigned_changes": latest is None or latest.plan_revision != plan.content_revision,
        "reviews": reads.reviews,
        "carer_views": reads.carer_views,
        "suggestions": (selectors.open_suggestions_for_plan(plan=plan)
                        if plan.kind == PlanKind.WRAP and opened.whole else []),
        # Carers are named on the page only as holders of responsibilities.
        "carers": ({r.pk: r for r in selectors.carer_relationships_for_plan(plan=plan)}
                   if opened.whole and plan.kind == PlanKind.RESPONSIBILITY_AGREEMENT
                   else {}),
        "today": timezone.localdate(),
    }


def plan_detail(request: HttpRequest, plan_id: int) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="plan_detail")
    return render(request, "plans/plan_detail.html", _plan_page_context(request, opened))


def plan_print(request: HttpRequest, plan_id: int) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="plan_print")
    context = _plan_page_context(request, opened, printing=True) | {
        "printing": True, "printed_at": timezone.localtime()}
    return render(request, "plans/plan_print.html", context)


# --- Items ----------------------------------------------------------------------------


def _item_form_options(*, plan, plan_section: Section, basis: Basis,
                       item=None) -> dict:
    prompt_hint = ""
    if item is not None and item.prompt:
        prompt_hint = next((p.hint for p in plan_section.prompts if p.code == item.prompt), "")
    return {
        "item_type": plan_section.item_type,
        "is_prompt": bool(item is not None and item.prompt),
        "prompt_hint": prompt_hint,
        "own_words": plan_section.own_words,
        "is_coordinator": basis is Basis.ALLOCATED_COORDINATOR,
        "is_service_user": basis is Basis.SELF,
        "service_user_name": plan.service_user.name,
        "carers": (selectors.carer_relationships_for_plan(plan=plan)
                   if plan_section.item_type == ItemType.RESPONSIBILITY else ()),
        "editing": item is not None,
    }


def item_add(request: HttpRequest, plan_id: int, section: str) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="item_add")
    plan = opened.plan
    plan_section = _section_or_404(plan.kind, section)
    if not plan_section.open_ended or not policy.can_edit_section(request.user, plan, section):
        raise Http404
    form = ItemForm(request.POST or None, **_item_form_options(
        plan=plan, plan_section=plan_section, basis=opened.basis))
    if request.method == "POST" and form.is_valid():
        try:
            item = services.item_create(
                plan=plan, section_code=section, author=request.user,
                title=form.cleaned_data["title"], body=form.cleaned_data["body"],
                details=form.details(),
                recorded_in_meeting=form.cleaned_data.get("recorded_in_meeting", False),
            )
        except (PlanActionError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"“{item.title}” has been added.")
            return redirect(_plan_url(plan.pk, f"item-{item.pk}"))
    return render(request, "plans/item_form.html", {
        "form": form, "plan": plan, "section": plan_section, "item": None,
        "is_own": opened.basis is Basis.SELF, "service_user": plan.service_user,
    })


def item_edit(request: HttpRequest, item_id: int) -> HttpResponse:
    item, basis = selectors.item_open(viewer=request.user, item_id=item_id, surface="item_edit",
                                      include_removed=request.method == "POST")
    if not policy.can_edit_item(request.user, item):
        raise Http404
    plan = item.plan
    plan_section = _section_or_404(plan.kind, item.section)
    options = _item_form_options(plan=plan, plan_section=plan_section,
                                 basis=basis, item=item)
    # The saved item is the form's initial on a POST too: a goal's target date that has
    # passed since it was saved may be kept (ItemForm.clean_target_on).
    if request.method == "POST":
        form = ItemForm(request.POST, initial=ItemForm.initial_for(item), **options)
    else:
        form = ItemForm(initial=ItemForm.initial_for(item), **options)
    conflict = None
    if request.method == "POST" and form.is_valid():
        try:
            services.item_update(
                item=item, changed_by=request.user,
                expected_revision=form.cleaned_data["revision"],
                title=None if item.prompt else form.cleaned_data["title"],
                body=form.cleaned_data["body"], details=form.details(),
                recorded_in_meeting=form.cleaned_data.get("recorded_in_meeting", False),
            )
        except ItemConflictError as error:
            # Keep what they typed; show what is saved now; saving again is their choice.
            current = error.current
            conflict = {
                "saved": current,
                "removed": current.removed_at is not None,
                "change": selectors.item_history(item=current).first(),
                "typed_title": form.cleaned_data.get("title", item.title),
                "typed_body": form.cleaned_data["body"],
                "typed_details": form.details(),
            }
            data = request.POST.copy()
            data["revision"] = str(current.revision)
            form = ItemForm(data, initial=ItemForm.initial_for(current), **options)
            form.is_valid()
        except (PlanActionError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"“{form.cleaned_data.get('title', item.title)}” has "
                                      "been saved.")
            return redirect(_plan_url(plan.pk, f"item-{item.pk}"))
    return render(request, "plans/item_form.html", {
        "form": form, "plan": plan, "section": plan_section, "item": item,
        "is_own": basis is Basis.SELF, "conflict": conflict,
        "service_user": plan.service_user,
        "carers": {r.pk: r for r in options["carers"]},
    }, status=409 if conflict else 200)


@require_POST
def item_remove(request: HttpRequest, item_id: int) -> HttpResponse:
    item, _ = selectors.item_open(viewer=request.user, item_id=item_id, surface="item_remove")
    if not policy.can_edit_item(request.user, item):
        raise Http404
    form = RevisionForm(request.POST)
    if not form.is_valid():
        messages.error(request, "The item could not be removed. Try again.")
        return redirect("item_edit", item.pk)
    try:
        services.item_remove(item=item, removed_by=request.user,
                             expected_revision=form.cleaned_data["revision"])
    except ItemConflictError:
        messages.error(request, "Someone changed this after you opened it, so it has not been "
                                "removed. Read what it says now, then decide.")
        return redirect("item_edit", item.pk)
    except PlanActionError as error:
        messages.error(request, str(error))
        return redirect("item_edit", item.pk)
    messages.success(request, f"“{item.title}” has been removed. Earlier versions of the plan "
                              "still show it.")
    return redirect(_plan_url(item.plan_id, f"section-{item.section}"))


def item_history(request: HttpRequest, item_id: int) -> HttpResponse:
    item, basis = selectors.item_history_open(viewer=request.user, item_id=item_id,
                                              surface="item_history")
    return render(request, "plans/item_history.html", {
        "item": item, "plan": item.plan, "service_user": item.plan.service_user,
        "changes": selectors.item_history(item=item),
        "section": _section_or_404(item.plan.kind, item.section),
        "carers": {r.pk: r for r in selectors.carer_relationships_for_plan(plan=item.plan)},
        "is_own": basis is Basis.SELF,
    })


# --- Goals ----------------------------------------------------------------------------


@require_POST
def goal_agree(request: HttpRequest, item_id: int) -> HttpResponse:
    item, _ = selectors.goal_open(viewer=request.user, item_id=item_id, surface="goal_agree")
    party = policy.goal_party(request.user, item)
    if party is None:
        raise Http404
    form = RevisionForm(request.POST)
    try:
        if not form.is_valid():
            raise PlanActionError("This goal could not be agreed. Try again.")
        services.goal_agree(item=item, agreed_by=request.user, party=party,
                            expected_revision=form.cleaned_data["revision"])
    except ItemConflictError:
        messages.error(request, "This goal changed after you opened the page. Read it again, "
                                "then agree if you still do.")
    except PlanActionError as error:
        messages.error(request, str(error))
    else:
        messages.success(request, f"You have agreed to the goal “{item.title}”.")
    return redirect(_plan_url(item.plan_id, f"item-{item.pk}"))


def progress_add(request: HttpRequest, item_id: int) -> HttpResponse:
    item, basis = selectors.goal_open(viewer=request.user, item_id=item_id,
                                      surface="progress_add")
    if not policy.can_edit_item(request.user, item):
        raise Http404
    form = ProgressForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.progress_record(item=item, recorded_by=request.user, **form.cleaned_data)
        except (PlanActionError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Progress on “{item.title}” has been recorded.")
            return redirect(_plan_url(item.plan_id, f"item-{item.pk}"))
    return render(request, "plans/progress_form.html",
                  {"form": form, "item": item, "plan": item.plan,
                   "is_own": basis is Basis.SELF})


# --- Versions and signatures ----------------------------------------------------------


@require_POST
def version_propose(request: HttpRequest, plan_id: int) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id,
                                 surface="version_propose")
    if not opened.can_propose:
        raise Http404
    try:
        version = services.version_propose(plan=opened.plan, proposed_by=request.user)
    except PlanActionError as error:
        messages.error(request, str(error))
        return redirect(_plan_url(opened.plan.pk, "versions"))
    messages.success(request, f"Version {version.number} is ready to be signed.")
    return redirect("version_detail", version.pk)


def version_detail(request: HttpRequest, version_id: int) -> HttpResponse:
    opened = selectors.version_open(viewer=request.user, version_id=version_id,
                                    surface="version_detail")
    version = opened.version
    sign_form = SignForm(prefix="sign")
    decline_form = DeclineForm(prefix="decline")
    failed_form = None
    may_answer = opened.can_answer
    if request.method == "POST":
        if opened.signer_role is None:
            raise Http404
        if not may_answer:
            # Agreed, replaced, declined or already answered since the page was opened:
            # the page says which.
            messages.error(request, f"Version {version.number} cannot be signed or declined "
                                    "now.")
            return redirect("version_detail", version.pk)
        action = request.POST.get("action")
        if action == "sign":
            sign_form = failed_form = SignForm(request.POST, prefix="sign")
            if sign_form.is_valid():
                try:
                    services.version_sign(version=version, signer=request.user,
                                          role=opened.signer_role,
                                          password=sign_form.cleaned_data["password"],
                                          request=request)
                except services.WrongPasswordError as error:
                    sign_form.add_error("password", str(error))
                except PlanActionError as error:
                    _add_errors(sign_form, error)
                else:
                    messages.success(request, f"You have signed version {version.number}.")
                    return redirect("version_detail", version.pk)
        elif action == "decline":
            decline_form = failed_form = DeclineForm(request.POST, prefix="decline")
            if decline_form.is_valid():
                try:
                    services.version_decline(version=version, signer=request.user,
                                             role=opened.signer_role,
                                             reason=decline_form.cleaned_data["reason"])
                except PlanActionError as error:
                    _add_errors(decline_form, error)
                else:
                    messages.success(request, "Your reasons for not signing have been saved "
                                              "with this version.")
                    return redirect("version_detail", version.pk)
        else:
            return redirect("version_detail", version.pk)
    plan = version.plan
    # One check of the record for the page: may they open the plan, is it theirs, do
    # they read all of it (only then does the contents list show how far each part got).
    basis = policy.record_basis(request.user, plan.service_user)
    sections = selectors.version_sections(version=version, entries=opened.entries,
                                          with_states=basis in policy.FULL_BASES)
    return render(request, "plans/version_detail.html", {
        "opened": opened,
        "version": version,
        "plan": plan,
        "service_user": plan.service_user,
        "sections": sections,
        "contents": selectors.version_contents(sections=sections, may_answer=may_answer),
        "may_answer": may_answer,
        "sign_form": sign_form,
        "decline_form": decline_form,
        "form": failed_form,  # base.html puts "Error:" in the title when it has errors
        "signatures": selectors.version_signatures(viewer=request.user, version=version),
        "carers": {r.pk: r for r in selectors.carer_relationships_for_plan(plan=plan)},
        "can_open_plan": basis is not None,
        "is_own": basis is Basis.SELF,
    })


@require_POST
def version_pdf_request(request: HttpRequest, version_id: int) -> HttpResponse:
    """Ask for a PDF of a version, made in the background with what this person may see
    of it (the renderer asks the policy again, as them). Then "Your files" shows it."""
    export = plan_exports.plan_version_pdf_request(requested_by=request.user,
                                                   version_id=version_id)
    # Not "is being made": by the time this page shows, the file may already be ready.
    messages.success(request, f"You asked for “{export.title}” as a PDF. It is in the list "
                              "below: you can download it when it says Ready.")
    return redirect("export_list")


def version_diff(request: HttpRequest, plan_id: int, a: int, b: int) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="version_diff")
    if not opened.whole:
        raise Http404  # a diff shows every entry, not only a care-team role's areas
    by_number = {row.version.number: row.version
                 for row in selectors.versions_for_plan(viewer=request.user, opened=opened,
                                                        with_snapshots=True)}
    if a == b or a not in by_number or b not in by_number:
        raise Http404
    older, newer = sorted((by_number[a], by_number[b]), key=lambda v: v.number)
    rows = selectors.version_diff(older=older, newer=newer)
    return render(request, "plans/version_diff.html", {
        "plan": opened.plan, "older": older, "newer": newer,
        "is_own": opened.basis is Basis.SELF,
        "rows": rows,
        "contents": selectors.diff_contents(kind=opened.plan.kind, rows=rows),
        "carers": {r.pk: r for r in selectors.carer_relationships_for_plan(plan=opened.plan)},
    })


# --- Reviews --------------------------------------------------------------------------


def review_add(request: HttpRequest, plan_id: int) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id, surface="review_add")
    if not opened.can_record_review:
        raise Http404
    plan = opened.plan
    form = ReviewForm(request.POST or None,
                      carers=selectors.carer_relationships_for_plan(plan=plan))
    if request.method == "POST" and form.is_valid():
        data = {name: form.cleaned_data[name]
                for name in ("held_on", "attendees", "what_changed", "next_review_on")}
        try:
            services.review_record(plan=plan, recorded_by=request.user,
                                   carers_attended=form.carers(), **data)
        except (PlanActionError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, "The review has been recorded. "
                                      f"{plan.service_user.name} will be asked whether they "
                                      "felt listened to.")
            return redirect(_plan_url(plan.pk, "reviews"))
    return render(request, "plans/review_form.html", {"form": form, "plan": plan})


def review_answer(request: HttpRequest, review_id: int) -> HttpResponse:
    review = selectors.review_for_answer(viewer=request.user, review_id=review_id)
    form = ListenedForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.review_listened_answer(review=review, answered_by=request.user,
                                            **form.cleaned_data)
        except ValidationError as error:
            _add_errors(form, error)
        else:
            messages.success(request, "Thank you. Your answer has been saved.")
            return redirect(_plan_url(review.plan_id, "reviews"))
    return render(request, "plans/review_answer.html", {"form": form, "review": review})


# --- WRAP suggestions -----------------------------------------------------------------


def suggestion_add(request: HttpRequest, plan_id: int, section: str) -> HttpResponse:
    opened = selectors.plan_open(viewer=request.user, plan_id=plan_id,
                                 surface="suggestion_add")
    if not opened.can_suggest:
        raise Http404
    plan = opened.plan
    plan_section = _section_or_404(plan.kind, section)
    form = SuggestionForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        try:
            services.suggestion_create(plan=plan, section_code=section,
                                       text=form.cleaned_data["text"],
                                       suggested_by=request.user)
        except (PlanActionError, ValidationError) as error:
            _add_errors(form, error)
        else:
            messages.success(request, f"Your suggestion has been sent to "
                                      f"{plan.service_user.name}. It is only added if they "
                                      "accept it.")
            return redirect(_plan_url(plan.pk, f"section-{section}"))
    return render(request, "plans/suggestion_form.html",
                  {"form": form, "plan": plan, "section": plan_section})


@require_POST
def suggestion_answer(request: HttpRequest, suggestion_id: int, answer: str) -> HttpResponse:
    if answer not in ("accept", "dismiss"):
        raise Http404
    suggestion = selectors.suggestion_for_owner(viewer=request.user, suggestion_id=suggestion_id)
    try:
        services.suggestion_answer(suggestion=suggestion, answered_by=request.user,
                                   accept=answer == "accept")
    except (PlanActionError, ItemConflictError, ValidationError) as error:
        messages.error(request, str(error) if isinstance(error, PlanActionError) else
                       "The suggestion could not be added. Try again.")
    else:
        messages.success(request, "The suggestion has been added to your WRAP."
                         if answer == "accept" else "The suggestion has been dismissed.")
    return redirect(_plan_url(suggestion.plan_id, f"section-{suggestion.section}"))


# --- The first meeting (plans.first_meeting, ADR 0017) -----------------------------------


def _step_url(service_user_id: int, code: str | None) -> str:
    if code is None or code == "check":
        return reverse("first_meeting_check", args=[service_user_id])
    return reverse("first_meeting_step", args=[service_user_id, code])


def _finished_redirect(request: HttpRequest, opened: selectors.OpenedFirstMeeting):
    messages.info(request, f"The first meeting with {opened.service_user.name} has been saved "
                           "to their care plan. Change it there.")
    return redirect("plan_detail", opened.meeting.plan_id) if opened.meeting.plan_id else \
        redirect("service_user_detail", opened.service_user.pk)


def first_meeting(request: HttpRequest, service_user_id: int) -> HttpResponse:
    """Start, or carry on from the first step not yet answered."""
    opened = selectors.first_meeting_open(viewer=request.user, service_user_id=service_user_id,
                                          surface="first_meeting")
    if opened.is_finished:
        return _finished_redirect(request, opened)
    next_code = next((code for code in first_meeting_steps.STEP_CODES
                      if code not in opened.done), None)
    return redirect(_step_url(opened.service_user.pk, next_code))


def first_meeting_step(request: HttpRequest, service_user_id: int, step: str) -> HttpResponse:
    opened = selectors.first_meeting_open(viewer=request.user, service_user_id=service_user_id,
                                          surface="first_meeting")
    try:
        meeting_step = first_meeting_steps.step(step)
    except KeyError:
        raise Http404("No such step.") from None
    if opened.is_finished:
        return _finished_redirect(request, opened)
    service_user, episode = opened.service_user, opened.episode
    saved = str(opened.answers.get(step) or "")
    if meeting_step.kind == first_meeting_steps.DATE:
        today = timezone.localdate()
        form = FirstMeetingDateForm(
            request.POST or None,
            initial=FirstMeetingDateForm.initial_for(saved),
            earliest=today + dt.timedelta(days=first_meeting_steps.PLANNED_END_MIN_DAYS),
            latest=episode.started_on + dt.timedelta(days=first_meeting_steps.PLANNED_END_MAX_DAYS),
        )
    else:
        form = FirstMeetingTextForm(request.POST or None, initial={"answer": saved},
                                    max_length=meeting_step.max_length, name=service_user.name)
    number = first_meeting_steps.step_number(step)
    following = first_meeting_steps.next_step(step)
    if request.method == "POST" and form.is_valid():
        answer = (form.cleaned_data["planned_end_on"].isoformat()
                  if meeting_step.kind == first_meeting_steps.DATE
                  else form.cleaned_data["answer"])
        services.first_meeting_step_save(episode=episode, saved_by=request.user,
                                         step_code=step, answer=answer)
        return redirect(_step_url(service_user.pk, following))
    previous = first_meeting_steps.STEP_CODES[number - 2] if number > 1 else None
    return render(request, "plans/first_meeting/step.html", {
        "form": form, "step": meeting_step, "number": number,
        "total": len(first_meeting_steps.STEPS), "service_user": service_user,
        "episode": episode, "done": opened.done,
        "back_url": (_step_url(service_user.pk, previous) if previous
                     else reverse("service_user_detail", args=[service_user.pk])),
        "skip_url": _step_url(service_user.pk, following),
    })


def first_meeting_check(request: HttpRequest, service_user_id: int) -> HttpResponse:
    """Check your answers, then save them to the care plan."""
    opened = selectors.first_meeting_open(viewer=request.user, service_user_id=service_user_id,
                                          surface="first_meeting")
    if opened.is_finished:
        return _finished_redirect(request, opened)
    error = ""
    if request.method == "POST":
        try:
            meeting = services.first_meeting_finish(episode=opened.episode,
                                                    finished_by=request.user)
        except PlanActionError as refusal:
            error = str(refusal)
        except ValidationError:
            # The episode refused the planned end (say it was changed since): nothing was
            # written; the coordinator changes the date and saves again.
            error = ("The planned end of care coordination cannot be saved as it is. Change "
                     "it, then save again.")
        else:
            messages.success(request, f"The first meeting has been saved to "
                                      f"{opened.service_user.name}'s care plan, in their words. "
                                      "They can read and change it on their plan.")
            return redirect("plan_detail", meeting.plan_id)
    answers = opened.answers
    rows = []
    for meeting_step in first_meeting_steps.STEPS:
        value = str(answers.get(meeting_step.code) or "").strip()
        if value and meeting_step.kind == first_meeting_steps.DATE:
            date = dt.date.fromisoformat(value)
            value = f"{date.day} {date:%B %Y}"
        rows.append({"step": meeting_step, "answer": value,
                     "url": _step_url(opened.service_user.pk, meeting_step.code)})
    return render(request, "plans/first_meeting/check.html", {
        "rows": rows, "service_user": opened.service_user, "error": error,
        "done": len(opened.done), "total": len(first_meeting_steps.STEPS),
        "back_url": _step_url(opened.service_user.pk, first_meeting_steps.STEP_CODES[-1]),
    }, status=400 if error else 200)
