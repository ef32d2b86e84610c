"""Tests that only PostgreSQL can run (the audit trail's trigger, row locks, real races)
are marked `postgresql_only`. On SQLite they skip; when the run must be on PostgreSQL
(`TEST_REQUIRES_POSTGRESQL=1`, set by scripts/test.sh) a skip of one of them — or any skip
that blames SQLite — fails the run, so a guard cannot silently stop guarding.

These hooks are registered by tests/conftest.py (and by name with `-p tests.postgresql_guard`
in tests/test_suite_guards.py, which proves they bite)."""

from __future__ import annotations

import os

import pytest


def _postgresql_required() -> bool:
    return os.environ.get("TEST_REQUIRES_POSTGRESQL", "").lower() in {"1", "true", "yes"}


def pytest_sessionstart(session):
    if _postgresql_required():
        from django.db import connection

        if connection.vendor != "postgresql":
            pytest.exit(
                f"TEST_REQUIRES_POSTGRESQL is set but the database is {connection.vendor}: "
                "check DATABASE_URL", returncode=3,
            )


def pytest_runtest_setup(item):
    if item.get_closest_marker("postgresql_only") is None:
        return
    from django.db import connection

    if connection.vendor != "postgresql":
        pytest.skip("needs PostgreSQL (SQLite has one writer at a time and no triggers)")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """A PostgreSQL-only test that skipped itself while the run must be on PostgreSQL
    (the README's test command) is a failure: a guard that silently stopped guarding."""
    outcome = yield
    report = outcome.get_result()
    if not (report.skipped and _postgresql_required()):
        return
    reason = str(report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr)
    if item.get_closest_marker("postgresql_only") or "sqlite" in reason.lower():
        report.outcome = "failed"
        report.longrepr = (
            f"{item.nodeid} needs PostgreSQL and was skipped ({reason}) although the run "
            "must be on PostgreSQL (TEST_REQUIRES_POSTGRESQL)"
        )
