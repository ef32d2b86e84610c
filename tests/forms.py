"""What a person types into the NHS.UK date input (carecoord/web/date_input.py): the
day, month and year boxes of a date field, as POST (or GET) data."""

from __future__ import annotations

import datetime as dt


def date_parts(name: str, value: dt.date | str | None) -> dict[str, str]:
    """`{"<name>_day": "5", "<name>_month": "3", "<name>_year": "2027"}` for a date (or an
    ISO date); three empty boxes for None or "". `name` is the field's name in the form,
    with its prefix if it has one (`item-3-expires_on`)."""
    if value in (None, ""):
        return {f"{name}_day": "", f"{name}_month": "", f"{name}_year": ""}
    if isinstance(value, str):
        value = dt.date.fromisoformat(value)
    return {f"{name}_day": str(value.day), f"{name}_month": str(value.month),
            f"{name}_year": str(value.year)}


def typed(name: str, day: str = "", month: str = "", year: str = "") -> dict[str, str]:
    """The boxes as typed, right or wrong ("31", "2", "2027")."""
    return {f"{name}_day": day, f"{name}_month": month, f"{name}_year": year}
