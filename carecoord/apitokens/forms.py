"""Forms of the API tokens page."""

from __future__ import annotations

from django import forms
from django.contrib.auth import authenticate

from carecoord.apitokens.models import TokenScope
from carecoord.apitokens.services import MAX_TOKEN_DAYS
from carecoord.web.forms_rendering import NHSUKFormMixin, required


class PasswordConfirmForm(NHSUKFormMixin, forms.Form):
    password = forms.CharField(
        label="Your password", strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}),
        help_text="To make an API token, confirm it is you. You will not be asked again for "
                  "10 minutes.",
        error_messages=required("Enter your password"),
    )

    def __init__(self, *args, request, **kwargs):
        super().__init__(*args, **kwargs)
        self.request = request

    def clean_password(self) -> str:
        password = self.cleaned_data["password"]
        # Through the authentication backends, so django-axes counts wrong guesses here
        # like on the sign-in page.
        user = authenticate(self.request, username=self.request.user.email, password=password)
        if user is None or user.pk != self.request.user.pk:
            raise forms.ValidationError("That is not your password.")
        return password


class TokenCreateForm(NHSUKFormMixin, forms.Form):
    name = forms.CharField(
        label="Name", max_length=60,
        help_text="What will use it, so you can recognise it later, e.g. “Ward dashboard”.",
        error_messages=required("Enter a name for the token"),
    )
    scope = forms.ChoiceField(
        label="What it may do", choices=TokenScope.choices, initial=TokenScope.READ,
        widget=forms.RadioSelect,
        error_messages=required("Choose what it may do"),
    )
    days = forms.IntegerField(
        label="Days until it stops working", min_value=1, max_value=MAX_TOKEN_DAYS, initial=30,
        help_text=f"At most {MAX_TOKEN_DAYS} days.",
        error_messages=required("Enter the number of days until it stops working"),
    )
