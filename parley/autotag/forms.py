"""The rule form; tag and attribute choices are filled per workspace by the view."""

from __future__ import annotations

from typing import Any

from django import forms

from parley.autotag.actions import RuleFields
from parley.autotag.models import Rule
from parley.crm.models import AttributeDefinition, Tag


class RuleForm(forms.Form):
    name = forms.CharField(max_length=120)
    kind = forms.ChoiceField(
        label="Match", choices=Rule.Kind.choices, widget=forms.RadioSelect, initial="keyword"
    )
    keywords = forms.CharField(
        required=False,
        help_text="Comma-separated. Any of them, as a whole word or phrase, in any case "
        "(“price” matches “Price?” but not “pricey”).",
    )
    pattern = forms.CharField(
        required=False,
        help_text="A Python regular expression, searched in the message; add (?i) to ignore case. "
        "Up to 300 characters.",
    )
    attribute_key = forms.ChoiceField(label="Contact attribute", required=False)
    attribute_op = forms.ChoiceField(label="Comparison", choices=Rule.Op.choices, required=False)
    attribute_value = forms.CharField(label="Value", required=False, max_length=200)
    contact_tag_ids = forms.MultipleChoiceField(
        label="Tag the contact with", required=False, widget=forms.SelectMultiple(attrs={"size": 6})
    )
    conversation_tag_ids = forms.MultipleChoiceField(
        label="Tag the conversation with",
        required=False,
        widget=forms.SelectMultiple(attrs={"size": 6}),
    )
    stop_after = forms.BooleanField(
        label="Stop after this rule (later rules do not run on a message it matched)",
        required=False,
    )
    enabled = forms.BooleanField(label="Enabled", required=False, initial=True)

    def __init__(
        self, *args: Any, tags: list[Tag], attributes: list[AttributeDefinition], **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        tag_choices = [(str(t.pk), t.name) for t in tags]
        self.fields["contact_tag_ids"].choices = tag_choices  # type: ignore[attr-defined]
        self.fields["conversation_tag_ids"].choices = tag_choices  # type: ignore[attr-defined]
        self.fields["attribute_key"].choices = [("", "—")] + [  # type: ignore[attr-defined]
            (a.key, a.label) for a in attributes
        ]

    def fields_value(self) -> RuleFields:
        data = self.cleaned_data
        return RuleFields(
            name=data["name"],
            kind=data["kind"],
            keywords=[k for k in data["keywords"].split(",") if k.strip()],
            pattern=data["pattern"],
            attribute_key=data["attribute_key"] or "",
            attribute_op=data["attribute_op"] or Rule.Op.EQUALS,
            attribute_value=data["attribute_value"],
            contact_tag_ids=[int(i) for i in data["contact_tag_ids"]],
            conversation_tag_ids=[int(i) for i in data["conversation_tag_ids"]],
            stop_after=data["stop_after"],
            enabled=data["enabled"],
        )

    @staticmethod
    def initial_of(fields: RuleFields) -> dict[str, Any]:
        return {
            "name": fields.name,
            "kind": fields.kind,
            "keywords": ", ".join(fields.keywords),
            "pattern": fields.pattern,
            "attribute_key": fields.attribute_key,
            "attribute_op": fields.attribute_op,
            "attribute_value": fields.attribute_value,
            "contact_tag_ids": [str(i) for i in fields.contact_tag_ids],
            "conversation_tag_ids": [str(i) for i in fields.conversation_tag_ids],
            "stop_after": fields.stop_after,
            "enabled": fields.enabled,
        }
