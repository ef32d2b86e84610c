"""The one controlled "today" of the test suite.

Every date a test or a factory needs is derived from `today()`. The whole run is moved to
that day by `time-machine` (see `tests/conftest.py`), so the code under test, Django's
`timezone.now()`, the factories and the tests all agree on the date, and the suite can be
run on any date: `TEST_TODAY=2031-02-28 ./scripts/test.sh`.

Without TEST_TODAY the run takes the real date at start-up, at a fixed time of day (so a
run that crosses midnight does not change "today" half-way through).
"""

from __future__ import annotations

import datetime as dt
import os
from zoneinfo import ZoneInfo

import time_machine

LONDON = ZoneInfo("Europe/London")

# Mid-morning in London: far from midnight, so neither UTC nor local time is on another day.
TIME_OF_DAY = dt.time(10, 30)


def _today_from_environment() -> dt.date:
    value = os.environ.get("TEST_TODAY", "").strip()
    if not value:
        return dt.datetime.now(LONDON).date()
    try:
        return dt.date.fromisoformat(value)
    except ValueError as error:
        raise SystemExit(f"TEST_TODAY must be a date like 2031-02-28, not {value!r}") from error


TODAY: dt.date = _today_from_environment()
START: dt.datetime = dt.datetime.combine(TODAY, TIME_OF_DAY, tzinfo=LONDON)


def today() -> dt.date:
    """The suite's today (the clock is moved there for the whole run)."""
    return TODAY


def days(n: int) -> dt.date:
    """`today()` moved by `n` days (negative for the past)."""
    return TODAY + dt.timedelta(days=n)


def moved_by_clock() -> bool:
    return bool(os.environ.get("TEST_TODAY", "").strip())


def travel_to(day: dt.date | dt.datetime, *, tick: bool = True) -> time_machine.travel:
    """Move the whole process's clock to `day` (at `TIME_OF_DAY` for a date) for a `with`
    block: "time passes" for the code under test however it reads the clock."""
    if not isinstance(day, dt.datetime):
        day = dt.datetime.combine(day, TIME_OF_DAY, tzinfo=LONDON)
    return time_machine.travel(day, tick=tick)
