from __future__ import annotations

import datetime as dt

from django import forms
from django.utils import timezone

from carecoord.web import text_limits
from carecoord.web.date_input import NhsDateField
from carecoord.web.forms_rendering import NHSUKBoundField, NHSUKFormMixin
from peersupport.models import Audience, Offer, OfferKind, PublishAs, RecoveryStory, TakenUp
from peersupport.selectors import (
    ATTENDANCE_IN_PERSON,
    ATTENDANCE_ONLINE,
    AUDIENCE_ANYONE,
    OfferSearch,
)

# --- Directory ------------------------------------------------------------------------


class FilterBoundField(NHSUKBoundField):
    """Every filter is optional: saying so on each one is noise."""

    @property
    def nhsuk_label(self) -> str:
        return str(self.label or "")


AUDIENCE_FILTER_CHOICES = [
    (AUDIENCE_ANYONE, "Anyone"),
    (Audience.SERVICE_USERS, "People using mental health services"),
    (Audience.CARERS, "Carers, family and friends"),
]
ATTENDANCE_CHOICES = [
    ("", "Online or in person"),
    (ATTENDANCE_ONLINE, "Online"),
    (ATTENDANCE_IN_PERSON, "In person"),
]


class OfferSearchForm(NHSUKFormMixin, forms.Form):
    """The directory's search and filters: a GET form that works without JavaScript."""

    bound_field_class = FilterBoundField

    q = forms.CharField(label="Search", required=False, max_length=200,
                        help_text="Words from the name, description or place.")
    kind = forms.ChoiceField(label="Kind", required=False,
                             choices=[("", "Any kind"), *OfferKind.choices])
    audience = forms.ChoiceField(label="Who it is for", required=False,
                                 choices=AUDIENCE_FILTER_CHOICES)
    attendance = forms.ChoiceField(label="Online or in person", required=False,
                                   choices=ATTENDANCE_CHOICES)
    place = forms.CharField(label="Town or area", required=False, max_length=100,
                            help_text="For example, Hexham.")
    retired = forms.BooleanField(label="Include retired offers", required=False)

    def __init__(self, *args, show_retired_filter: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["q"].widget.input_type = "search"
        if not show_retired_filter:
            del self.fields["retired"]

    def search(self, *, default_audience: str) -> OfferSearch:
        """The search asked for; the viewer's default audience until they choose."""
        if not self.is_bound:
            return OfferSearch(audience=default_audience)
        self.is_valid()  # what is valid is still used; the errors are shown
        data = self.cleaned_data
        return OfferSearch(
            text=data.get("q", ""),
            kind=data.get("kind", ""),
            audience=data.get("audience") or AUDIENCE_ANYONE,
            place=data.get("place", "").strip(),
            attendance=data.get("attendance", ""),
            include_retired=bool(data.get("retired")),
        )


class OfferForm(NHSUKFormMixin, forms.ModelForm):
    class Meta:
        model = Offer
        fields = ["name", "kind", "audience", "place", "online", "when", "contact",
                  "description"]
        widgets = {
            "kind": forms.RadioSelect,
            "audience": forms.RadioSelect,
            "description": forms.Textarea(attrs={"rows": 4}),
        }
        labels = {"online": "It happens online (or can be joined online)"}
        help_texts = {
            "name": "For example, Hexham Hearing Voices Group.",
            "place": "The venue and town, for example, Queen's Hall, Hexham. "
                     "Leave empty if it is only online.",
            "when": "For example, Mondays 10:30 to 12:00, or the dates of a course.",
            "contact": "A phone number, email address or website, and a name if there is "
                       "one.",
            "description": "A few sentences in plain words: what happens, and what "
                           "someone can expect the first time. Up to 600 characters.",
        }
        error_messages = {
            "name": {"required": "Enter the name of the group, course or community"},
            "kind": {"required": "Choose what kind of opportunity it is"},
            "audience": {"required": "Choose who it is for"},
            "when": {"required": "Enter when it happens"},
            "contact": {"required": "Enter how to get in touch"},
            "description": {"required": "Enter a short description"},
        }

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        # The blank "---------" choice is not a real answer.
        for name in ("kind", "audience"):
            self.fields[name].choices = [c for c in self.fields[name].choices if c[0]]

    def clean(self) -> dict:
        cleaned = super().clean()
        if not (cleaned.get("place") or "").strip() and not cleaned.get("online"):
            self.add_error("place", "Enter where it happens, or tick that it happens online")
        return cleaned


# --- Signposting ----------------------------------------------------------------------


class OfferChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Offer) -> str:
        return f"{obj.name} ({obj.get_kind_display().lower()}, {obj.where_text})"


class SignpostingForm(NHSUKFormMixin, forms.Form):
    offer = OfferChoiceField(queryset=Offer.objects.none(), empty_label="Choose one",
                             error_messages={"required": "Choose what was offered",
                                             "invalid_choice": "Choose what was offered"})
    offered_on = NhsDateField(name="the date", initial=timezone.localdate, bounds="any",
                              help_text="For example, 15 3 2026")
    taken_up = forms.ChoiceField(choices=TakenUp.choices, widget=forms.RadioSelect,
                                 initial=TakenUp.NOT_YET,
                                 error_messages={"required": "Choose whether it was taken up"})
    outcome = forms.CharField(widget=forms.Textarea(attrs={"rows": 4}), required=False,
                              max_length=text_limits.NOTE)

    def __init__(self, *args, offers, service_user_name: str, is_own: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["offer"].queryset = offers
        if is_own:
            self.fields["offer"].label = "What you were offered or found"
            self.fields["offered_on"].label = "When you heard about it"
            self.fields["taken_up"].label = "Have you taken it up?"
            self.fields["outcome"].label = "What came of it"
            self.fields["outcome"].help_text = "In your own words. You can add this later."
        else:
            self.fields["offer"].label = "What was offered"
            self.fields["offered_on"].label = "When it was offered"
            self.fields["taken_up"].label = f"Has {service_user_name} taken it up?"
            self.fields["outcome"].label = "What came of it"
            self.fields["outcome"].help_text = "What they said helped or got in the way. " \
                                               "You can add this later."

    def clean_offered_on(self) -> dt.date:
        value = self.cleaned_data["offered_on"]
        if value > timezone.localdate():
            raise forms.ValidationError("The date must be today or in the past")
        return value


class SignpostingUpdateForm(NHSUKFormMixin, forms.Form):
    taken_up = forms.ChoiceField(choices=TakenUp.choices, widget=forms.RadioSelect,
                                 error_messages={"required": "Choose whether it was taken up"})
    outcome = forms.CharField(label="What came of it", widget=forms.Textarea(attrs={"rows": 4}),
                              required=False, max_length=text_limits.NOTE)

    def __init__(self, *args, service_user_name: str, is_own: bool, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["taken_up"].label = ("Have you taken it up?" if is_own
                                         else f"Has {service_user_name} taken it up?")


# --- Recovery stories -----------------------------------------------------------------


class StoryForm(NHSUKFormMixin, forms.ModelForm):
    class Meta:
        model = RecoveryStory
        fields = ["title", "body", "publish_as", "chosen_name"]
        widgets = {
            "body": forms.Textarea(attrs={"rows": 15}),
            "publish_as": forms.RadioSelect,
        }
        labels = {"title": "Title", "publish_as": "Who should it say wrote it?",
                  "chosen_name": "The name to show"}
        help_texts = {
            "title": "A few words that sum up your story.",
            "body": "Write it your way: what happened, what helped, what you would tell "
                    "someone at the start. Plain text: leave a blank line between "
                    "paragraphs.",
            "chosen_name": "Only if you chose to use a name of your own, for example a "
                           "first name or a nickname.",
        }
        error_messages = {
            "title": {"required": "Enter a title"},
            "body": {"required": "Write your story"},
            "publish_as": {"required": "Choose who it should say wrote it"},
        }

    def __init__(self, *args, author_name: str, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.fields["publish_as"].choices = [
            (PublishAs.MY_NAME, f"My name ({author_name})"),
            (PublishAs.CHOSEN_NAME, "A name I choose"),
            (PublishAs.ANONYMOUSLY, "Anonymously: nobody is told who wrote it"),
        ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if (cleaned.get("publish_as") == PublishAs.CHOSEN_NAME
                and not (cleaned.get("chosen_name") or "").strip()):
            self.add_error("chosen_name", "Enter the name to show, or choose another option")
        return cleaned


DECISION_PUBLISH = "publish"
DECISION_SEND_BACK = "send_back"


class ModerationForm(NHSUKFormMixin, forms.Form):
    decision = forms.ChoiceField(
        label="Your decision", widget=forms.RadioSelect,
        choices=[(DECISION_PUBLISH, "Publish it: everyone signed in can read it"),
                 (DECISION_SEND_BACK, "Send it back to the author")],
        error_messages={"required": "Choose whether to publish it or send it back"},
    )
    read_version = forms.CharField(widget=forms.HiddenInput, required=False)
    reason = forms.CharField(
        label="Why it is being sent back", required=False, max_length=text_limits.NOTE,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Only if you send it back. The author reads this: be kind and "
                  "specific, and say what would make it ready.",
    )

    def __init__(self, *args, published: bool = False, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        if published:
            # A published story can only be taken down.
            self.fields["decision"].choices = [
                (DECISION_SEND_BACK, "Take it down and send it back to the author")
            ]

    def clean(self) -> dict:
        cleaned = super().clean()
        if (cleaned.get("decision") == DECISION_SEND_BACK
                and not (cleaned.get("reason") or "").strip()):
            self.add_error("reason", "Say why it is being sent back")
        return cleaned
