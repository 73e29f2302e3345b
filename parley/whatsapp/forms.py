from __future__ import annotations

from django import forms


class ConnectForm(forms.Form):
    name = forms.CharField(max_length=100, help_text="How your team will call this number.")
    display_phone_number = forms.CharField(max_length=32, required=False, label="Phone number")
    phone_number_id = forms.CharField(max_length=40, label="Phone number ID")
    waba_id = forms.CharField(max_length=40, label="WhatsApp Business Account ID")
    access_token = forms.CharField(widget=forms.PasswordInput, help_text="A system-user token.")
    app_secret = forms.CharField(
        widget=forms.PasswordInput, help_text="From your Meta app's basic settings."
    )
    throughput_cap = forms.IntegerField(
        min_value=1,
        max_value=1000,
        initial=80,
        help_text="Messages per second Meta allows this number.",
    )


class SecretsForm(forms.Form):
    access_token = forms.CharField(
        widget=forms.PasswordInput, required=False, label="New access token"
    )
    app_secret = forms.CharField(widget=forms.PasswordInput, required=False, label="New app secret")


class DeleteForm(forms.Form):
    confirm = forms.CharField(label="Type the channel's name to confirm")
