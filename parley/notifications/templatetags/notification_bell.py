"""{% notification_bell %}: the sidebar's bell with the unread count, one
capped COUNT on the partial unread index per page."""

from __future__ import annotations

from typing import Any

from django import template

from parley.notifications.views import bell_context
from parley.tenancy.actor import Actor

register = template.Library()


@register.inclusion_tag("notifications/_bell_tag.html", takes_context=True)
def notification_bell(context: template.Context) -> dict[str, Any]:
    actor = context.get("actor")
    if not isinstance(actor, Actor) or actor.user is None:
        return {"bell_slug": None}
    return {**bell_context(actor), "request": context.get("request")}
