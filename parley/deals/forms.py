"""The deal form: choices are filled per workspace by the view."""

from __future__ import annotations

from typing import Any

from django import forms

from parley.crm.models import Contact
from parley.deals.models import Pipeline, Stage
from parley.tenancy.models import Membership

CONTACT_CHOICES = 300


def stage_choices(pipelines: list[Pipeline], stages: list[Stage]) -> list[Any]:
    """Stages grouped by pipeline, for a <select> with optgroups."""
    by_pipeline: dict[int, list[tuple[str, str]]] = {p.pk: [] for p in pipelines}
    for s in stages:
        by_pipeline.setdefault(s.pipeline_id, []).append((str(s.pk), s.name))
    if len(pipelines) == 1:
        return by_pipeline[pipelines[0].pk]
    return [(p.name, by_pipeline[p.pk]) for p in pipelines]


class DealForm(forms.Form):
    title = forms.CharField(max_length=200)
    contact_id = forms.ChoiceField(label="Contact", required=False)
    stage_id = forms.ChoiceField(label="Stage")
    value = forms.DecimalField(min_value=0, max_digits=14, decimal_places=2, initial=0)
    currency = forms.CharField(
        max_length=3, min_length=3, help_text="Three letters (ISO 4217), e.g. USD, EUR, BRL."
    )
    owner_id = forms.ChoiceField(label="Owner", required=False)
    expected_close_date = forms.DateField(
        label="Expected close", required=False, widget=forms.DateInput(attrs={"type": "date"})
    )

    def __init__(
        self,
        *args: Any,
        contacts: list[Contact],
        pipelines: list[Pipeline],
        stages: list[Stage],
        members: list[Membership],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        contact_field: Any = self.fields["contact_id"]
        contact_field.choices = [("", "— none —")] + [
            (str(c.pk), f"{c.display_name} ({c.phone_e164 or c.wa_id})") for c in contacts
        ]
        stage_field: Any = self.fields["stage_id"]
        stage_field.choices = stage_choices(pipelines, stages)
        owner_field: Any = self.fields["owner_id"]
        owner_field.choices = [("", "— nobody —")] + [
            (str(m.user_id), m.user.display_name) for m in members
        ]
