"""Sensible ranges for the dates people type, the same on every surface.

A date far outside anything real (a review on 31 December 9999, a birth in the year 1)
is a typing slip or an attack, never care: the forms, the API's serializers and the
services all check dates here, so one bad value cannot reach the database and later break
work that runs for everybody (the review reminder sweep adds days to review dates).

Each check has two faces: `*_problem(value)` returns the reason in plain English (or
None), for services; the `validate_*` functions raise Django's ValidationError with it,
for form fields, model fields and DRF serializer fields (`validators=[...]`).
"""

from __future__ import annotations

import datetime as dt

from django.core.exceptions import ValidationError
from django.utils import timezone
from django.utils.dateformat import format as date_format

EARLIEST = dt.date(1900, 1, 1)
YEARS_AHEAD = 5


def _latest_ahead(today: dt.date) -> dt.date:
    try:
        return today.replace(year=today.year + YEARS_AHEAD)
    except ValueError:  # 29 February
        return today.replace(year=today.year + YEARS_AHEAD, day=28)


def _words(value: dt.date) -> str:
    return date_format(value, "j F Y")


def _too_early(value: dt.date) -> str | None:
    if value < EARLIEST:
        return f"Enter a date on or after {_words(EARLIEST)}."
    return None


def future_date_problem(value: dt.date | None) -> str | None:
    """Review dates, target dates, planned ends, share-until dates: no more than five
    years ahead (and not before 1900)."""
    if value is None:
        return None
    latest = _latest_ahead(timezone.localdate())
    if value > latest:
        return (f"Enter a date no more than {YEARS_AHEAD} years ahead "
                f"(on or before {_words(latest)}).")
    return _too_early(value)


def past_date_problem(value: dt.date | None) -> str | None:
    """Dates of birth, dates something happened: today or earlier, and after 1900."""
    if value is None:
        return None
    if value > timezone.localdate():
        return "Enter a date that is today or in the past."
    return _too_early(value)


def any_date_problem(value: dt.date | None) -> str | None:
    """Any other date (a report's period, an episode's start): after 1900 and no more
    than five years ahead."""
    return future_date_problem(value)


def _raise(problem: str | None) -> None:
    if problem is not None:
        raise ValidationError(problem, code="date_out_of_range")


def validate_future_date(value: dt.date | None) -> None:
    _raise(future_date_problem(value))


def validate_past_date(value: dt.date | None) -> None:
    _raise(past_date_problem(value))


def validate_any_date(value: dt.date | None) -> None:
    _raise(any_date_problem(value))


def check_dates(**problems: str | None) -> None:
    """For services and models' clean(): raise one ValidationError naming each field whose
    date is out of range, e.g. `check_dates(next_review_on=future_date_problem(value))`."""
    found = {field: problem for field, problem in problems.items() if problem is not None}
    if found:
        raise ValidationError(found, code="date_out_of_range")
