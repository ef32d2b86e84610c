"""Forms for the consent pages: what one carer can see, changed in one submission
(whole sections and chosen items, ticked; one end date, one note, one basis), and
whether they are heard at reviews. Every form renders as NHS.UK form groups and keeps
what was typed when it is shown again with errors (ADR 0018).
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin, required

ACTION_SHARE = "share"
ACTION_STOP = "stop"
LATER_TOO = "later"
ONLY_NOW = "now"

MAX_TEXT = text_limits.NOTE
NOTHING_CHOSEN = "Choose at least one section or item"


class _DefaultedChoiceField(forms.ChoiceField):
    """A choice that is always made: its initial value when nothing is sent (the radios
    start with it ticked; a submission from elsewhere need not send it)."""

    def clean(self, value):
        return super().clean(value or self.initial)


class ConsentChoicesForm(NHSUKFormMixin, forms.Form):
    """Share or stop sharing (the button pressed says which) the ticked sections
    (`<plan id>-<section code>`) and items (`<item id>`) of the page, with one optional
    end date and note; a care coordinator recording it for the service user also gives
    the basis. The choices are what the page shows: anything else is not on the page."""

    sections = forms.MultipleChoiceField(
        required=False, widget=forms.CheckboxSelectMultiple)
    items = forms.MultipleChoiceField(required=False, widget=forms.CheckboxSelectMultiple)
    action = forms.ChoiceField(
        choices=[(ACTION_SHARE, "Share"), (ACTION_STOP, "Stop sharing")],
        widget=forms.HiddenInput,  # sent by the button pressed, not by a field
        error_messages=required("Choose whether to share or stop sharing"),
    )
    later = _DefaultedChoiceField(
        label="When you share a whole section", initial=LATER_TOO, required=False,
        choices=[(LATER_TOO, "Share everything in it, including things added to it later"),
                 (ONLY_NOW, "Share only what is in it now")],
        widget=forms.RadioSelect,
        help_text="Sharing a whole section also shares things added to it later, until "
                  "you stop sharing it.",
    )
    expires_on = NhsDateField(
        label="Share until", name="the date to share until", required=False,
        bounds="future",
        help_text="Leave this empty to share until you change your mind. "
                  "For example, 3 5 2027",
    )
    include_progress_notes = forms.BooleanField(
        label="Also share the progress notes recorded on goals", required=False,
        help_text="Sharing shows what it says now. Progress notes, and earlier wordings, "
                  "stay private unless you tick this.",
    )
    note = forms.CharField(
        label="Note", required=False, max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example, why, or what you agreed. It is kept with the decision.",
    )
    basis = forms.CharField(
        label="On what basis are you recording this for them?", max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: Asked for this in our meeting on 3 March. They will see "
                  "this and can change the decision.",
        error_messages=required("Say on what basis you are recording this for them"),
    )

    def __init__(self, *args, records_for_someone_else: bool,
                 section_choices: list[str] = (), item_choices: list[int] = (),
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["sections"].choices = [(value, value) for value in section_choices]
        self.fields["items"].choices = [(str(pk), str(pk)) for pk in item_choices]
        if not records_for_someone_else:
            del self.fields["basis"]

    def clean_expires_on(self):
        # The consent services refuse it too; saying it here puts the message by the field.
        value = self.cleaned_data.get("expires_on")
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError("The end date for sharing must be today or later")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if not cleaned.get("sections") and not cleaned.get("items") and not (
                self.errors.get("sections") or self.errors.get("items")):
            self.add_error("sections", NOTHING_CHOSEN)
        return cleaned

    @property
    def shared(self) -> bool:
        return self.cleaned_data["action"] == ACTION_SHARE

    def chosen(self, name: str) -> set[str]:
        """The values ticked in `sections` or `items`, as sent (to tick them again)."""
        return set(self.data.getlist(name)) if self.is_bound else set()

    def decision_kwargs(self) -> dict:
        """What consent_decide_many takes from this form, besides what was chosen."""
        return {
            "shared": self.shared,
            "later_items": self.cleaned_data.get("later") != ONLY_NOW,
            "expires_on": self.cleaned_data.get("expires_on") if self.shared else None,
            "note": self.cleaned_data.get("note", ""),
            "basis": self.cleaned_data.get("basis", ""),
            "include_progress_notes": bool(self.cleaned_data.get("include_progress_notes"))
            and self.shared,
        }


class ReviewInvolvementForm(NHSUKFormMixin, forms.Form):
    """Involve a carer in reviews, or stop (the button sent says which); a care
    coordinator recording it for the service user gives the basis."""

    involve = forms.ChoiceField(choices=[("yes", "Involve"), ("no", "Stop involving")],
                                widget=forms.HiddenInput,
                                error_messages=required("Choose whether to involve them"))
    basis = forms.CharField(
        label="On what basis are you recording this?", required=False, max_length=MAX_TEXT,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="For example: Asked for this in our meeting on 3 March.")
    note = forms.CharField(label="Note", required=False, max_length=MAX_TEXT,
                           widget=forms.Textarea(attrs={"rows": 2}))

    def __init__(self, *args, on_behalf: bool, **kwargs) -> None:
        kwargs.setdefault("prefix", "reviews")
        super().__init__(*args, **kwargs)
        if not on_behalf:
            del self.fields["basis"]
