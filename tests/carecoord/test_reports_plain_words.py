"""The access-events report says what happened in plain words, newest first, on the page,
in the CSV and in the PDF (carecoord/audit/wording.py), and names the person the way staff
identify them: the name they use, their full name and their NHS number (3-3-4)."""

from __future__ import annotations

import csv
import io

import pytest
from pypdf import PdfReader

from carecoord.audit.services import access_event_record, access_events_record
from carecoord.reporting import pdf as report_pdf
from carecoord.reporting.csv_stream import csv_stream
from carecoord.reporting.reports import registry
from carecoord.reporting.reports.base import Period
from consent.policy import Basis
from tests import clock
from tests.conftest import client_for

CODES = ("plan_detail.view", "carer_item.view", "record_access.grant")


@pytest.fixture
def events(world):
    world.carer_account.preferred_name = "Lin"
    world.carer_account.save()
    world.service_user.preferred_name = "Al"
    world.service_user.nhs_number = "9434765919"
    world.service_user.save()
    with clock.travel_to(clock.days(-2)):
        access_event_record(actor=world.coordinator, service_user=world.service_user,
                            action="plan_detail.view", target="plan:1",
                            basis=str(Basis.ALLOCATED_COORDINATOR))
    with clock.travel_to(clock.days(-1)):
        access_events_record(actor=world.carer_account, service_user=world.service_user,
                             action="carer_item.view",
                             targets=[("plan_item:1", str(Basis.CARER_CONSENT))])
    access_event_record(actor=world.manager, service_user=world.service_user,
                        action="record_access.grant", target="allocation:1",
                        basis=f"{world.other_coordinator.display_name} given access as "
                              "care coordinator")
    return world


def _params():
    return {"start": clock.days(-7).isoformat(), "end": clock.today().isoformat()}


def _opened(world):
    return registry.report_open(viewer=world.manager, team_id=world.team.pk,
                                slug="access-events",
                                period=Period(start=clock.days(-7), end=clock.today()))


EXPECTED_NEWEST_FIRST = [
    "Gave a care coordinator access to the record",
    "Looked at a shared item",
    "Read a plan",
]


def test_the_page_says_it_in_plain_words_newest_first(events):
    world = events
    html = client_for(world.manager).get(
        f"/teams/{world.team.pk}/reports/access-events/", _params()).content.decode()
    positions = [html.index(words) for words in EXPECTED_NEWEST_FIRST]
    assert positions == sorted(positions)
    assert "Shared with them by Al" in html
    assert "They are the allocated care coordinator" in html
    assert f"{world.other_coordinator.display_name} was made care coordinator" in html
    assert "Al (Alex Service)" in html
    assert "943 476 5919" in html
    for code in CODES:
        assert code not in html


def test_the_csv_has_plain_words_and_keeps_the_code_last(events):
    header, rows = registry.report_csv(_opened(events))
    text = "".join(csv_stream(header, rows)).lstrip("\ufeff")
    table = list(csv.reader(io.StringIO(text)))
    assert table[0] == ["When", "Who", "Whose record", "NHS number", "What they did",
                        "Why they could", "Action code", "Target", "Items"]
    assert [row[4] for row in table[1:]] == EXPECTED_NEWEST_FIRST
    assert [row[6] for row in table[1:]] == list(CODES[::-1])
    assert table[1][1] == "Priya Manager"
    assert table[2][1:6] == ["Lin (Linda Carer)", "Al (Alex Service)", "943 476 5919",
                             "Looked at a shared item", "Shared with them by Al"]


def test_the_pdf_says_it_in_plain_words(events):
    content = report_pdf.html_to_pdf(report_pdf.report_pdf_html(_opened(events)))
    text = " ".join(" ".join(page.extract_text().split())
                    for page in PdfReader(io.BytesIO(content)).pages)
    for words in EXPECTED_NEWEST_FIRST:
        assert words in text
    assert text.index(EXPECTED_NEWEST_FIRST[0]) < text.index(EXPECTED_NEWEST_FIRST[2])
    assert "943 476 5919" in text
    for code in CODES:
        assert code not in text


def test_another_teams_manager_gets_404(events):
    world = events
    response = client_for(world.other_manager).get(
        f"/teams/{world.team.pk}/reports/access-events/", _params())
    assert response.status_code == 404


def test_an_event_without_a_person_reads_the_system(world):
    access_event_record(actor=None, service_user=world.service_user, action="episode.update",
                        target="episode:1", basis="allocated care coordinator")
    _header, rows = registry.report_csv(_opened(world))
    (row,) = list(rows)
    assert row[1] == "The system"
    assert row[4] == "Changed the episode of care"
