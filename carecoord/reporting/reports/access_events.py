"""Report 1: who opened or changed the records of the team's service users, when, and on
which basis, newest first, in plain words (carecoord/audit/wording.py). The only report
that can be long: a page shows it a page at a time, the PDF the first rows, and the CSV
streams all of it from the database in chunks (with the action's code last, for tools)."""

from __future__ import annotations

from collections.abc import Iterator

from django.core.paginator import Paginator
from django.db.models import QuerySet
from django.utils import timezone

from carecoord.audit.models import AccessEvent
from carecoord.audit.wording import action_done, basis_words
from carecoord.records.nhs_number import nhs_number_display
from carecoord.reporting.reports.base import (
    Column,
    OpenedReport,
    ReportSpec,
    ReportTables,
    Table,
    display,
    service_user_identity,
    service_user_name,
    user_identity,
)

CSV_CHUNK_SIZE = 2000
PAGE_SIZE = 100  # access events per page

ACCESS_COLUMNS = ["When", "Who", "Whose record", "NHS number", "What they did",
                  "Why they could"]
CSV_COLUMNS = [*ACCESS_COLUMNS, "Action code"]


def access_events(opened: OpenedReport) -> QuerySet:
    """The access events on the records of the team's service users in the period, as
    (when, who, whose record, NHS number, action, basis) tuples, newest first."""
    return (
        AccessEvent.objects.filter(
            service_user__team=opened.team,
            occurred_at__gte=opened.period.starts_at,
            occurred_at__lt=opened.period.ends_before,
        )
        .annotate(actor_name=user_identity("actor__"),
                  record_name=service_user_identity("service_user__"),
                  chosen_name=service_user_name("service_user__"))
        .order_by("-occurred_at", "-id")
        .values_list("occurred_at", "actor_name", "record_name", "service_user__nhs_number",
                     "action", "basis", "chosen_name")
    )


def _plain(who, whose, nhs_number, action, basis, chosen_name) -> list[str]:
    return [who or "The system", whose, nhs_number_display(nhs_number) or "–",
            action_done(action), basis_words(basis, service_user_name=chosen_name or "")]


def _access_tables(opened: OpenedReport, page_number, row_limit) -> ReportTables:
    events = access_events(opened)
    notes: list[str] = []
    page = None
    if row_limit is not None:
        total = events.count()
        rows = list(events[:row_limit])
        if total > row_limit:
            notes.append(f"The first {row_limit:,} of {total:,} events. Download the CSV "
                         "file for all of them.")
    else:
        page = Paginator(events, PAGE_SIZE).get_page(page_number)
        rows = list(page.object_list)
    table = Table(
        caption=f"Access events, {display(opened.period.start)} to "
                f"{display(opened.period.end)}",
        columns=[Column(label) for label in ACCESS_COLUMNS],
        rows=[[display(when), *_plain(*rest)] for when, *rest in rows],
        empty_text="Nobody opened or changed these records in this period.",
    )
    return ReportTables(tables=[table], page=page, notes=notes)


def _access_csv(opened: OpenedReport) -> tuple[list[str], Iterator[tuple]]:
    rows = (
        (timezone.localtime(when).isoformat(timespec="seconds"), *_plain(*rest), rest[3])
        for when, *rest in access_events(opened).iterator(chunk_size=CSV_CHUNK_SIZE)
    )
    return CSV_COLUMNS, rows


REPORT = ReportSpec(
    slug="access-events",
    title="Access events",
    summary="Who opened or changed the records of the team's service users, when, "
            "and on which basis.",
    tables=_access_tables,
    csv=_access_csv,
)
