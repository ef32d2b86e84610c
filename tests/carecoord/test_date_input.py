"""The NHS.UK date input (carecoord/web/date_input.py): three boxes, messages that name
the field, the same ranges as everywhere else, and what was typed kept as typed."""

from __future__ import annotations

import re

import pytest
from django import forms

from carecoord.web.date_input import NhsDateField, error_parts
from carecoord.web.forms_rendering import NHSUKFormMixin
from tests import clock
from tests.forms import date_parts, typed


class _TargetForm(NHSUKFormMixin, forms.Form):
    target_on = NhsDateField(label="Target date", bounds="future", not_before_today=True)
    born_on = NhsDateField(label="Date of birth", name="your date of birth", bounds="past",
                           required=False)


def _errors(data: dict) -> dict:
    form = _TargetForm(data)
    assert not form.is_valid()
    return {name: list(errors) for name, errors in form.errors.items()}


def test_a_date_typed_in_three_boxes_is_read():
    value = clock.days(30)
    form = _TargetForm(date_parts("target_on", value))
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target_on"] == value
    assert form.cleaned_data["born_on"] is None


@pytest.mark.parametrize(("boxes", "message"), [
    (("", "", ""), "Enter the target date"),
    (("4", "", "2027"), "Target date must include a month"),
    (("", "", "2027"), "Target date must include a day and a month"),
    (("31", "2", "2027"), "Target date must be a real date"),
    (("1x", "2", "2027"), "Target date must be a real date"),
    (("1", "2", "27"), "Target date must be a real date"),
    (("1", "13", "2027"), "Target date must be a real date"),
])
def test_messages_name_the_field(boxes, message):
    assert _errors(typed("target_on", *boxes))["target_on"] == [message]


def test_a_date_before_today_is_refused_when_the_field_says_so():
    errors = _errors(date_parts("target_on", clock.days(-1)))
    assert errors["target_on"] == ["Target date must be today or in the future"]


def test_the_ranges_are_date_bounds_ranges():
    far = clock.today().replace(year=clock.today().year + 6)
    assert "no more than 5 years ahead" in _errors(date_parts("target_on", far))["target_on"][0]
    born = _errors({**date_parts("target_on", clock.days(3)),
                    **date_parts("born_on", clock.days(2))})["born_on"]
    assert born == ["Enter a date that is today or in the past."]
    assert "1 January 1900" in _errors({**date_parts("target_on", clock.days(3)),
                                        **typed("born_on", "1", "1", "1850")})["born_on"][0]


def test_a_possessive_name_reads_well():
    errors = _errors({**date_parts("target_on", clock.days(3)),
                      **typed("born_on", "30", "2", "1990")})
    assert errors["born_on"] == ["Date of birth must be a real date"]
    with pytest.raises(forms.ValidationError) as refused:
        NhsDateField(label="Date of birth", name="your date of birth").clean(["", "", ""])
    assert refused.value.messages == ["Enter your date of birth"]


def _box(html: str, box: str) -> str:
    tag = re.search(rf'<input[^>]*id="id_{box}"[^>]*>', html)
    assert tag, box
    return tag.group(0)


def test_what_was_typed_stays_as_typed_and_only_the_wrong_box_is_marked():
    form = _TargetForm(typed("target_on", "31", "", "2027"))
    assert not form.is_valid()
    html = str(form["target_on"].as_field_group())
    assert 'value="31"' in _box(html, "target_on_day")
    assert 'value="2027"' in _box(html, "target_on_year")
    assert "nhsuk-input--error" in _box(html, "target_on_month")
    assert "nhsuk-input--error" not in _box(html, "target_on_day")
    assert "nhsuk-form-group--error" in html
    assert form["target_on"].error_target_id == "id_target_on_month"

    invalid = _TargetForm(typed("target_on", "31", "2", "2027"))
    assert not invalid.is_valid()
    html = str(invalid["target_on"].as_field_group())
    assert 'value="31"' in _box(html, "target_on_day")
    assert 'value="2"' in _box(html, "target_on_month")
    assert all("nhsuk-input--error" in _box(html, f"target_on_{part}")
               for part in ("day", "month", "year"))


def test_the_markup_is_the_nhs_date_input():
    html = str(_TargetForm()["target_on"].as_field_group())
    assert '<fieldset class="nhsuk-fieldset" role="group"' in html
    assert '<legend class="nhsuk-fieldset__legend' in html
    assert "For example, 15 3 2027" in html
    assert 'class="nhsuk-date-input"' in html
    for part, label in (("day", "Day"), ("month", "Month"), ("year", "Year")):
        tag = _box(html, f"target_on_{part}")
        assert 'type="text"' in tag
        assert 'inputmode="numeric"' in tag
        assert f'name="target_on_{part}"' in tag
        assert "nhsuk-date-input__input" in tag
        assert f'for="id_target_on_{part}">{label}</label>' in html
    assert 'type="date"' not in html


def test_an_edit_form_shows_the_saved_date_in_the_boxes():
    saved = clock.days(45)
    for initial in (saved, saved.isoformat()):
        html = str(_TargetForm(initial={"target_on": initial})["target_on"].as_field_group())
        assert f'value="{saved.day}"' in _box(html, "target_on_day")
        assert f'value="{saved.month}"' in _box(html, "target_on_month")
        assert f'value="{saved.year}"' in _box(html, "target_on_year")


def test_an_iso_date_in_a_link_is_read_when_no_box_was_sent():
    value = clock.days(10)
    form = _TargetForm({"target_on": value.isoformat()})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target_on"] == value
    # The boxes win when both are there.
    boxes = clock.days(11)
    form = _TargetForm({"target_on": value.isoformat(), **date_parts("target_on", boxes)})
    assert form.is_valid(), form.errors
    assert form.cleaned_data["target_on"] == boxes
    assert _errors({"target_on": "next Tuesday"})["target_on"] == [
        "Target date must be a real date"]


def test_error_parts():
    assert error_parts(["1", "", "2027"]) == ("month",)
    assert error_parts(["", "", ""]) == ("day", "month", "year")
    assert error_parts(["31", "2", "2027"]) == ("day", "month", "year")
    assert error_parts("2027-01-01") == ("day", "month", "year")
