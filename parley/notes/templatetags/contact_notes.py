"""{% contact_notes contact actor %}: a contact's notes panel anywhere a
contact is shown (the inbox's side panel), the same panel as on the contact
page."""

from __future__ import annotations

from typing import Any

from django import template

from parley.crm.models import Contact
from parley.notes.models import BODY_MAX
from parley.notes.panels import panel_context
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

register = template.Library()


@register.inclusion_tag("notes/_panel.html", takes_context=True)
def contact_notes(context: template.Context, contact: Contact, actor: Actor) -> dict[str, Any]:
    if not isinstance(actor, Actor) or not actor.can(Cap.CONTACTS_READ):
        return {"notes_hidden": True}
    return {
        **panel_context(actor, contact),
        "actor": actor,
        "contact": contact,
        "workspace": actor.workspace,
        "request": context.get("request"),
        "csrf_token": context.get("csrf_token"),
        "body_max": BODY_MAX,
        "compact": True,
    }
