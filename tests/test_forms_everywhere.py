"""Every form in the product follows the NHS.UK patterns of issue 12 (ADR 0019):

- every date is the NHS.UK date input (`NhsDateField`: day, month and year boxes), never
  the browser's date picker nor Django's DateField;
- every required field says what to enter, naming the field, never Django's "This field
  is required.";
- every free-text field has a maximum length, and every textarea shows it with the NHS.UK
  character count.

The forms are found, not listed: every `forms` and `views` module of the apps is imported
and every Form subclass defined in them is checked, so a form added tomorrow is checked
too. A form whose constructor needs arguments gets them from `_kwargs_table`; a new form that
needs some fails here until it is added to `_kwargs_table`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import pkgutil

import pytest
from django import forms
from django.core.exceptions import ValidationError

from carecoord.web.date_input import NhsDateField, NhsDateWidget
from tests import clock

PACKAGES = ("carecoord", "plans", "consent", "carers", "peersupport")
# Django's admin site has its own look and widgets; it is not an NHS.UK page.
SKIPPED_MODULE_PARTS = ("migrations", "management", "admin", "settings")
DJANGO_REQUIRED = str(forms.Field.default_error_messages["required"])


def _form_modules() -> list[str]:
    names = []
    for package_name in PACKAGES:
        package = importlib.import_module(package_name)
        for info in pkgutil.walk_packages(package.__path__, prefix=f"{package_name}."):
            parts = info.name.split(".")
            if any(part in SKIPPED_MODULE_PARTS for part in parts):
                continue
            if "forms" in parts or "views" in parts:
                names.append(info.name)
    return names


def _all_subclasses(cls: type) -> set[type]:
    found = set()
    for sub in cls.__subclasses__():
        found.add(sub)
        found |= _all_subclasses(sub)
    return found


def _product_forms() -> list[type]:
    for name in _form_modules():
        importlib.import_module(name)
    return sorted(
        (cls for cls in _all_subclasses(forms.BaseForm)
         if cls.__module__.split(".")[0] in PACKAGES
         and not any(part in SKIPPED_MODULE_PARTS for part in cls.__module__.split("."))
         and not cls.__name__.startswith("_")),
        key=lambda cls: f"{cls.__module__}.{cls.__qualname__}",
    )


def _kwargs_table() -> dict[str, list[dict]]:
    """What each form needs to be built, by qualified name; several entries build it in
    each of its shapes (a goal, a responsibility and a plain item are one form)."""
    from carecoord.records.models import Team, User
    from carers.models import CarerRelationship
    from peersupport.models import Offer

    today = clock.today()
    relationships = {"relationships": CarerRelationship.objects.none()}
    return {
        "plans.forms.ItemForm": [
            {"item_type": "goal"}, {"item_type": "responsibility", "carers": ()},
            {"item_type": "text"}, {"item_type": "text", "is_coordinator": True,
                                    "editing": True},
        ],
        "plans.forms.ReviewForm": [{"carers": ()}],
        "plans.forms.FirstMeetingTextForm": [{"max_length": 2000, "name": "Alex"}],
        "plans.forms.FirstMeetingDateForm": [{"earliest": today,
                                              "latest": today + dt.timedelta(days=700)}],
        "carecoord.records.forms.ServiceUserCreateForm": [{"teams": Team.objects.none()}],
        "carecoord.records.forms.AllocationForm": [{"coordinators": User.objects.none()}],
        "carecoord.records.forms.EpisodeStartForm": [{"coordinators": User.objects.none()}],
        "carecoord.records.forms.InvitationAcceptForm": [{"email": "alex@example.test"}],
        "carecoord.records.forms.NewPasswordForm": [{"user": User()}],
        "carecoord.careteam.forms.CareTeamAddForm": [{"candidates": User.objects.none()}],
        "carecoord.administration.forms.TeamForm": [{"managers": User.objects.none(),
                                                     "requested_by": User()}],
        "carecoord.administration.forms.TeamPlaceForm": [{"choices": []}],
        "carecoord.administration.views.InvitationPasswordForm": [{"user": User()}],
        "carecoord.apitokens.forms.PasswordConfirmForm": [{"request": None}],
        "consent.forms.ConsentChoicesForm": [{"records_for_someone_else": True,
                                              "section_choices": ["1-crisis"],
                                              "item_choices": [1]}],
        "consent.forms.ReviewInvolvementForm": [{"on_behalf": True}],
        "carers.forms.CarerNeedsForm": [relationships],
        "carers.forms.WellbeingCheckInForm": [relationships],
        "carers.forms.AssessmentRequestForm": [relationships],
        "carers.forms.CarerInsightForm": [{"service_user_name": "Alex"}],
        "peersupport.forms.SignpostingForm": [
            {"offers": Offer.objects.none(), "service_user_name": "Alex", "is_own": True},
            {"offers": Offer.objects.none(), "service_user_name": "Alex", "is_own": False},
        ],
        "peersupport.forms.SignpostingUpdateForm": [{"service_user_name": "Alex",
                                                     "is_own": False}],
        "peersupport.forms.StoryForm": [{"author_name": "Alex"}],
        "peersupport.forms.OfferSearchForm": [{"show_retired_filter": True}],
    }


def _built(form_class: type, table: dict[str, list[dict]]) -> list[forms.BaseForm]:
    name = f"{form_class.__module__}.{form_class.__qualname__}"
    shapes = table.get(name, [{}])
    built = []
    for kwargs in shapes:
        try:
            built.append(form_class(**kwargs))
        except TypeError as error:
            pytest.fail(f"{name} needs arguments to be built ({error}): add them to "
                        "_kwargs_table() in tests/test_forms_everywhere.py")
    return built


@pytest.fixture
def product_forms(db) -> list[forms.BaseForm]:
    table = _kwargs_table()
    return [form for form_class in _product_forms() for form in _built(form_class, table)]


def _label(form: forms.BaseForm, name: str) -> str:
    return f"{type(form).__module__}.{type(form).__qualname__}.{name}"


def test_the_walk_finds_the_forms_of_every_app(product_forms):
    """The walk itself can fail: it must find forms in every app (and the reports'
    period form, which lives in a views module)."""
    modules = {type(form).__module__ for form in product_forms}
    for expected in ("plans.forms", "consent.forms", "carers.forms", "peersupport.forms",
                     "carecoord.records.forms", "carecoord.careteam.forms",
                     "carecoord.twofa.forms", "carecoord.apitokens.forms",
                     "carecoord.reporting.views"):
        assert expected in modules, f"no form found in {expected}"
    assert len(product_forms) > 30


def _is_browser_date(field: forms.Field) -> bool:
    widget = field.widget
    if isinstance(field, (forms.DateField, forms.DateTimeField, forms.SplitDateTimeField)):
        return True
    if isinstance(widget, (forms.DateInput, forms.DateTimeInput, forms.SelectDateWidget)):
        return True
    return getattr(widget, "input_type", "") in ("date", "datetime-local", "month")


def test_every_date_is_the_nhs_date_input(product_forms):
    wrong = [_label(form, name) for form in product_forms
             for name, field in form.fields.items() if _is_browser_date(field)]
    assert not wrong, f"dates not using carecoord.web.date_input.NhsDateField: {wrong}"
    dates = [field for form in product_forms for field in form.fields.values()
             if isinstance(field, NhsDateField)]
    assert len(dates) >= 15
    assert all(isinstance(field.widget, NhsDateWidget) for field in dates)


def _required_messages(field: forms.Field) -> list[str]:
    try:
        field.clean(None)
    except ValidationError as error:
        return error.messages
    return []


def test_every_required_field_says_what_to_enter(product_forms):
    """Hidden fields are left out: nobody can leave them empty but a script."""
    wrong = []
    for form in product_forms:
        for name, field in form.fields.items():
            if not field.required or field.widget.is_hidden:
                continue
            messages = _required_messages(field)
            if not messages or any(DJANGO_REQUIRED in message or message.strip() in (
                    "Required", "This field is required") for message in messages):
                wrong.append(f"{_label(form, name)}: {messages}")
    assert not wrong, f"required fields without a message naming them: {wrong}"


def _is_free_text(field: forms.Field) -> bool:
    return (isinstance(field, forms.CharField)
            and not isinstance(field.widget, (forms.PasswordInput, forms.HiddenInput)))


def test_every_free_text_field_has_a_maximum_length(product_forms):
    wrong = [_label(form, name) for form in product_forms
             for name, field in form.fields.items()
             if _is_free_text(field) and not field.max_length]
    assert not wrong, f"free-text fields with no maximum length: {wrong}"


def test_text_that_is_too_long_is_refused_naming_the_field(product_forms):
    wrong = []
    for form in product_forms:
        form.full_clean()  # an unbound form validates nothing, but gets ready to
        for name, field in form.fields.items():
            if not (_is_free_text(field) and field.max_length):
                continue
            try:
                field.clean("x" * (field.max_length + 1))
            except ValidationError as error:
                if any("Ensure this value" in message for message in error.messages):
                    wrong.append(f"{_label(form, name)}: {error.messages}")
    assert not wrong, f"Django's own message for text that is too long: {wrong}"


def test_every_textarea_renders_the_nhs_character_count(product_forms):
    textareas = 0
    wrong = []
    for form in product_forms:
        for name, field in form.fields.items():
            if not isinstance(field.widget, forms.Textarea):
                continue
            textareas += 1
            html = str(form[name].as_field_group())
            expected = (f'data-module="nhsuk-character-count" '
                        f'data-maxlength="{field.max_length}"')
            if (not field.max_length or expected not in html
                    or "nhsuk-js-character-count" not in html
                    or f'id="{form[name].auto_id}-info"' not in html
                    or "maxlength=" in html.split("<textarea", 1)[1].split(">", 1)[0]):
                wrong.append(_label(form, name))
    assert textareas >= 20
    assert not wrong, f"textareas without the NHS.UK character count: {wrong}"


class _PlantedForm(forms.Form):
    """What the checks above must catch."""

    when = forms.DateField(label="When")
    words = forms.CharField(widget=forms.Textarea)


def test_the_checks_catch_a_form_that_breaks_the_patterns():
    form = _PlantedForm()
    assert _is_browser_date(form.fields["when"])
    assert DJANGO_REQUIRED in _required_messages(form.fields["words"])[0]
    assert _is_free_text(form.fields["words"])
    assert not form.fields["words"].max_length
    assert "nhsuk-character-count" not in str(form["words"].as_field_group())
