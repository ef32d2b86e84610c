"""Monthly partitions of the access audit trail (PostgreSQL only; ADR 0027).

The table is partitioned by `occurred_at`, one partition per calendar month (UTC), plus a
default partition that catches anything outside them so that an audited read can never
fail for want of a partition. `audit_partitions_ensure` (Celery beat, daily) keeps the
next months' partitions made in advance. DDL only: no personal data is read here, hence
the raw cursor (ruff's per-file exception in pyproject.toml).
"""

from __future__ import annotations

import datetime as dt
import logging

from django.db import connection
from django.utils import timezone

logger = logging.getLogger(__name__)

TABLE = "carecoord_accessevent"
DEFAULT_PARTITION = f"{TABLE}_default"
MONTHS_AHEAD = 3
DEFAULT_HAS_ROWS_BETWEEN = ("SELECT EXISTS (SELECT 1 FROM carecoord_accessevent_default "
                            "WHERE occurred_at >= %s AND occurred_at < %s)")


def partition_name(month: dt.date) -> str:
    return f"{TABLE}_p{month:%Y%m}"


def month_start(day: dt.date) -> dt.date:
    return day.replace(day=1)


def next_month(month: dt.date) -> dt.date:
    return (month.replace(day=28) + dt.timedelta(days=4)).replace(day=1)


def months_between(first: dt.date, last: dt.date) -> list[dt.date]:
    months, month = [], month_start(first)
    while month <= last:
        months.append(month)
        month = next_month(month)
    return months


def database_vendor() -> str:
    """"postgresql", "sqlite", …: for messages that say why something needs PostgreSQL."""
    return connection.vendor


def is_partitioned() -> bool:
    if connection.vendor != "postgresql":
        return False
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT EXISTS (SELECT 1 FROM pg_partitioned_table p JOIN pg_class c "
            "ON c.oid = p.partrelid WHERE c.relname = %s)", [TABLE])
        return bool(cursor.fetchone()[0])


def partition_create_sql(month: dt.date) -> str:
    """The statements that make one month's partition (with the append-only TRUNCATE
    guard, which PostgreSQL does not copy from the parent), if it is not there yet."""
    name = partition_name(month)
    start, end = month.isoformat(), next_month(month).isoformat()
    return (
        f"CREATE TABLE IF NOT EXISTS {name} PARTITION OF {TABLE} "
        f"FOR VALUES FROM ('{start} 00:00:00+00') TO ('{end} 00:00:00+00');"
        f"DROP TRIGGER IF EXISTS carecoord_access_event_no_truncate ON {name};"
        f"CREATE TRIGGER carecoord_access_event_no_truncate BEFORE TRUNCATE ON {name} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION carecoord_access_event_append_only();"
    )


def audit_partitions_ensure(*, today: dt.date | None = None,
                            months_ahead: int = MONTHS_AHEAD) -> list[str]:
    """Make the partitions for this month and the next `months_ahead`, where missing.
    Returns the names made. A month whose events already fell into the default partition
    is left there (still correct, only not pruned) and logged, because moving rows would
    mean deleting them, which the audit trail refuses."""
    if not is_partitioned():
        return []
    today = today or timezone.now().astimezone(dt.UTC).date()
    last = month_start(today)
    for _ in range(months_ahead):
        last = next_month(last)
    made = []
    with connection.cursor() as cursor:
        for month in months_between(today, last):
            name = partition_name(month)
            cursor.execute("SELECT to_regclass(%s) IS NOT NULL", [name])
            if cursor.fetchone()[0]:
                continue
            bounds = [f"{month.isoformat()} 00:00:00+00",
                      f"{next_month(month).isoformat()} 00:00:00+00"]
            cursor.execute(DEFAULT_HAS_ROWS_BETWEEN, bounds)
            if cursor.fetchone()[0]:
                logger.warning("Access events for %s are in the default partition; "
                               "leaving that month unpartitioned.", month.isoformat())
                continue
            cursor.execute(partition_create_sql(month))
            made.append(name)
    return made


# --- Taking an archived month out (archive_audit_month, ADR 0027) -------------------------

# How long the detach may wait for the table: DETACH PARTITION locks the whole trail, so
# every audited read queues behind it while it waits. Better to fail and run again later.
DETACH_LOCK_TIMEOUT = "10s"


def attached_months() -> list[dt.date]:
    """The months that have a partition attached to the trail, oldest first."""
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
            "WHERE i.inhparent = %s::regclass", [TABLE])
        names = [row[0] for row in cursor.fetchall()]
    prefix = f"{TABLE}_p"
    return sorted(dt.date(int(name[-6:-2]), int(name[-2:]), 1) for name in names
                  if name.startswith(prefix) and name[len(prefix):].isdigit())


def partition_lock(month: dt.date) -> None:
    """Hold the month's partition until the transaction ends: nothing can be added to it
    while it is written out, and a second archiver of the same month waits here. Reads
    go on (SHARE ROW EXCLUSIVE conflicts with writes and with itself only)."""
    with connection.cursor() as cursor:
        cursor.execute(f"LOCK TABLE {partition_name(month)} IN SHARE ROW EXCLUSIVE MODE")


def partition_detach_and_drop(month: dt.date) -> None:
    """Take the month's partition out of the trail and drop it, in the caller's
    transaction (so nothing happens unless everything does)."""
    name = partition_name(month)
    with connection.cursor() as cursor:
        # Deferred foreign-key checks of rows written earlier in this transaction would
        # make PostgreSQL refuse the ALTER TABLE ("pending trigger events"): run them now.
        cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        cursor.execute(f"SET LOCAL lock_timeout = '{DETACH_LOCK_TIMEOUT}'")
        cursor.execute(f"ALTER TABLE {TABLE} DETACH PARTITION {name}")
        cursor.execute(f"DROP TABLE {name}")
        cursor.execute("SET LOCAL lock_timeout = DEFAULT")
