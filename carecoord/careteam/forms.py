"""Forms for the care team and emergency access."""

from __future__ import annotations

from django import forms
from django.conf import settings
from django.utils import timezone

from carecoord.records.forms import CoordinatorChoiceField
from carecoord.records.models import CareTeamRole
from carecoord.records.nhs_number import nhs_number_is_valid, nhs_number_normalise
from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin, required


class CareTeamAddForm(NHSUKFormMixin, forms.Form):
    member = CoordinatorChoiceField(queryset=None, label="Professional",
                                    empty_label="Choose a professional",
                                    error_messages=required("Choose a professional"))
    care_team_role = forms.ChoiceField(label="Their role in the care team",
                                       choices=CareTeamRole.choices,
                                       error_messages=required(
                                           "Choose their role in the care team"))
    started_on = NhsDateField(label="On the care team from",
                              name="the date they join the care team",
                              initial=timezone.localdate, bounds="any",
                              help_text="For example, 15 3 2026")
    ended_on = NhsDateField(label="Until", name="the last day on the care team",
                            required=False, bounds="future",
                            help_text="The last day they are on the care team. Leave "
                                      "empty if there is no end date yet. For example, "
                                      "15 3 2027")

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
        help_text="The person's 10-digit NHS number, exactly. There is no search by name.",
        error_messages=required("Enter the person's NHS number"))
    reason = forms.CharField(
        label="Why you need their crisis plan now", widget=forms.Textarea(attrs={"rows": 4}),
        max_length=text_limits.NOTE,
        help_text="This is recorded, and the person, their care coordinator and their team "
                  "manager are told at once.",
        error_messages=required("Say why you need their crisis plan now"))

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
