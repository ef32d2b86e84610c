from __future__ import annotations

import datetime as dt

from django import forms
from django.contrib.auth.forms import AuthenticationForm, PasswordResetForm, SetPasswordForm
from django.contrib.auth.password_validation import validate_password
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from carecoord.records.models import Episode, ServiceUser, Team, User
from carecoord.records.nhs_number import nhs_number_normalise
from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin, required, set_required_messages


class EmailAuthenticationForm(NHSUKFormMixin, AuthenticationForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["username"].label = "Email address"
        # Focus must start at the top of the page, where the skip link is (WCAG 2.4.3).
        self.fields["username"].widget.attrs.pop("autofocus", None)
        self.fields["username"].widget.input_type = "email"
        self.fields["username"].error_messages["required"] = "Enter your email address"
        self.fields["password"].error_messages["required"] = "Enter your password"
        self.fields["username"].widget.attrs.update(
            {"autocomplete": "email", "spellcheck": "false", "autocapitalize": "none"}
        )
        self.fields["password"].widget.attrs["autocomplete"] = "current-password"
        self.error_messages["invalid_login"] = (
            "Enter the email address and password you use to sign in. "
            "Both are needed, and the password is case-sensitive."
        )


class EmailPasswordResetForm(NHSUKFormMixin, PasswordResetForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["email"].label = "Email address"
        self.fields["email"].help_text = "The one you use to sign in."
        self.fields["email"].error_messages["required"] = "Enter your email address"


class NewPasswordForm(NHSUKFormMixin, SetPasswordForm):
    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["new_password1"].label = "New password"
        self.fields["new_password1"].help_text = (
            "At least 10 characters. Not a common password, and not all numbers."
        )
        self.fields["new_password2"].label = "Type the new password again"
        set_required_messages(self, {"new_password1": "Enter a new password",
                                     "new_password2": "Type the new password again"})


class NHSNumberField(forms.CharField):
    def to_python(self, value: str | None) -> str:
        return nhs_number_normalise(super().to_python(value) or "")


_DETAIL_FIELDS = [
    "full_name", "preferred_name", "pronouns", "date_of_birth", "nhs_number",
    "email", "phone", "address", "preferred_contact", "contact_notes",
]
_DETAIL_WIDGETS = {
    "address": forms.Textarea(attrs={"rows": 3}),
    "contact_notes": forms.Textarea(attrs={"rows": 3}),
    "preferred_contact": forms.RadioSelect,
}
_DETAIL_HELP = {
    "nhs_number": "10 digits, like 943 476 5919. Leave empty if you do not know it.",
    "email": "Needed to invite them to see and co-write their own plans.",
}

_DETAIL_REQUIRED = {
    "full_name": "Enter the person's full name",
    "date_of_birth": "Enter their date of birth",
    "preferred_contact": "Choose how they would like to be contacted",
}


def _limit_text(form: forms.BaseForm) -> None:
    """The free-text boxes of a record: a maximum length, shown by the character count."""
    for name, limit in (("address", text_limits.ADDRESS),
                        ("contact_notes", text_limits.ADDRESS),
                        ("discharge_plan", text_limits.DISCHARGE_PLAN),
                        ("after_discharge_contacts", text_limits.NOTE)):
        if name in form.fields:
            form.fields[name].max_length = limit
            form.fields[name].validators.append(MaxLengthValidator(limit))


class ServiceUserDetailsForm(NHSUKFormMixin, forms.ModelForm):
    """The record's details, as a care coordinator edits them."""

    nhs_number = NHSNumberField(label="NHS number", required=False, max_length=13)
    date_of_birth = NhsDateField(label="Date of birth", name="their date of birth",
                                 bounds="any", help_text="For example, 31 3 1980")
    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = ServiceUser
        fields = _DETAIL_FIELDS
        widgets = _DETAIL_WIDGETS
        help_texts = _DETAIL_HELP

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_required_messages(self, _DETAIL_REQUIRED)
        _limit_text(self)
        if self.instance.pk and "version" not in self.initial:
            self.initial["version"] = self.instance.version

    def clean_date_of_birth(self) -> dt.date:
        value = self.cleaned_data["date_of_birth"]
        if value > timezone.localdate():
            raise forms.ValidationError("Date of birth must be in the past.")
        return value


class OwnDetailsForm(NHSUKFormMixin, forms.ModelForm):
    """What a service user may change on their own record: how they are named and
    contacted."""

    version = forms.IntegerField(widget=forms.HiddenInput)

    class Meta:
        model = ServiceUser
        fields = ["preferred_name", "pronouns", "phone", "address", "preferred_contact",
                  "contact_notes"]
        widgets = _DETAIL_WIDGETS
        labels = {
            "preferred_name": "What you like to be called",
            "preferred_contact": "How you prefer to be contacted",
            "contact_notes": "Anything else about contacting you",
        }
        help_texts = {"contact_notes": "For example, the best time to call, or not to leave "
                                        "voicemails."}

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        set_required_messages(self, {
            "preferred_contact": "Choose how you would like to be contacted"})
        _limit_text(self)
        if self.instance.pk and "version" not in self.initial:
            self.initial["version"] = self.instance.version


class ServiceUserCreateForm(ServiceUserDetailsForm):
    team = forms.ModelChoiceField(queryset=None, empty_label=None,
                                  error_messages=required("Choose the team"))
    started_on = NhsDateField(
        label="Care coordination starts on", name="the date care coordination starts",
        initial=timezone.localdate, bounds="any",
    )
    planned_end_on = NhsDateField(
        label="Care coordination is planned to end on",
        name="the date care coordination is planned to end", bounds="future",
        help_text="Care coordination is time-limited. Agree a date together; you can "
                  "change it. For example, 15 3 2027",
    )

    class Meta(ServiceUserDetailsForm.Meta):
        fields = ["team", *_DETAIL_FIELDS, "started_on", "planned_end_on"]

    def __init__(self, *args, teams, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        del self.fields["version"]
        self.fields["team"].queryset = teams
        if teams.count() == 1:
            self.fields["team"].widget = forms.HiddenInput()
            self.fields["team"].initial = teams.first()

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("started_on"), cleaned.get("planned_end_on")
        if start and end and end <= start:
            self.add_error("planned_end_on", "The planned end must be after the start.")
        return cleaned


class EpisodeForm(NHSUKFormMixin, forms.ModelForm):
    class Meta:
        model = Episode
        fields = ["planned_end_on", "discharged_on", "discharge_plan",
                  "after_discharge_contacts"]
        widgets = {
            "discharge_plan": forms.Textarea(attrs={"rows": 6}),
            "after_discharge_contacts": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {
            "planned_end_on": "Planned end of care coordination",
            "discharged_on": "Care coordination ended on",
            "discharge_plan": "Discharge plan",
            "after_discharge_contacts": "Who to contact after care coordination ends",
        }
        help_texts = {
            "discharge_plan": "What happens next, who to contact, and what support stays "
                              "in place. Needed when care coordination ends.",
            "after_discharge_contacts": "Names, phone numbers and when to call each. These, "
                                        "the planned end and the discharge plan are kept in "
                                        "the care plan, where the service user can share "
                                        "them with a carer.",
        }

    planned_end_on = NhsDateField(label="Planned end of care coordination",
                                  name="the planned end of care coordination",
                                  bounds="future")
    discharged_on = NhsDateField(label="Care coordination ended on",
                                 name="the date care coordination ended", bounds="any",
                                 required=False,
                                 help_text="Leave empty while care coordination goes on. "
                                           "For example, 15 3 2027")

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        _limit_text(self)

    def clean(self) -> dict:
        cleaned = super().clean()
        discharged = cleaned.get("discharged_on")
        if discharged and not (cleaned.get("discharge_plan") or "").strip():
            self.add_error("discharge_plan", "Write the discharge plan before ending care "
                                             "coordination.")
        if discharged and discharged > timezone.localdate():
            self.add_error("discharged_on", "The end date cannot be in the future.")
        if discharged and discharged < self.instance.started_on:
            self.add_error("discharged_on", "The end date cannot be before the episode started.")
        end = cleaned.get("planned_end_on")
        if end and end <= self.instance.started_on:
            self.add_error("planned_end_on", "The planned end must be after the start, "
                           f"{self.instance.started_on:%-d %B %Y}.")
        return cleaned


class CoordinatorChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: User) -> str:
        return obj.display_name


class AllocationForm(NHSUKFormMixin, forms.Form):
    coordinator = CoordinatorChoiceField(queryset=None, label="Care coordinator",
                                         empty_label="Choose a care coordinator",
                                         error_messages=required("Choose a care coordinator"))

    def __init__(self, *args, coordinators, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["coordinator"].queryset = coordinators


class EpisodeStartForm(AllocationForm):
    started_on = NhsDateField(label="Care coordination starts on",
                              name="the date care coordination starts",
                              initial=timezone.localdate, bounds="any")
    planned_end_on = NhsDateField(label="Care coordination is planned to end on",
                                  name="the date care coordination is planned to end",
                                  bounds="future")

    def clean(self) -> dict:
        cleaned = super().clean()
        start, end = cleaned.get("started_on"), cleaned.get("planned_end_on")
        if start and end and end <= start:
            self.add_error("planned_end_on", "The planned end must be after the start.")
        return cleaned


class CarerAddForm(NHSUKFormMixin, forms.Form):
    full_name = forms.CharField(label="Carer's full name", max_length=200,
                                error_messages=required("Enter the carer's full name"))
    relationship = forms.CharField(
        label="How they know each other", max_length=100,
        help_text="In the service user's words, for example: Mum, partner, friend.",
        error_messages=required("Enter how they know each other, for example: Mum"),
    )
    email = forms.EmailField(
        label="Carer's email address", required=False,
        help_text="Needed to invite them to sign in and see what is shared with them.",
    )
    phone = forms.CharField(label="Carer's phone number", max_length=30, required=False)


class InvitationAcceptForm(NHSUKFormMixin, forms.Form):
    full_name = forms.CharField(label="Your full name", max_length=200,
                                widget=forms.TextInput(attrs={"autocomplete": "name"}),
                                error_messages=required("Enter your full name"))
    preferred_name = forms.CharField(
        label="What would you like us to call you? (optional)", max_length=100,
        required=False, help_text="For example, Alex. We will use this name to greet you.",
        widget=forms.TextInput(attrs={"autocomplete": "nickname"}),
    )
    password1 = forms.CharField(
        label="Choose a password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text="At least 10 characters. Not a common password, and not all numbers.",
        error_messages=required("Choose a password"),
    )
    password2 = forms.CharField(
        label="Type the password again", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        error_messages=required("Type the password again"),
    )

    def __init__(self, *args, email: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.email = email

    def clean(self) -> dict:
        cleaned = super().clean()
        first, second = cleaned.get("password1"), cleaned.get("password2")
        if first and second and first != second:
            self.add_error("password2", "The two passwords do not match.")
        elif first:
            try:
                validate_password(first, User(email=self.email, full_name=cleaned.get(
                    "full_name", "")))
            except forms.ValidationError as error:
                self.add_error("password1", error)
        return cleaned


def _threshold_input() -> forms.TextInput:
    return forms.TextInput(attrs={"class": "nhsuk-input--width-4", "inputmode": "numeric",
                                  "spellcheck": "false"})


class TeamThresholdsForm(NHSUKFormMixin, forms.ModelForm):
    """A team's "getting stuck" thresholds and review reminder windows, set by its
    managers."""

    stuck_no_progress_days = forms.IntegerField(
        label="No goal progress for more than this many days", min_value=1, max_value=730,
        widget=_threshold_input(),
        help_text="A prompt appears when nobody has recorded progress on any of a "
                  "service user's goals for longer than this.",
        error_messages={"required": "Enter a number of days",
                        "invalid": "Enter a whole number of days, like 90"},
    )
    stuck_awaiting_signature_days = forms.IntegerField(
        label="A plan waiting for signatures for more than this many days", min_value=1,
        max_value=365, widget=_threshold_input(),
        error_messages={"required": "Enter a number of days",
                        "invalid": "Enter a whole number of days, like 30"},
    )
    stuck_assessment_days = forms.IntegerField(
        label="A carer's assessment not completed after this many days", min_value=1,
        max_value=365, widget=_threshold_input(),
        help_text="Counted from the day the carer asked for it.",
        error_messages={"required": "Enter a number of days",
                        "invalid": "Enter a whole number of days, like 28"},
    )
    stuck_falling_check_ins = forms.IntegerField(
        label="A carer's wellbeing falling over this many check-ins", min_value=2,
        max_value=10, widget=_threshold_input(),
        help_text="Only check-ins the carer chose to share with the care coordinator count. "
                  "At least 2.",
        error_messages={"required": "Enter a number of check-ins",
                        "invalid": "Enter a whole number of check-ins, like 3"},
    )
    stuck_caseload_prompts = forms.IntegerField(
        label="A care coordinator has this many service users with prompts", min_value=1,
        max_value=100, widget=_threshold_input(),
        help_text="Shown to managers beside the care coordinator's name.",
        error_messages={"required": "Enter a number of service users",
                        "invalid": "Enter a whole number of service users, like 3"},
    )

    reminder_due_soon_days = forms.IntegerField(
        label="Remind about a care plan review this many days before it", min_value=0,
        max_value=90, widget=_threshold_input(),
        help_text="The care coordinator and the service user are reminded once at this "
                  "point, again on the day, and once more if it is missed.",
        error_messages={"required": "Enter a number of days",
                        "invalid": "Enter a whole number of days, like 14"},
    )
    reminder_overdue_days = forms.IntegerField(
        label="Remind about a missed review this many days after it was due", min_value=1,
        max_value=90, widget=_threshold_input(),
        error_messages={"required": "Enter a number of days",
                        "invalid": "Enter a whole number of days, like 7"},
    )

    class Meta:
        model = Team
        fields = ["stuck_no_progress_days", "stuck_awaiting_signature_days",
                  "stuck_assessment_days", "stuck_falling_check_ins", "stuck_caseload_prompts",
                  "reminder_due_soon_days", "reminder_overdue_days"]

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        for field in self.fields.values():
            field.error_messages["min_value"] = "Enter a number of at least %(limit_value)s"
            field.error_messages["max_value"] = (
                "Enter a number no bigger than %(limit_value)s"
            )
