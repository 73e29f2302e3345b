"""The schedule form. The time is read by ``when.read_local`` rather than by a
DateTimeField: Django's would refuse a fall-back time outright and say
nothing useful about a spring-forward gap."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django import forms

from parley.scheduled.models import Kind
from parley.whatsapp.models import Channel, MessageTemplate

TIME_FORMATS = ("%Y-%m-%dT%H:%M", "%Y-%m-%dT%H:%M:%S", "%Y-%m-%d %H:%M")


def parse_local(raw: str) -> datetime | None:
    for fmt in TIME_FORMATS:
        try:
            return datetime.strptime(raw.strip(), fmt)
        except ValueError:
            continue
    return None


class ScheduleForm(forms.Form):
    contact_id = forms.IntegerField(
        widget=forms.HiddenInput, error_messages={"required": "Pick the contact."}
    )
    channel_id = forms.ChoiceField(label="From number")
    send_at = forms.CharField(
        label="When",
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}),
        error_messages={"required": "Pick the date and time."},
    )
    kind = forms.ChoiceField(
        label="Send",
        choices=[(Kind.TEXT, "A text"), (Kind.TEMPLATE, "A template")],
        widget=forms.RadioSelect,
        initial=Kind.TEXT,
    )
    text = forms.CharField(
        label="Text",
        required=False,
        max_length=4096,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Sent only if the customer wrote within the 24 hours before its time.",
    )
    template_id = forms.ChoiceField(label="Template", required=False)
    fallback_template_id = forms.ChoiceField(
        label="Fallback template",
        required=False,
        help_text="Sent instead of the text when the 24-hour window has closed by then.",
    )

    def __init__(
        self,
        *args: Any,
        channels: list[Channel],
        templates: list[MessageTemplate],
        zone_help: str,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        channel: Any = self.fields["channel_id"]
        channel.choices = [(str(c.pk), f"{c.name} ({c.display_phone_number})") for c in channels]
        several = len({t.channel_id for t in templates}) > 1
        names = {c.pk: c.name for c in channels}

        def label(t: MessageTemplate) -> str:
            where = f" · {names.get(t.channel_id, '?')}" if several else ""
            return f"{t.name} ({t.language}){where}"

        options = [(str(t.pk), label(t)) for t in templates]
        template: Any = self.fields["template_id"]
        template.choices = [("", "— pick an approved template —"), *options]
        fallback: Any = self.fields["fallback_template_id"]
        fallback.choices = [("", "— none: fail with the reason —"), *options]
        self.fields["send_at"].help_text = f"In the workspace's timezone, {zone_help}."

    def clean_send_at(self) -> datetime:
        raw = str(self.cleaned_data.get("send_at") or "")
        parsed = parse_local(raw)
        if parsed is None:
            raise forms.ValidationError("Type the date and time as YYYY-MM-DD HH:MM.")
        return parsed
