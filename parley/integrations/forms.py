"""Forms of the webhook pages (validation beyond shape is the actions')."""

from __future__ import annotations

from django import forms

from parley.integrations.actions import DEFAULT_OVERLAP_HOURS, MAX_OVERLAP_HOURS, EndpointFields
from parley.integrations.catalogue import CHOICES


class EndpointForm(forms.Form):
    url = forms.CharField(
        label="URL",
        max_length=500,
        widget=forms.URLInput(attrs={"placeholder": "https://example.com/hooks/parley"}),
        help_text="Must be reachable on the public internet (private addresses are refused).",
    )
    description = forms.CharField(label="Description", max_length=200, required=False)
    events = forms.MultipleChoiceField(
        label="Events",
        choices=CHOICES,
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": "Pick at least one event."},
    )

    def fields_value(self) -> EndpointFields:
        data = self.cleaned_data
        return EndpointFields(
            url=data["url"], events=list(data["events"]), description=data["description"]
        )


class RotateForm(forms.Form):
    overlap_hours = forms.FloatField(
        label="Keep the old secret valid for (hours)",
        min_value=0,
        max_value=MAX_OVERLAP_HOURS,
        initial=DEFAULT_OVERLAP_HOURS,
    )


class DeliveryFilterForm(forms.Form):
    status = forms.ChoiceField(
        required=False,
        choices=[
            ("", "Any status"),
            ("pending", "Pending"),
            ("succeeded", "Succeeded"),
            ("failed", "Failed"),
            ("dead", "Dead"),
        ],
    )
    event_type = forms.ChoiceField(
        required=False, choices=[("", "Any event"), *CHOICES, ("ping", "Test (ping)")]
    )
    since = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(required=False, widget=forms.DateInput(attrs={"type": "date"}))
