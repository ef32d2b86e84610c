"""Render Django forms as NHS.UK design system form groups (nhsuk-frontend v10).

`FORM_RENDERER = "carecoord.web.forms_rendering.NHSUKFormRenderer"` makes `{{ form }}` and
`{{ form.field.as_field_group }}` use `templates/forms/nhsuk_form.html` and
`templates/forms/nhsuk_field.html` for every form, and gives every form the
`NHSUKBoundField`, which adds the NHS.UK classes, `aria-describedby` (hint and error,
with NHS.UK ids `<id>-hint` and `<id>-error`) and the error modifier classes when the
widget is rendered. `NHSUKFormMixin` does the same for a form however it is rendered,
and puts the base classes on the widgets in `__init__` (so they show in `form.fields`).

Every textarea with a maximum length is rendered with the NHS.UK character count, and
every date field (`carecoord/web/date_input.py`) as the NHS.UK date input (ADR 0019).

Classes already on a widget (`widget.attrs["class"]`, for example
`nhsuk-input--width-10`) are kept; the NHS.UK ones are added beside them.
"""

from __future__ import annotations

from django import forms
from django.forms.boundfield import BoundField
from django.forms.renderers import TemplatesSetting

from carecoord.web.date_input import ERROR_PARTS_ATTR, NhsDateWidget, error_parts

# Field kinds, as the field template switches on them.
KIND_INPUT = "input"
KIND_TEXTAREA = "textarea"
KIND_SELECT = "select"
KIND_RADIOS = "radios"
KIND_CHECKBOXES = "checkboxes"
KIND_CHECKBOX = "checkbox"
KIND_FILE = "file"
KIND_MULTI = "multi"
KIND_HIDDEN = "hidden"

_DATE_LIKE = (forms.DateInput, forms.TimeInput)


def widget_kind(widget: forms.Widget) -> str:
    """Which NHS.UK component a Django widget is rendered as."""
    # Order matters: CheckboxSelectMultiple is a RadioSelect, RadioSelect a Select,
    # ClearableFileInput a FileInput, and every one of the inputs an Input.
    if widget.is_hidden:
        return KIND_HIDDEN
    if isinstance(widget, forms.CheckboxSelectMultiple):
        return KIND_CHECKBOXES
    if isinstance(widget, forms.RadioSelect):
        return KIND_RADIOS
    if isinstance(widget, forms.CheckboxInput):
        return KIND_CHECKBOX
    if isinstance(widget, (forms.MultiWidget, forms.SelectDateWidget)):
        return KIND_MULTI
    if isinstance(widget, forms.Select):  # Select, SelectMultiple, NullBooleanSelect
        return KIND_SELECT
    if isinstance(widget, forms.Textarea):
        return KIND_TEXTAREA
    if isinstance(widget, forms.FileInput):
        return KIND_FILE
    return KIND_INPUT


_BASE_CLASS = {
    KIND_INPUT: "nhsuk-input",
    KIND_TEXTAREA: "nhsuk-textarea",
    KIND_SELECT: "nhsuk-select",
    KIND_RADIOS: "nhsuk-radios__input",
    KIND_CHECKBOXES: "nhsuk-checkboxes__input",
    KIND_CHECKBOX: "nhsuk-checkboxes__input",
    KIND_FILE: "nhsuk-file-upload__input",
}
_ERROR_CLASS = {
    KIND_INPUT: "nhsuk-input--error",
    KIND_TEXTAREA: "nhsuk-textarea--error",
    KIND_SELECT: "nhsuk-select--error",
}


def _merge_classes(*class_strings: str | None) -> str:
    """Join class lists, keeping the first occurrence of each class, in order."""
    seen: dict[str, None] = {}
    for value in class_strings:
        for name in (value or "").split():
            seen.setdefault(name, None)
    return " ".join(seen)


def _classes_for(widget: forms.Widget, *, has_errors: bool) -> str:
    """The NHS.UK classes for a (non-multi) widget, before any already on it."""
    # SelectDateWidget draws three selects from the attributes it is given.
    kind = KIND_SELECT if isinstance(widget, forms.SelectDateWidget) else widget_kind(widget)
    base = _BASE_CLASS.get(kind, "")
    extra = _ERROR_CLASS.get(kind, "") if has_errors else ""
    width = ""
    existing = widget.attrs.get("class", "") or ""
    if isinstance(widget, _DATE_LIKE) and "nhsuk-input--width-" not in existing:
        width = "nhsuk-input--width-10"
    return _merge_classes(base, extra, width)


def apply_nhsuk_widget_classes(form: forms.BaseForm) -> None:
    """Put the NHS.UK base classes on every widget of `form` (keeps existing ones)."""
    for field in form.fields.values():
        widget = field.widget
        targets = widget.widgets if isinstance(widget, forms.MultiWidget) else [widget]
        for target in targets:
            if target.is_hidden:
                continue
            target.attrs["class"] = _merge_classes(
                _classes_for(target, has_errors=False), target.attrs.get("class")
            )


def required(message: str) -> dict[str, str]:
    """`error_messages=` for a required field: what to enter, naming the field ("Enter
    the person's full name"), never Django's "This field is required." (ADR 0019)."""
    return {"required": message}


def set_required_messages(form: forms.BaseForm, messages: dict[str, str]) -> None:
    """Give the fields of `form` (those it has) their "required" message."""
    for name, message in messages.items():
        if name in form.fields:
            form.fields[name].error_messages["required"] = message


def set_length_messages(form: forms.BaseForm) -> None:
    """"<Label> must be 2,000 characters or fewer" for text with a maximum length, unless
    the field says it its own way (Django's "Ensure this value has at most …" otherwise).
    Run before validation, so labels set in a form's __init__ are used."""
    for name, field in form.fields.items():
        limit = getattr(field, "max_length", None)
        if limit and "max_length" not in field.error_messages:
            label = str(field.label or name.replace("_", " ").capitalize())
            field.error_messages["max_length"] = (
                f"{label} must be {limit:,} characters or fewer")


class NHSUKBoundField(BoundField):
    """A BoundField that renders its widget with NHS.UK classes and ARIA ids."""

    @property
    def template_name(self):
        return self.field.template_name or "forms/nhsuk_field.html"

    @property
    def nhsuk_kind(self) -> str:
        return widget_kind(self.field.widget)

    @property
    def hint_id(self) -> str:
        return f"{self.auto_id}-hint" if self.auto_id else ""

    @property
    def error_id(self) -> str:
        return f"{self.auto_id}-error" if self.auto_id else ""

    @property
    def nhsuk_label(self) -> str:
        """The label text, with " (optional)" for a field that is not required."""
        label = str(self.label or "")
        if label and not self.field.required:
            return f"{label} (optional)"
        return label

    @property
    def character_count(self) -> int | None:
        """The most characters a free-text box takes, shown with the NHS.UK character
        count (every textarea of the product has a maximum length: ADR 0019)."""
        if self.nhsuk_kind != KIND_TEXTAREA:
            return None
        return getattr(self.field, "max_length", None)

    @property
    def character_count_text(self) -> str:
        return f"{self.character_count:,}" if self.character_count else ""

    @property
    def info_id(self) -> str:
        """The id of the character count's message (the NHS.UK script looks it up)."""
        return f"{self.auto_id}-info" if self.auto_id else ""

    @property
    def is_date_input(self) -> bool:
        return isinstance(self.field.widget, NhsDateWidget)

    @property
    def aria_describedby(self):
        # Preserve an aria-describedby set on the widget by the form.
        if self.field.widget.attrs.get("aria-describedby"):
            return None
        ids = []
        if self.auto_id and not self.is_hidden:
            if self.help_text:
                ids.append(self.hint_id)
            if self.errors:
                ids.append(self.error_id)
            if self.character_count:
                ids.append(self.info_id)
        return " ".join(ids)

    @property
    def error_target_id(self) -> str:
        """The id the error summary links to: the first thing the user can fill in."""
        kind = self.nhsuk_kind
        if self.is_date_input and self.auto_id:
            wrong = error_parts(self.value()) if self.errors else ("day",)
            return f"{self.auto_id}_{wrong[0]}"
        if kind in (KIND_RADIOS, KIND_CHECKBOXES):
            for subwidget in self.subwidgets:
                if subwidget.id_for_label:
                    return subwidget.id_for_label
        return self.id_for_label or self.auto_id or self.html_name

    def build_widget_attrs(self, attrs, widget=None):
        widget = widget or self.field.widget
        attrs = super().build_widget_attrs(attrs, widget)
        if widget.is_hidden:
            return attrs
        has_errors = bool(self.errors)
        if isinstance(widget, NhsDateWidget):
            # Only the boxes in the wrong are marked (NHS.UK date input guidance).
            attrs[ERROR_PARTS_ATTR] = error_parts(self.value()) if has_errors else ()
        if isinstance(widget, forms.MultiWidget):
            # Attributes given here reach every sub-widget: put the classes on each.
            for sub in widget.widgets:
                if not sub.is_hidden:
                    sub.attrs["class"] = _merge_classes(
                        _classes_for(sub, has_errors=has_errors), sub.attrs.get("class")
                    )
            return attrs
        # A class given here replaces the widget's own (Widget.build_attrs), so merge.
        attrs["class"] = _merge_classes(
            _classes_for(widget, has_errors=has_errors),
            widget.attrs.get("class"),
            attrs.get("class"),
            "nhsuk-js-character-count" if self.character_count else "",
        )
        if self.character_count:
            # The count tells people they are over and the form says so; the browser's
            # maxlength would silently cut what they paste instead.
            attrs["maxlength"] = False  # attrs.html leaves out attributes set to False
        return attrs


class NHSUKFormRenderer(TemplatesSetting):
    """Form renderer: NHS.UK form and field templates, NHS.UK bound fields.

    Uses settings.TEMPLATES, so Django's own widget templates must be found there:
    "django.forms" must be in INSTALLED_APPS (with APP_DIRS on).
    """

    form_template_name = "forms/nhsuk_form.html"
    field_template_name = "forms/nhsuk_field.html"
    bound_field_class = NHSUKBoundField


class NHSUKFormMixin:
    """Mix into a Form or ModelForm (before forms.Form) for NHS.UK widget classes.

    Error classes and aria-describedby are added when the field is rendered, by
    NHSUKBoundField, so that creating a bound form does not run validation.
    """

    bound_field_class = NHSUKBoundField

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        apply_nhsuk_widget_classes(self)

    def full_clean(self) -> None:
        set_length_messages(self)
        super().full_clean()

    @property
    def template_name(self):
        return "forms/nhsuk_form.html"
