"""The suite's own guards bite: a PostgreSQL-only test that skips while the run must be on
PostgreSQL fails the run, and the clock is the one `tests/clock.py` controls."""

from __future__ import annotations

import datetime as dt

import pytest
from django.utils import timezone

from tests import clock

GUARDED_SUITE = '''
import pytest

@pytest.mark.postgresql_only
def test_marked_and_skipped():
    pytest.skip("pretend this ran on SQLite")

def test_blames_sqlite():
    pytest.skip("SQLite has one writer at a time")

def test_other_skip():
    pytest.skip("nothing to do with the database")
'''


@pytest.mark.parametrize(("required", "failed", "skipped"), [
    # The guard checks the database at start-up: the "required" run needs PostgreSQL.
    pytest.param("1", 2, 1, marks=pytest.mark.postgresql_only),
    ("", 0, 3),
])
def test_a_postgresql_only_skip_fails_the_run_when_postgresql_is_required(
    pytester, monkeypatch, required, failed, skipped
):
    monkeypatch.setenv("TEST_REQUIRES_POSTGRESQL", required)
    pytester.makepyfile(test_inner=GUARDED_SUITE)
    pytester.makeini("[pytest]\nmarkers =\n    postgresql_only: needs PostgreSQL\n")
    # The inner run loads only the guard: pytest-playwright's per-test soft-assertion
    # scope cannot nest inside this test's own.
    result = pytester.runpytest_inprocess("-p", "tests.postgresql_guard", "-p", "no:django",
                                          "-p", "no:randomly", "-p", "no:playwright")
    result.assert_outcomes(failed=failed, skipped=skipped)
    if failed:
        result.stdout.fnmatch_lines(["*needs PostgreSQL and was skipped*"])


def test_the_whole_process_runs_on_the_suites_today():
    assert dt.date.today() == clock.today()
    assert timezone.localdate() == clock.today()
    assert timezone.now().date() == clock.today()


def test_time_can_be_moved_within_a_test_and_comes_back(today):
    with clock.travel_to(today + dt.timedelta(days=400)):
        assert timezone.localdate() == today + dt.timedelta(days=400)
    assert timezone.localdate() == today
