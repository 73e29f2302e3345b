"""The sequence and step forms: choices filled per workspace by the view.
Validation beyond types is the actions' (errors come back on the fields)."""

from __future__ import annotations

from typing import Any

from django import forms

from parley.crm.models import Tag
from parley.drips.actions import SequenceFields, StepFields
from parley.drips.models import WEEKDAYS, Condition, DelayUnit, Trigger
from parley.segments.models import Segment
from parley.whatsapp.models import Channel, MessageTemplate


def _choices(field: forms.Field, options: list[tuple[str, str]], empty: str = "") -> None:
    choice: Any = field
    choice.choices = ([("", empty)] if empty else []) + options


def _int(value: Any) -> int | None:
    return int(value) if value not in (None, "") else None


class SequenceForm(forms.Form):
    name = forms.CharField(max_length=120)
    channel_id = forms.ChoiceField(label="Send from")
    trigger = forms.ChoiceField(label="Enrol contacts when", choices=Trigger.choices)
    trigger_tag_id = forms.ChoiceField(label="Tag added", required=False)
    trigger_segment_id = forms.ChoiceField(
        label="Segment entered",
        required=False,
        help_text="Checked every minute. Who is in the segment when the sequence is activated "
        "is the baseline: only contacts entering it afterwards are enrolled.",
    )
    keywords = forms.CharField(
        required=False,
        help_text="Comma-separated. A customer whose whole message is one of them "
        "(any case) is enrolled.",
    )
    exit_on_reply = forms.BooleanField(
        label="End the enrolment when the contact replies", required=False, initial=True
    )
    exit_tag_id = forms.ChoiceField(label="End it when this tag is removed", required=False)
    goal_tag_id = forms.ChoiceField(label="Goal: the contact gets this tag", required=False)
    goal_segment_id = forms.ChoiceField(
        label="Goal: the contact is in this segment",
        required=False,
        help_text="Reaching the goal ends the enrolment. Opting out always ends it.",
    )

    def __init__(
        self,
        *args: Any,
        channels: list[Channel],
        tags: list[Tag],
        segments: list[Segment],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(self.fields["channel_id"], [(str(c.pk), str(c)) for c in channels])
        tag_options = [(str(t.pk), t.name) for t in tags]
        segment_options = [(str(s.pk), s.name) for s in segments]
        _choices(self.fields["trigger_tag_id"], tag_options, "— pick a tag —")
        _choices(self.fields["trigger_segment_id"], segment_options, "— pick a segment —")
        _choices(self.fields["exit_tag_id"], tag_options, "— none —")
        _choices(self.fields["goal_tag_id"], tag_options, "— none —")
        _choices(self.fields["goal_segment_id"], segment_options, "— none —")

    @staticmethod
    def initial_of(fields: SequenceFields) -> dict[str, Any]:
        return {
            "name": fields.name,
            "channel_id": str(fields.channel_id or ""),
            "trigger": fields.trigger,
            "trigger_tag_id": str(fields.trigger_tag_id or ""),
            "trigger_segment_id": str(fields.trigger_segment_id or ""),
            "keywords": ", ".join(fields.keywords),
            "exit_on_reply": fields.exit_on_reply,
            "exit_tag_id": str(fields.exit_tag_id or ""),
            "goal_tag_id": str(fields.goal_tag_id or ""),
            "goal_segment_id": str(fields.goal_segment_id or ""),
        }

    def fields_value(self) -> SequenceFields:
        data = self.cleaned_data
        return SequenceFields(
            name=data["name"],
            channel_id=_int(data["channel_id"]),
            trigger=data["trigger"],
            trigger_tag_id=_int(data["trigger_tag_id"]),
            trigger_segment_id=_int(data["trigger_segment_id"]),
            keywords=[data["keywords"]] if data["keywords"] else [],
            exit_on_reply=bool(data["exit_on_reply"]),
            exit_tag_id=_int(data["exit_tag_id"]),
            goal_tag_id=_int(data["goal_tag_id"]),
            goal_segment_id=_int(data["goal_segment_id"]),
        )


class StepForm(forms.Form):
    kind = forms.ChoiceField(
        label="Send",
        choices=[("template", "A template"), ("text", "A message")],
        widget=forms.RadioSelect,
        initial="template",
    )
    template_id = forms.ChoiceField(label="Template", required=False)
    text = forms.CharField(
        label="Message",
        required=False,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text="Free-form text only goes out inside the 24-hour window (the customer wrote "
        "in the last day); otherwise this step fails with that reason.",
    )
    delay_amount = forms.IntegerField(label="Wait", min_value=0, initial=1)
    delay_unit = forms.ChoiceField(label="Unit", choices=DelayUnit.choices, initial="days")
    window_days = forms.MultipleChoiceField(
        label="Only send on",
        required=False,
        choices=[(str(i), d) for i, d in enumerate(WEEKDAYS)],
        widget=forms.CheckboxSelectMultiple,
        help_text="Leave all unticked to send at any time.",
    )
    window_start = forms.TimeField(
        label="From", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    window_end = forms.TimeField(
        label="Until", required=False, widget=forms.TimeInput(attrs={"type": "time"})
    )
    condition = forms.ChoiceField(label="Send only if", required=False, choices=Condition.choices)
    condition_tag_id = forms.ChoiceField(label="Condition tag", required=False)
    condition_segment_id = forms.ChoiceField(label="Condition segment", required=False)

    def __init__(
        self,
        *args: Any,
        templates: list[MessageTemplate],
        tags: list[Tag],
        segments: list[Segment],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        _choices(
            self.fields["template_id"],
            [(str(t.pk), f"{t.name} ({t.language}, {t.status.lower()})") for t in templates],
            "— pick a template —",
        )
        _choices(self.fields["condition_tag_id"], [(str(t.pk), t.name) for t in tags], "— tag —")
        _choices(
            self.fields["condition_segment_id"],
            [(str(s.pk), s.name) for s in segments],
            "— segment —",
        )

    @staticmethod
    def initial_of(fields: StepFields) -> dict[str, Any]:
        return {
            "kind": "template" if fields.template_id or not fields.text else "text",
            "template_id": str(fields.template_id or ""),
            "text": fields.text,
            "delay_amount": fields.delay_amount,
            "delay_unit": fields.delay_unit,
            "window_days": [str(d) for d in fields.window_days],
            "window_start": fields.window_start,
            "window_end": fields.window_end,
            "condition": fields.condition,
            "condition_tag_id": str(fields.condition_tag_id or ""),
            "condition_segment_id": str(fields.condition_segment_id or ""),
        }

    def fields_value(self, mapping: dict[str, Any]) -> StepFields:
        data = self.cleaned_data
        use_template = data["kind"] == "template"
        return StepFields(
            template_id=_int(data["template_id"]) if use_template else None,
            mapping=mapping if use_template else {},
            text="" if use_template else data["text"],
            delay_amount=data["delay_amount"],
            delay_unit=data["delay_unit"],
            window_days=[int(d) for d in data["window_days"]],
            window_start=data["window_start"],
            window_end=data["window_end"],
            condition=data["condition"] or "",
            condition_tag_id=_int(data["condition_tag_id"]),
            condition_segment_id=_int(data["condition_segment_id"]),
        )
