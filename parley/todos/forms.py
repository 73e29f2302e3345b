"""The task form: choices are filled per workspace by the view."""

from __future__ import annotations

from typing import Any

from django import forms

from parley.crm.models import Contact
from parley.deals.models import Deal
from parley.tenancy.models import Membership


class TaskForm(forms.Form):
    title = forms.CharField(max_length=200)
    due_at = forms.DateTimeField(
        label="Due",
        required=False,
        input_formats=["%Y-%m-%dT%H:%M", "%Y-%m-%d %H:%M", "%Y-%m-%d"],
        widget=forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M"),
        help_text="In the workspace's timezone.",
    )
    assignee_id = forms.ChoiceField(label="Assignee", required=False)
    contact_id = forms.ChoiceField(label="Contact", required=False)
    deal_id = forms.ChoiceField(label="Deal", required=False)
    notes = forms.CharField(required=False, widget=forms.Textarea(attrs={"rows": 3}))

    def __init__(
        self,
        *args: Any,
        members: list[Membership],
        contacts: list[Contact],
        deals: list[Deal],
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        assignee: Any = self.fields["assignee_id"]
        assignee.choices = [("", "— nobody —")] + [
            (str(m.user_id), m.user.display_name) for m in members
        ]
        contact: Any = self.fields["contact_id"]
        contact.choices = [("", "— none —")] + [
            (str(c.pk), f"{c.display_name} ({c.phone_e164 or c.wa_id})") for c in contacts
        ]
        deal: Any = self.fields["deal_id"]
        deal.choices = [("", "— none —")] + [(str(d.pk), d.title) for d in deals]
