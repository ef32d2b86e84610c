"""Managers see metadata, never clinical free text — as code, not as a comment: every
report, on the page and in the CSV, is built by queries that never read a column of
people's own words."""

from __future__ import annotations

import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from carecoord.reporting.reports import registry
from tests import clock
from tests.conftest import client_for

# Columns that hold what people wrote about themselves or each other.
CLINICAL_TEXT = {
    "plans_planitem": {"title", "body", "details"},
    "plans_planversion": {"snapshot"},
    "plans_signature": {"reason"},
    "plans_review": {"what_changed", "attendees", "listened_comment"},
    "plans_progressupdate": {"note"},
    "plans_suggestion": {"text"},
    "plans_itemchange": {"before", "after"},
    "consent_consentdecision": {"note", "basis"},
    "carers_wellbeingcheckin": {"words"},
    "carers_carerneeds": {"own_needs", "support_wanted"},
    "carers_carerinsight": {"text"},
    "carers_assessmentrequest": {"note"},
    "peersupport_signposting": {"outcome"},
    "peersupport_recoverystory": {"title", "body", "moderation_reason"},
}
SELECTED = re.compile(r'"(\w+)"\."(\w+)"')


def _clinical_columns_read(sql: str) -> set[str]:
    select_list = sql.split(" FROM ", 1)[0]
    return {f"{table}.{column}" for table, column in SELECTED.findall(select_list)
            if column in CLINICAL_TEXT.get(table, ())}


@pytest.mark.parametrize("slug", list(registry.REPORTS))
@pytest.mark.parametrize("surface", ["report_detail", "report_csv"])
def test_no_report_reads_a_column_of_peoples_words(world, slug, surface):
    period = {"start": clock.days(-365).isoformat(), "end": clock.today().isoformat()}
    client = client_for(world.manager)
    with CaptureQueriesContext(connection) as captured:
        response = client.get(reverse(surface, args=[world.team.pk, slug]), period)
        if hasattr(response, "streaming_content"):
            b"".join(response.streaming_content)
    assert response.status_code == 200
    read = set().union(*(_clinical_columns_read(q["sql"]) for q in captured.captured_queries))
    assert read == set(), f"{slug} ({surface}) reads {sorted(read)}"


def test_the_check_sees_a_clinical_column():
    sql = 'SELECT "plans_planitem"."id", "plans_planitem"."body" FROM "plans_planitem"'
    assert _clinical_columns_read(sql) == {"plans_planitem.body"}
