"""PDFs of the managers' audit reports, made in the background (carecoord.exports).

The renderer runs inside a Celery task, as the manager who asked: it opens the report
through the access policy again (someone who no longer manages the team gets no file:
the export fails with a reason), writes the access event for this reading, and renders
the same tables as the page — metadata only — into a tagged PDF (PDF/UA-1). The download
check asks the policy again: the file downloads only while its requester still manages
the team.
"""

from __future__ import annotations

from django.http import Http404
from django.template.loader import render_to_string
from django.utils import timezone

from carecoord.exports.models import Export
from carecoord.exports.pdf import html_to_pdf
from carecoord.exports.services import export_renderer
from carecoord.reporting.reports import registry
from carecoord.reporting.reports.base import OpenedReport, Period

PDF_TEMPLATE = "carecoord/reporting/report_pdf.html"
PDF_ROW_LIMIT = 2000  # access events in a PDF; the CSV has them all


class ReportExportRefusedError(Exception):
    """The requester may not (or may no longer) read this team's reports."""


def _opened(export: Export) -> OpenedReport:
    params = export.params
    try:
        return registry.report_open(
            viewer=export.requested_by, team_id=int(params["team_id"]),
            slug=str(params["report"]), period=Period.from_params(params),
            channel="pdf",
        )
    except (Http404, KeyError, TypeError, ValueError):
        raise ReportExportRefusedError(
            "No file was made: this is not a report you can read (you may no longer "
            "manage the team)."
        ) from None


def report_pdf_html(opened: OpenedReport) -> str:
    result = registry.report_tables(opened, row_limit=PDF_ROW_LIMIT)
    return render_to_string(PDF_TEMPLATE, {
        "team": opened.team,
        "spec": opened.spec,
        "period": opened.period,
        "result": result,
        "made_by": opened.viewer.display_name,
        "made_at": timezone.localtime(),
    })


@export_renderer(Export.Kind.REPORT)
def report_pdf(export: Export) -> bytes:
    return html_to_pdf(report_pdf_html(_opened(export)))
