"""Forms of the administration area. A team's prompt and reminder settings are the very
fields of the managers' own settings page (records' TeamThresholdsForm)."""

from __future__ import annotations

from django import forms

from carecoord.administration.services import STAFF_AREA_ROLES
from carecoord.records.forms import TeamThresholdsForm
from carecoord.records.models import Team, User
from carecoord.web.forms_rendering import NHSUKFormMixin

THRESHOLD_FIELDS = TeamThresholdsForm.Meta.fields


class TeamForm(TeamThresholdsForm):
    """A team: its name, its managers (people who hold the manager role), and the same
    settings its managers can change."""

    name = forms.CharField(
        label="Team name", max_length=200,
        error_messages={"required": "Enter the team's name"},
    )
    managers = forms.ModelMultipleChoiceField(
        label="Managers", required=False, queryset=User.objects.none(),
        widget=forms.CheckboxSelectMultiple,
        help_text="Only people with the manager role are listed. Give someone the role on "
                  "their staff page first.",
    )

    class Meta(TeamThresholdsForm.Meta):
        fields = ["name", "managers", *THRESHOLD_FIELDS]

    def __init__(self, *args, managers: object, requested_by: User, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.requested_by = requested_by
        self.fields["managers"].queryset = managers
        self.fields["managers"].label_from_instance = lambda user: user.display_name
        self.order_fields(["name", "managers", *THRESHOLD_FIELDS])
        if self.instance.pk:
            self.initial["managers"] = list(self.instance.managers.values_list("pk",
                                                                              flat=True))
        else:
            # A new team starts from the model's defaults (a ModelForm gives a new
            # instance no initial values for fields it declares itself).
            for field in THRESHOLD_FIELDS:
                self.initial.setdefault(field, getattr(self.instance, field))

    def clean_name(self) -> str:
        name = self.cleaned_data["name"].strip()
        clash = Team.objects.filter(name__iexact=name).exclude(pk=self.instance.pk)
        if clash.exists():
            raise forms.ValidationError("There is already a team with this name")
        return name

    def clean_managers(self) -> list[User]:
        chosen = list(self.cleaned_data["managers"])
        me = self.requested_by
        already = self.instance.pk and self.instance.managers.filter(pk=me.pk).exists()
        if any(user.pk == me.pk for user in chosen) and not already:
            raise forms.ValidationError(
                "You cannot make yourself a team's manager. Ask another administrator")
        return chosen

    def validate_unique(self) -> None:
        # The name's uniqueness is checked above (whatever its case); the team is saved by
        # the administration services, not by this form.
        return None


class StaffSearchForm(NHSUKFormMixin, forms.Form):
    q = forms.CharField(label="Search by name or email address", required=False,
                        max_length=200)


ROLE_CHOICES = [(role.value, role.label) for role in STAFF_AREA_ROLES]


class StaffInviteForm(NHSUKFormMixin, forms.Form):
    full_name = forms.CharField(
        label="Full name", max_length=200,
        error_messages={"required": "Enter the person's full name"},
        widget=forms.TextInput(attrs={"autocomplete": "off", "spellcheck": "false"}),
    )
    email = forms.EmailField(
        label="Work email address",
        help_text="We will email a link to this address. It works once, for a few days.",
        error_messages={"required": "Enter their work email address",
                        "invalid": "Enter an email address like name@nhs.net"},
        widget=forms.EmailInput(attrs={"autocomplete": "off", "spellcheck": "false",
                                       "autocapitalize": "none"}),
    )
    roles = forms.MultipleChoiceField(
        label="Roles", choices=ROLE_CHOICES, widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Choose at least one role"},
    )


class RoleForm(NHSUKFormMixin, forms.Form):
    role = forms.ChoiceField(label="Role", choices=ROLE_CHOICES,
                             error_messages={"required": "Choose a role"})

    def __init__(self, *args, choices: list[tuple[str, str]] | None = None, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if choices is not None:
            self.fields["role"].choices = choices


class TeamPlaceForm(NHSUKFormMixin, forms.Form):
    team_place = forms.ChoiceField(label="Team and place", choices=[],
                                   error_messages={"required": "Choose a team"})

    def __init__(self, *args, choices: list[tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["team_place"].choices = choices

    def team_id_and_place(self) -> tuple[int, str]:
        team_id, _, place = self.cleaned_data["team_place"].partition(":")
        return int(team_id), place
