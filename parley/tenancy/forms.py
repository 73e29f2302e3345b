from __future__ import annotations

import zoneinfo

from django import forms

from parley.tenancy.roles import Role


def timezone_choices() -> list[tuple[str, str]]:
    return [(name, name) for name in sorted(zoneinfo.available_timezones())]


class WorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120)
    timezone = forms.ChoiceField(choices=timezone_choices, label="Time zone")
    default_country = forms.CharField(
        max_length=2, min_length=2, help_text="Two letters, used to read local phone numbers."
    )
    mark_read_on_open = forms.BooleanField(
        required=False,
        label="Send read receipts when an agent opens a conversation",
    )


class NewWorkspaceForm(forms.Form):
    name = forms.CharField(max_length=120, label="Workspace name")


class InviteForm(forms.Form):
    email = forms.EmailField()
    role = forms.ChoiceField(choices=Role.choices, initial=Role.AGENT)


class RoleForm(forms.Form):
    role = forms.ChoiceField(choices=Role.choices)


class DeleteWorkspaceForm(forms.Form):
    confirm_name = forms.CharField(label="Type the workspace name to confirm")
