"""Forms for the consent pages: one decision about one item, or about a whole section,
for one carer. Every form renders as NHS.UK form groups and keeps what was typed when it
is shown again with errors.

Many of these forms share a page, so each gets its own prefix (`item-<id>`,
`section-<plan id>-<code>`) and the page sends it back in `target`, which says which
form was sent.
"""

from __future__ import annotations

from django import forms
from django.utils import timezone

from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin, required

ACTION_SHARE = "share"
ACTION_STOP = "stop"
ACTION_FOLLOW = "follow"

MAX_TEXT = text_limits.NOTE


class ConsentDecisionForm(NHSUKFormMixin, forms.Form):
    """Share or stop sharing (the button sent says which), with an optional end date and
    note; a care coordinator recording it for the service user also gives the basis."""

    action = forms.ChoiceField(
        choices=[(ACTION_SHARE, "Share"), (ACTION_STOP, "Stop sharing"),
                 (ACTION_FOLLOW, "Follow the section rule again")],
        widget=forms.HiddenInput,  # sent by the button pressed, not by a field
        error_messages=required("Choose whether to share or stop sharing"),
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
        error_messages={"required": "Say on what basis you are recording this for them"},
    )

    def __init__(self, *args, records_for_someone_else: bool, allow_follow: bool = False,
                 **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if not records_for_someone_else:
            del self.fields["basis"]
        if not allow_follow:
            self.fields["action"].choices = self.fields["action"].choices[:2]

    def clean_expires_on(self):
        # The consent services refuse it too; saying it here puts the message by the field.
        value = self.cleaned_data.get("expires_on")
        if value is not None and value < timezone.localdate():
            raise forms.ValidationError("The end date for sharing must be today or later")
        return value

    @property
    def chosen_action(self) -> str:
        return self.cleaned_data["action"]

    @property
    def shared(self) -> bool:
        return self.cleaned_data["action"] == ACTION_SHARE

    def decision_kwargs(self) -> dict:
        """What the consent services take from this form."""
        return {
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
