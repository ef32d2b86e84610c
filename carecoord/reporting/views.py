"""Managers' audit reports: pages with a period filter, CSV downloads streamed in
constant memory, and PDFs made in the background.

Thin: the access policy (through the reports registry) answers 404 to anyone who does not
manage the team — coordinators and administrators included — before anything else.
"""

from __future__ import annotations

from collections.abc import Mapping

from django import forms
from django.contrib import messages
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.text import slugify
from django.views.decorators.http import require_GET, require_POST

from carecoord.exports import services as exports
from carecoord.records.models import Team
from carecoord.reporting.csv_stream import csv_stream
from carecoord.reporting.reports import registry
from carecoord.reporting.reports.base import Period, Position, ReportSpec, display
from carecoord.web.date_input import PARTS, NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin


class PeriodForm(NHSUKFormMixin, forms.Form):
    start = NhsDateField(label="From", name="the first day of the period", bounds="any",
                         help_text="For example, 1 1 2026")
    end = NhsDateField(label="To", name="the last day of the period", bounds="any",
                       help_text="For example, 31 3 2026")

    def clean(self) -> dict:
        data = super().clean()
        start, end = data.get("start"), data.get("end")
        if start and end and start > end:
            self.add_error("end", "The last day must be the same as or after the first day")
        return data

    @property
    def period(self) -> Period:
        return Period(start=self.cleaned_data["start"], end=self.cleaned_data["end"])


# The period as typed in the date boxes, or as ISO dates in links (Period.as_params).
_PERIOD_KEYS = ("start", "end", *(f"{name}_{part}" for name in ("start", "end")
                                  for part in PARTS))


def _period_form(data: Mapping[str, str]) -> PeriodForm:
    """The filter, from the query string or the POST; the last three months if empty."""
    if not any(data.get(key) for key in _PERIOD_KEYS):
        data = Period.default().as_params()
    form = PeriodForm(data)
    form.is_valid()
    return form


def _team_report_and_form(request: HttpRequest, team_id: int, report: str,
                          data: Mapping[str, str]) -> tuple[Team, ReportSpec, PeriodForm]:
    """The team first: anyone who does not manage it gets 404 whatever report they ask
    for. Then the report, and the period from `data` (the query string or the POST)."""
    team = registry.team_for_reports(viewer=request.user, team_id=team_id)
    return team, registry.report_spec(report), _period_form(data)


@require_GET
def report_index(request: HttpRequest, team_id: int) -> HttpResponse:
    team = registry.team_for_reports(viewer=request.user, team_id=team_id)
    form = _period_form(request.GET)
    return render(request, "carecoord/reporting/index.html", {
        "team": team, "form": form, "reports": registry.REPORTS.values(),
        "query": _query(form),
    })


@require_GET
def report_detail(request: HttpRequest, team_id: int, report: str) -> HttpResponse:
    team, spec, form = _team_report_and_form(request, team_id, report, request.GET)
    result = None
    if form.is_valid():
        opened = registry.report_open(viewer=request.user, team_id=team.pk, slug=spec.slug,
                                      period=form.period, channel="view")
        result = registry.report_tables(opened, position=Position.from_params(request.GET))
    return render(request, "carecoord/reporting/report.html", {
        "team": team, "spec": spec, "form": form, "result": result,
        "period": form.period if form.is_valid() else None, "query": _query(form),
        # A link from before pages were reached by "Older" and "Newer" (?page=500): it
        # opens at the newest events, and says so.
        "page_number_ignored": request.GET.get("page", "1") not in ("", "1"),
    })


@require_GET
def report_csv(request: HttpRequest, team_id: int, report: str) -> HttpResponse:
    team, spec, form = _team_report_and_form(request, team_id, report, request.GET)
    if not form.is_valid():
        url = reverse("report_detail", args=[team.pk, spec.slug])
        return redirect(f"{url}?{request.GET.urlencode()}")
    opened = registry.report_open(viewer=request.user, team_id=team.pk, slug=spec.slug,
                                  period=form.period, channel="csv")
    header, rows = registry.report_csv(opened)
    response = StreamingHttpResponse(csv_stream(header, rows),
                                     content_type="text/csv; charset=utf-8")
    name = f"{slugify(team.name)}-{spec.slug}-{form.period.start}-to-{form.period.end}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    response["Cache-Control"] = "private, no-store"
    return response


@require_POST
def report_pdf(request: HttpRequest, team_id: int, report: str) -> HttpResponse:
    team, spec, form = _team_report_and_form(request, team_id, report, request.POST)
    if not form.is_valid():
        messages.error(request, "Choose a period first, then make the PDF.")
        return redirect("report_detail", team.pk, spec.slug)
    period = form.period
    exports.export_request(
        requested_by=request.user, kind="report",
        params={"team_id": team.pk, "report": spec.slug, **period.as_params()},
        title=f"{spec.title} – {team.name}, {display(period.start)} to {display(period.end)}",
    )
    messages.success(request, f"You asked for a PDF of “{spec.title}”. It is in the list "
                              "below: you can download it when it says Ready.")
    return redirect("export_list")


def _query(form: PeriodForm) -> str:
    """The period as a query string, for links between the reports and to the CSV."""
    period = form.period if form.is_valid() else Period.default()
    return urlencode(period.as_params())
