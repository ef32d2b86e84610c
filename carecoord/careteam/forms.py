"""Forms for the care team and emergency access."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.conf import settings

from carecoord.records.forms import CoordinatorChoiceField, DateInput
from carecoord.records.models import CareTeamRole
from carecoord.records.nhs_number import nhs_number_is_valid, nhs_number_normalise
from carecoord.web.forms_rendering import NHSUKFormMixin


class CareTeamAddForm(NHSUKFormMixin, forms.Form):
    member = CoordinatorChoiceField(queryset=None, label="Professional",
                                    empty_label="Choose a professional")
    care_team_role = forms.ChoiceField(label="Their role in the care team",
                                       choices=CareTeamRole.choices)
    started_on = forms.DateField(label="On the care team from", widget=DateInput(),
                                 initial=dt.date.today)
    ended_on = forms.DateField(label="Until (optional)", widget=DateInput(), required=False,
                               help_text="The last day they are on the care team. Leave "
                                         "empty if there is no end date yet.")

    def __init__(self, *args, candidates, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["member"].queryset = candidates

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("started_on"), cleaned.get("ended_on")
        if start and end and end < start:
            self.add_error("ended_on", "The end date must be on or after the start date.")
        return cleaned


class BreakGlassForm(NHSUKFormMixin, forms.Form):
    nhs_number = forms.CharField(
        label="NHS number", max_length=20,
        help_text="The person's 10-digit NHS number, exactly. There is no search by name.")
    reason = forms.CharField(
        label="Why you need their crisis plan now", widget=forms.Textarea(attrs={"rows": 4}),
        max_length=2000,
        help_text="This is recorded, and the person, their care coordinator and their team "
                  "manager are told at once.")

    def clean_nhs_number(self) -> str:
        value = nhs_number_normalise(self.cleaned_data["nhs_number"])
        if not nhs_number_is_valid(value):
            raise forms.ValidationError("Enter a valid 10-digit NHS number.")
        return value

    def clean_reason(self) -> str:
        reason = self.cleaned_data["reason"].strip()
        minimum = settings.BREAK_GLASS_REASON_MIN_LENGTH
        if len(reason) < minimum:
            raise forms.ValidationError(
                f"Give a reason of at least {minimum} characters.")
        return reason
