"""Forms for the carer's own space. Plain words; nothing is shared unless the carer ticks
the box that says so."""

from __future__ import annotations

from django import forms

from carecoord.web import text_limits
from carecoord.web.forms_rendering import NHSUKBoundField, NHSUKFormMixin
from plans.models import CARER_VIEWS_MAX_LENGTH

SHARE_LABEL = "Who else can see this"


class _ChoiceBoundField(NHSUKBoundField):
    """Ticking boxes is a choice, not an optional answer: no "(optional)"."""

    @property
    def nhsuk_label(self) -> str:
        return str(self.label or "")


class RelationshipChoiceField(forms.ModelMultipleChoiceField):
    """One box per person the carer cares for: sharing is through one relationship at a
    time, so each person's care coordinator sees only what was shared with them."""

    bound_field_class = _ChoiceBoundField

    def __init__(self, **kwargs) -> None:
        kwargs.setdefault("label", SHARE_LABEL)
        kwargs.setdefault("required", False)
        super().__init__(queryset=None, widget=forms.CheckboxSelectMultiple, **kwargs)

    def label_from_instance(self, obj) -> str:
        return f"{obj.service_user.name}'s care coordinator ({obj.relationship})"


class _SharingForm(forms.Form):
    """A form with a `shared_with` field, offered the carer's own active relationships."""

    def __init__(self, *args, relationships, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["shared_with"].queryset = relationships


COPING_CHOICES = [
    (score, {0: "0 – not coping at all", 10: "10 – coping well"}.get(score, str(score)))
    for score in range(11)
]


class CarerNeedsForm(NHSUKFormMixin, _SharingForm):
    own_needs = forms.CharField(
        label="What you need as a carer",
        required=False,
        max_length=text_limits.CARER_SPACE,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="For example, time for yourself, sleep, help with money, or someone to "
                  "talk to.",
    )
    support_wanted = forms.CharField(
        label="The support you would like",
        required=False,
        max_length=text_limits.CARER_SPACE,
        widget=forms.Textarea(attrs={"rows": 5}),
        help_text="Anything that would make caring easier for you.",
    )
    shared_with = RelationshipChoiceField(
        help_text="If you do not tick anyone, only you can see what you write here.",
    )


class WellbeingCheckInForm(NHSUKFormMixin, _SharingForm):
    coping = forms.TypedChoiceField(
        label="How are you coping?",
        choices=COPING_CHOICES,
        coerce=int,
        widget=forms.RadioSelect,
        help_text="Choose a number from 0 to 10. There is no right or wrong answer.",
        error_messages={"required": "Choose how you are coping, from 0 to 10"},
    )
    words = forms.CharField(
        label="In your own words",
        required=False,
        max_length=text_limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="What has been on your mind, or what has helped.",
    )
    shared_with = RelationshipChoiceField(
        help_text="If you do not tick anyone, only you can see this check-in.",
    )


class AssessmentRequestForm(NHSUKFormMixin, _SharingForm):
    shared_with = RelationshipChoiceField(
        label="Which care coordinator should we ask",
        required=True,
        help_text="Only the care coordinators you choose are told, and can see your request.",
        error_messages={"required": "Choose whose care coordinator to ask"},
    )
    def __init__(self, *args, relationships, **kwargs) -> None:
        super().__init__(*args, relationships=relationships, **kwargs)
        only = list(relationships[:2])
        self._only = only[0] if len(only) == 1 else None
        if self._only is not None:
            # Caring for one person, there is one care coordinator to ask: ask them.
            self.fields["shared_with"].required = False
            self.initial.setdefault("shared_with", [self._only.pk])

    def clean_shared_with(self):
        chosen = self.cleaned_data["shared_with"]
        if not chosen and self._only is not None:
            return [self._only]
        return chosen

    note = forms.CharField(
        label="Anything you would like them to know",
        required=False,
        max_length=text_limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="For example, the best times to contact you.",
    )


class CarerInsightForm(NHSUKFormMixin, forms.Form):
    text = forms.CharField(
        label="What you know helps",
        max_length=text_limits.CARER_SPACE,
        widget=forms.Textarea(attrs={"rows": 8}),
        error_messages={"required": "Write what you know helps"},
    )

    def __init__(self, *args, service_user_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["text"].label = f"What you know helps {service_user_name}"
        self.fields["text"].help_text = (
            f"For example, early signs that {service_user_name} is struggling, what "
            "calms them, or what has helped before."
        )

    def clean_text(self) -> str:
        text = self.cleaned_data["text"].strip()
        if not text:
            raise forms.ValidationError("Write what you know helps")
        return text


class CarerReviewViewsForm(NHSUKFormMixin, forms.Form):
    """A carer's views before a review, in their own words, up to a bounded length (the
    page shows the NHS.UK character count)."""

    views = forms.CharField(
        label="Your views",
        max_length=CARER_VIEWS_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 10}),
        error_messages={
            "required": "Write your views",
            "max_length": f"Your views must be {CARER_VIEWS_MAX_LENGTH} characters or fewer",
        },
    )

    def clean_views(self) -> str:
        views = self.cleaned_data["views"].strip()
        if not views:
            raise forms.ValidationError("Write your views")
        return views
