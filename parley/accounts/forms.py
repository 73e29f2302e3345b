from __future__ import annotations

import datetime

from django import forms
from django.contrib.auth.forms import AuthenticationForm

from parley.tenancy.roles import ALL_SCOPES


class SignupForm(forms.Form):
    name = forms.CharField(max_length=120, label="Your name")
    email = forms.EmailField()
    password = forms.CharField(
        widget=forms.PasswordInput, min_length=10, help_text="At least 10 characters."
    )
    workspace_name = forms.CharField(max_length=120, label="Business / workspace name")


class InvitedSignupForm(forms.Form):
    name = forms.CharField(max_length=120, label="Your name")
    password = forms.CharField(
        widget=forms.PasswordInput, min_length=10, help_text="At least 10 characters."
    )


class LoginForm(AuthenticationForm):
    username = forms.EmailField(label="Email", widget=forms.EmailInput(attrs={"autofocus": True}))


class ProfileForm(forms.Form):
    name = forms.CharField(max_length=120, required=False)


EXPIRY_CHOICES = [("", "Never"), ("30", "30 days"), ("90", "90 days"), ("365", "1 year")]


class TokenForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="Name it after what will use it.")
    scopes = forms.MultipleChoiceField(
        choices=[(s, s) for s in ALL_SCOPES],
        widget=forms.CheckboxSelectMultiple,
        initial=["workspace:read"],
    )
    expires_in_days = forms.ChoiceField(choices=EXPIRY_CHOICES, required=False, label="Expires")

    def expires_at(self) -> datetime.datetime | None:
        days = self.cleaned_data.get("expires_in_days")
        if not days:
            return None
        return datetime.datetime.now(datetime.UTC) + datetime.timedelta(days=int(days))
