"""Dates as the NHS.UK date input: three boxes, day, month and year (ADR 0019).

Not the browser's date picker: it showed mm/dd/yyyy to an en-GB browser, cannot be
read out well by every screen reader, and hides what was typed when it was not a date.
`NhsDateField` is the only date field the product's forms use
(`tests/test_forms_everywhere.py` walks every form to keep it so).

- The boxes are `<name>_day`, `<name>_month`, `<name>_year` (ids `<id>_day` ...), text
  inputs with `inputmode="numeric"`, in a fieldset whose legend is the field's label.
- Messages name the field, as the NHS.UK pattern asks: "Enter the target date",
  "Target date must include a month", "Target date must be a real date"; the sensible
  range comes from `carecoord/web/date_bounds.py` (`bounds=`), the same on every surface.
- What was typed comes back as typed (day 31, month 2 stays 31 and 2), and only the box
  in the wrong is marked as an error when one part is missing.
- One ISO date in `<name>` itself (`?start=2026-01-01`) is also read, when none of the
  boxes was sent: links and hidden fields carry a date that way (the reports' period).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from django import forms
from django.core.exceptions import ValidationError
from django.utils import timezone

from carecoord.web import date_bounds

PARTS = ("day", "month", "year")
_PART_LABELS = {"day": "Day", "month": "Month", "year": "Year"}
_PART_WIDTHS = {"day": "nhsuk-input--width-2", "month": "nhsuk-input--width-2",
                "year": "nhsuk-input--width-4"}
HINT = "For example, 15 3 2027"

BOUNDS: dict[str, Callable[[dt.date | None], str | None]] = {
    "future": date_bounds.future_date_problem,
    "past": date_bounds.past_date_problem,
    "any": date_bounds.any_date_problem,
}

_DETERMINERS = ("the ", "their ", "your ", "my ", "a ", "an ")

# Set by NHSUKBoundField on the attrs it renders the widget with; never reaches the HTML.
ERROR_PARTS_ATTR = "nhsuk_error_parts"


class NhsDateWidget(forms.MultiWidget):
    """Day, month and year boxes with NHS.UK date input markup."""

    template_name = "forms/nhsuk_date_input.html"

    def __init__(self, attrs: dict | None = None) -> None:
        widgets = {
            part: forms.TextInput(attrs={
                "class": f"nhsuk-date-input__input {_PART_WIDTHS[part]}",
                "inputmode": "numeric", "spellcheck": "false",
            })
            for part in PARTS
        }
        super().__init__(widgets, attrs)

    def decompress(self, value: object) -> list:
        if isinstance(value, str):
            try:
                value = dt.date.fromisoformat(value)
            except ValueError:
                return [None, None, None]
        if isinstance(value, dt.date):
            return [str(value.day), str(value.month), str(value.year)]
        return [None, None, None]

    def value_from_datadict(self, data, files, name: str) -> list | str:
        parts = super().value_from_datadict(data, files, name)
        if not any(parts):
            # One ISO date from a link or a hidden field; or nothing typed at all (None,
            # so that templates asking `field.value` see no value).
            return data.get(name) or None
        return parts

    def value_omitted_from_data(self, data, files, name: str) -> bool:
        return super().value_omitted_from_data(data, files, name) and name not in data

    def get_context(self, name: str, value, attrs: dict | None) -> dict:
        attrs = dict(attrs or {})
        error_parts = attrs.pop(ERROR_PARTS_ATTR, ())
        context = super().get_context(name, value, attrs)
        id_ = context["widget"]["attrs"].get("id")
        for part, sub in zip(PARTS, context["widget"]["subwidgets"], strict=True):
            if id_:
                sub["attrs"]["id"] = f"{id_}_{part}"
            sub["part_label"] = _PART_LABELS[part]
            classes = sub["attrs"].get("class", "").split()
            if part in error_parts and "nhsuk-input--error" not in classes:
                classes.append("nhsuk-input--error")
            elif part not in error_parts and "nhsuk-input--error" in classes:
                classes.remove("nhsuk-input--error")
            sub["attrs"]["class"] = " ".join(classes)
            if part not in error_parts:
                sub["attrs"].pop("aria-invalid", None)
        return context

    def id_for_label(self, id_: str) -> str:
        return f"{id_}_day" if id_ else ""


def _parts_of(value: object) -> list[str]:
    if isinstance(value, (list, tuple)):
        return [str(part or "").strip() for part in [*value, "", "", ""][:3]]
    return ["", "", ""]


def error_parts(value: object) -> tuple[str, ...]:
    """The boxes to mark as wrong for what was typed: only the missing ones if some were
    filled in, otherwise all three."""
    parts = _parts_of(value)
    filled = [bool(part) for part in parts]
    if any(filled) and not all(filled):
        return tuple(part for part, present in zip(PARTS, filled, strict=True) if not present)
    return PARTS


class NhsDateField(forms.Field):
    """A date typed in the NHS.UK date input, checked against a range of date_bounds.

    `name` is how the messages call it ("the target date"); by default the label in
    lower case. `bounds`: "future" (review, target and end dates), "past" (dates of birth,
    things that happened) or "any"; `not_before_today` refuses dates before today with
    "<Name> must be today or in the future"; `not_after_today` dates after today with
    "<Name> must be today or in the past".
    """

    widget = NhsDateWidget
    default_error_messages = {
        "required": "Enter {the_name}",
        "incomplete": "{Name} must include {missing}",
        "invalid": "{Name} must be a real date",
        "not_before_today": "{Name} must be today or in the future",
        "not_after_today": "{Name} must be today or in the past",
    }

    def __init__(self, *, name: str = "", bounds: str = "any",
                 not_before_today: bool = False, not_after_today: bool = False,
                 **kwargs) -> None:
        kwargs.setdefault("help_text", HINT)
        super().__init__(**kwargs)
        if bounds not in BOUNDS:
            raise ValueError(f"bounds must be one of {sorted(BOUNDS)}")
        self.bounds = bounds
        self.date_name = name
        self.not_before_today = not_before_today
        self.not_after_today = not_after_today

    # -- messages ----------------------------------------------------------------------

    def _names(self) -> dict[str, str]:
        """"the target date" (for "Enter ...") and "Target date" (to start a sentence)."""
        name = (self.date_name or str(self.label or "the date")).strip()
        lower = name.lower()
        article = next((word for word in _DETERMINERS if lower.startswith(word)), "")
        the_name = name if article else f"the {name[:1].lower()}{name[1:]}"
        bare = name[len(article):]
        return {"the_name": the_name, "Name": bare[:1].upper() + bare[1:]}

    def _message(self, code: str, **extra: str) -> str:
        return str(self.error_messages[code]).format(**self._names(), **extra)

    def _error(self, code: str, **extra: str) -> ValidationError:
        return ValidationError(self._message(code, **extra), code=code)

    # -- cleaning ----------------------------------------------------------------------

    def to_python(self, value: object) -> dt.date | None:
        if value in self.empty_values:
            return None
        if isinstance(value, dt.datetime):
            return value.date()
        if isinstance(value, dt.date):
            return value
        if isinstance(value, str):
            try:
                return dt.date.fromisoformat(value.strip())
            except ValueError:
                raise self._error("invalid") from None
        parts = _parts_of(value)
        if not any(parts):
            return None
        missing = [part for part, text in zip(PARTS, parts, strict=True) if not text]
        if missing:
            raise self._error("incomplete",
                              missing=" and ".join(f"a {part}" for part in missing))
        day, month, year = parts
        if not (day.isdigit() and month.isdigit() and year.isdigit()) or len(year) != 4:
            raise self._error("invalid")
        try:
            return dt.date(int(year), int(month), int(day))
        except ValueError:
            raise self._error("invalid") from None

    def validate(self, value: dt.date | None) -> None:
        if value is None and self.required:
            raise ValidationError(self._message("required"), code="required")

    def run_validators(self, value: dt.date | None) -> None:
        if value is None:
            return
        today = timezone.localdate()
        if self.not_before_today and value < today:
            raise self._error("not_before_today")
        if self.not_after_today and value > today:
            raise self._error("not_after_today")
        problem = BOUNDS[self.bounds](value)
        if problem is not None:
            raise ValidationError(problem, code="date_out_of_range")
        super().run_validators(value)

    def has_changed(self, initial: object, data: object) -> bool:
        try:
            data_value = self.to_python(data)
        except ValidationError:
            return True
        initial_value = initial() if callable(initial) else initial
        try:
            initial_value = self.to_python(initial_value)
        except ValidationError:
            return True
        return initial_value != data_value

    def prepare_value(self, value: object) -> object:
        # A date or ISO text shows as its three numbers; what was typed stays as typed.
        return value
