"""Forms for plan pages. Every form renders as NHS.UK form groups (NHSUKFormMixin) and
keeps what the person typed when it is shown again with errors."""

from __future__ import annotations

import datetime as dt

from django import forms
from django.core.validators import MaxLengthValidator
from django.utils import timezone

from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKFormMixin, required
from plans.sections import RECOVERY_DOMAINS, ItemType

HOLDER_SERVICE_USER = "service_user"
HOLDER_CARER = "carer"
HOLDER_COORDINATOR = "coordinator"
HOLDER_SERVICE = "service"

GOAL_FIELDS = ("domain", "target_on")
RESPONSIBILITY_FIELDS = (
    "holder", "holder_relationship", "holder_service", "positive_risk", "safety_net",
    "support", "review_on",
)


def _textarea(rows: int = 5) -> forms.Textarea:
    return forms.Textarea(attrs={"rows": rows})


TARGET_DATE_IN_PAST = "Target date must be today or in the future"


class ItemForm(NHSUKFormMixin, forms.Form):
    """One plan item: its words and, by type, the parts of a goal or a responsibility.

    The fields that do not apply are removed in __init__, so the same form serves a
    crisis-plan question, a free item, a goal and a responsibility.
    """

    revision = forms.IntegerField(widget=forms.HiddenInput, required=False)
    title = forms.CharField(label="Title", max_length=text_limits.TITLE,
                            error_messages=required("Give this a title"))
    body = forms.CharField(label="Text", widget=_textarea(), max_length=text_limits.ITEM_BODY,
                           error_messages=required("Write something here"))

    # Goals
    domain = forms.ChoiceField(
        label="Which part of recovery is this goal about?", choices=RECOVERY_DOMAINS,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose which part of recovery this goal is about"},
    )
    target_on = NhsDateField(
        label="Target date", bounds="future",
        help_text="When we hope to have reached this goal. You can change it later. "
                  "For example, 15 3 2027",
    )

    # Responsibilities
    holder = forms.ChoiceField(
        label="Who holds this responsibility?", widget=forms.RadioSelect,
        error_messages={"required": "Choose who holds this responsibility"},
    )
    holder_relationship = forms.TypedChoiceField(
        label="Which carer", coerce=int, required=False,
        error_messages=required("Choose which carer holds it"),
        help_text="Only if a carer holds it. They will be asked to sign the agreement.",
    )
    holder_service = forms.CharField(
        label="Name of the service", max_length=200, required=False,
        help_text="Only if a service holds it, for example: the crisis team.",
    )
    positive_risk = forms.CharField(
        label="The positive risk being supported", widget=_textarea(3),
        max_length=text_limits.DETAIL,
        help_text="What is being tried, even though it carries some risk.",
        error_messages={"required": "Describe the positive risk being supported"},
    )
    safety_net = forms.CharField(
        label="The safety net", widget=_textarea(3), max_length=text_limits.DETAIL,
        help_text="What happens if things do not go to plan.",
        error_messages={"required": "Describe the safety net"},
    )
    support = forms.CharField(
        label="Support available at the right time", widget=_textarea(3),
        max_length=text_limits.DETAIL,
        help_text="Who can help, how to reach them, and when.",
        error_messages={"required": "Describe the support available at the right time"},
    )
    review_on = NhsDateField(
        label="Review date", bounds="future",
        help_text="When we will look at this responsibility together again. "
                  "For example, 15 3 2027",
    )

    recorded_in_meeting = forms.BooleanField(
        label="I am writing this down in a meeting, in their words", required=False,
        help_text="It will show as recorded by the care coordinator in a meeting.",
        template_name="plans/includes/checkbox_field.html",
    )

    def __init__(
        self,
        *args,
        item_type: str,
        is_prompt: bool = False,
        prompt_hint: str = "",
        own_words: bool = False,
        is_coordinator: bool = False,
        is_service_user: bool = False,
        service_user_name: str = "",
        carers=(),
        editing: bool = False,
        **kwargs,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.item_type = item_type
        self.is_prompt = is_prompt
        if not editing:
            del self.fields["revision"]
        else:
            self.fields["revision"].required = True
        if not is_coordinator:
            del self.fields["recorded_in_meeting"]
        if is_prompt:
            del self.fields["title"]
            body = self.fields["body"]
            body.required = False
            body.label = "Your answer" if is_service_user else "Answer"
            hint = prompt_hint
            if own_words and not is_service_user:
                hint = f"{hint} Write down their words, as they say them.".strip()
            body.help_text = hint
            body.widget.attrs["rows"] = 8
        if item_type != ItemType.GOAL:
            for name in GOAL_FIELDS:
                del self.fields[name]
        if item_type != ItemType.RESPONSIBILITY:
            for name in RESPONSIBILITY_FIELDS:
                del self.fields[name]
        if item_type == ItemType.GOAL:
            self.fields["title"].label = "The goal"
            self.fields["title"].help_text = "In the words of the person whose goal it is."
            self.fields["title"].error_messages["required"] = "Write the goal"
            self.fields["body"].label = "More about this goal"
            self.fields["body"].required = False
        elif item_type == ItemType.RESPONSIBILITY:
            self.fields["title"].label = "A short name for this responsibility"
            self.fields["title"].error_messages["required"] = (
                "Give this responsibility a short name"
            )
            self.fields["body"].label = "The responsibility"
            self.fields["body"].help_text = "What will be done, by whom, and how often."
            self.fields["body"].error_messages["required"] = "Describe the responsibility"
            self._set_holder_choices(service_user_name, is_service_user, carers)
        elif not is_prompt:
            self.fields["title"].error_messages["required"] = "Give this a title"
            self.fields["body"].error_messages["required"] = "Write something here"

    def _set_holder_choices(self, service_user_name: str, is_service_user: bool,
                            carers) -> None:
        carers = list(carers)
        choices = [(HOLDER_SERVICE_USER, "You" if is_service_user else service_user_name)]
        if carers:
            choices.append((HOLDER_CARER, "A carer"))
        choices += [(HOLDER_COORDINATOR, "The care coordinator"),
                    (HOLDER_SERVICE, "A service")]
        self.fields["holder"].choices = choices
        if carers:
            self.fields["holder_relationship"].choices = [("", "Choose a carer")] + [
                (relationship.pk, f"{relationship.carer.name} ({relationship.relationship})")
                for relationship in carers
            ]
        else:
            del self.fields["holder_relationship"]

    def clean_target_on(self) -> dt.date | None:
        # A goal's target is ahead of us. A target already saved that has since passed is
        # kept when the goal is edited for something else: refusing it would block fixing
        # a typo in the goal's words.
        value = self.cleaned_data.get("target_on")
        if value is None or value >= timezone.localdate():
            return value
        saved = self.initial.get("target_on")
        if isinstance(saved, str):
            try:
                saved = dt.date.fromisoformat(saved)
            except ValueError:
                saved = None
        if value != saved:
            raise forms.ValidationError(TARGET_DATE_IN_PAST, code="not_before_today")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.item_type == ItemType.RESPONSIBILITY:
            holder = cleaned.get("holder")
            if holder == HOLDER_CARER and not cleaned.get("holder_relationship"):
                self.add_error("holder_relationship", "Choose which carer holds it")
            if holder == HOLDER_SERVICE and not (cleaned.get("holder_service") or "").strip():
                self.add_error("holder_service", "Enter the name of the service")
        return cleaned

    def details(self) -> dict | None:
        """The structured parts, as the `details` dict the services store; None for a
        plain text item (so an edit leaves its details alone)."""
        data = self.cleaned_data
        if self.item_type == ItemType.GOAL:
            return {"domain": data["domain"], "target_on": data["target_on"]}
        if self.item_type == ItemType.RESPONSIBILITY:
            holder = data["holder"]
            return {
                "holder": holder,
                "holder_relationship": (data.get("holder_relationship")
                                        if holder == HOLDER_CARER else None),
                "holder_service": (data.get("holder_service", "").strip()
                                   if holder == HOLDER_SERVICE else None),
                "positive_risk": data["positive_risk"],
                "safety_net": data["safety_net"],
                "support": data["support"],
                "review_on": data["review_on"],
            }
        return None

    @staticmethod
    def initial_for(item) -> dict:
        """What an edit form starts with: the item as it is saved now."""
        initial = {"revision": item.revision, "title": item.title, "body": item.body}
        structured = item.structured()
        for name in (*GOAL_FIELDS, *RESPONSIBILITY_FIELDS):
            if name in structured:
                initial[name] = structured[name]
        return initial


class RevisionForm(forms.Form):
    """The revision an action was taken against (remove an item)."""

    revision = forms.IntegerField(widget=forms.HiddenInput)


class ProgressForm(NHSUKFormMixin, forms.Form):
    recorded_on = NhsDateField(
        label="Date", name="the date", initial=timezone.localdate, bounds="any",
        help_text="For example, 15 3 2026",
    )
    rating = forms.IntegerField(
        label="How is it going, from 0 to 10?", min_value=0, max_value=10,
        help_text="0 means it has not started or is going badly; 10 means the goal is "
                  "reached.",
        widget=forms.NumberInput(attrs={"class": "nhsuk-input--width-2", "inputmode": "numeric"}),
        error_messages={"required": "Enter a number from 0 to 10",
                        "invalid": "Enter a number from 0 to 10",
                        "min_value": "Enter a number from 0 to 10",
                        "max_value": "Enter a number from 0 to 10"},
    )
    note = forms.CharField(
        label="What has happened", widget=_textarea(4), required=False,
        max_length=text_limits.NOTE,
        help_text="What went well, what got in the way, what is next.",
    )

    def clean_recorded_on(self) -> dt.date:
        value = self.cleaned_data["recorded_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date cannot be in the future")
        return value


class SignForm(NHSUKFormMixin, forms.Form):
    password = forms.CharField(
        label="Enter your password to confirm it is you", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="The password you use to sign in.",
        error_messages={"required": "Enter your password"},
    )


class DeclineForm(NHSUKFormMixin, forms.Form):
    reason = forms.CharField(
        label="Say why you are not signing", widget=_textarea(5),
        max_length=text_limits.DECLINE_REASON,
        help_text="In your own words. What you write is kept with this version and shown "
                  "to everyone who can see the plan.",
        error_messages={"required": "Say why you are not signing, in your own words"},
    )


class ReviewForm(NHSUKFormMixin, forms.Form):
    held_on = NhsDateField(
        label="Date of the review", initial=timezone.localdate, bounds="any",
        help_text="For example, 15 3 2026",
    )
    attendees = forms.CharField(
        label="Who attended", widget=_textarea(3), max_length=text_limits.REVIEW_ATTENDEES,
        help_text="Names and roles, including carers and anyone else who came.",
        error_messages={"required": "Say who attended"},
    )
    carers_attended = forms.TypedMultipleChoiceField(
        label="Carers who came", coerce=int, required=False,
        widget=forms.CheckboxSelectMultiple,
    )
    what_changed = forms.CharField(
        label="What changed", widget=_textarea(6),
        max_length=text_limits.REVIEW_WHAT_CHANGED,
        help_text="What was decided, and what is different in the plan now.",
        error_messages={"required": "Say what changed"},
    )
    next_review_on = NhsDateField(
        label="Next review date", bounds="future", help_text="For example, 15 3 2027",
    )

    def __init__(self, *args, carers=(), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self._carers = {relationship.carer_id: relationship.carer for relationship in carers}
        if self._carers:
            self.fields["carers_attended"].choices = [
                (relationship.carer_id, f"{relationship.carer.name} ({relationship.relationship})")
                for relationship in carers
            ]
        else:
            del self.fields["carers_attended"]

    def clean_held_on(self) -> dt.date:
        value = self.cleaned_data["held_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The review date cannot be in the future")
        return value

    def clean(self) -> dict:
        cleaned = super().clean()
        held, next_on = cleaned.get("held_on"), cleaned.get("next_review_on")
        if held and next_on and next_on <= held:
            self.add_error("next_review_on", "The next review must be after this one")
        return cleaned

    def carers(self) -> list:
        return [self._carers[pk] for pk in self.cleaned_data.get("carers_attended", [])]


LISTENED_CHOICES = (
    (1, "Not at all"),
    (2, "A little"),
    (3, "Somewhat"),
    (4, "Mostly"),
    (5, "Completely"),
)


class ListenedForm(NHSUKFormMixin, forms.Form):
    score = forms.TypedChoiceField(
        label="How much did you feel listened to?", choices=LISTENED_CHOICES, coerce=int,
        widget=forms.RadioSelect,
        error_messages={"required": "Choose how much you felt listened to"},
    )
    comment = forms.CharField(
        label="Anything you want to say about it", widget=_textarea(4), required=False,
        max_length=text_limits.NOTE,
        help_text="Your care coordinator and their team will read this.",
    )


class SuggestionForm(NHSUKFormMixin, forms.Form):
    text = forms.CharField(
        label="Your suggestion", widget=_textarea(5), max_length=text_limits.NOTE,
        help_text="It is only added to the WRAP if they accept it.",
        error_messages={"required": "Write your suggestion"},
    )


# --- The first meeting (plans.first_meeting) -------------------------------------------


class FirstMeetingTextForm(forms.Form):
    """One question of the first meeting, answered in the person's words. Rendered by
    hand (templates/plans/first_meeting/step.html) as an NHS.UK question page with a
    character count."""

    answer = forms.CharField(required=True, strip=True)

    def __init__(self, *args, max_length: int, name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["answer"]
        field.max_length = max_length
        field.validators.append(MaxLengthValidator(max_length))
        field.error_messages = {
            "required": f"Write down what {name} said, or choose “Skip this question”",
            "max_length": f"Answer must be {max_length} characters or fewer",
        }


class FirstMeetingDateForm(forms.Form):
    """The planned end of care coordination as NHS.UK date input boxes (day, month,
    year), between `earliest` and `latest`."""

    _not_a_date = {"max_length": "Enter a real date, for example 15 3 2027"}
    day = forms.CharField(required=False, max_length=2, error_messages=_not_a_date)
    month = forms.CharField(required=False, max_length=2, error_messages=_not_a_date)
    year = forms.CharField(required=False, max_length=4, error_messages=_not_a_date)

    def __init__(self, *args, earliest: dt.date, latest: dt.date, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.earliest, self.latest = earliest, latest

    def clean(self) -> dict:
        cleaned = super().clean()
        if self.errors:  # a box too long: the page shows the form's own error only
            raise forms.ValidationError("Enter a real date, for example 15 3 2027")
        parts = {name: (cleaned.get(name) or "").strip() for name in ("day", "month", "year")}
        missing = [name for name, value in parts.items() if not value]
        if len(missing) == 3:
            raise forms.ValidationError("Enter the date care coordination is planned to end")
        if missing:
            raise forms.ValidationError(
                f"The date must include a {' and a '.join(missing)}")
        if not all(value.isdigit() for value in parts.values()) or len(parts["year"]) != 4:
            raise forms.ValidationError("Enter a real date, for example 15 3 2027")
        try:
            value = dt.date(int(parts["year"]), int(parts["month"]), int(parts["day"]))
        except ValueError:
            raise forms.ValidationError("Enter a real date, for example 15 3 2027") from None
        if value < self.earliest:
            raise forms.ValidationError(
                f"The date must be on or after {self.earliest.day} {self.earliest:%B %Y}: "
                "at least 4 weeks from today")
        if value > self.latest:
            raise forms.ValidationError(
                f"The date must be on or before {self.latest.day} {self.latest:%B %Y}: "
                "within 2 years of the start of care coordination")
        cleaned["planned_end_on"] = value
        return cleaned

    @staticmethod
    def initial_for(value: str) -> dict:
        try:
            date = dt.date.fromisoformat(value)
        except (TypeError, ValueError):
            return {}
        return {"day": str(date.day), "month": str(date.month), "year": str(date.year)}
