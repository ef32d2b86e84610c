from __future__ import annotations

from django import forms

from carecoord.web.forms_rendering import NHSUKFormMixin


class CodeForm(NHSUKFormMixin, forms.Form):
    code = forms.CharField(
        label="Security code",
        max_length=40,
        error_messages={"required": "Enter the 6-digit code from your authenticator app"},
        widget=forms.TextInput(attrs={
            "autocomplete": "one-time-code", "spellcheck": "false", "autocapitalize": "none",
            "class": "nhsuk-input--width-10",
        }),
    )

    def __init__(self, *args, help_text: str = "", **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["code"].help_text = help_text

    def wrong(self, message: str) -> None:
        self.add_error("code", message)
