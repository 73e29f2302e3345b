"""The inbox's routing controls (team picker, own availability), rendered by
the routing app so the inbox does not import it."""

from __future__ import annotations

from typing import Any

from django import template

from parley.routing.actions import is_available
from parley.routing.models import Team
from parley.tenancy.roles import Cap

register = template.Library()


@register.inclusion_tag("routing/_inbox_controls.html", takes_context=True)
def routing_controls(context: template.Context, conversation: Any) -> dict[str, Any]:
    request = context["request"]
    actor = getattr(request, "actor", None)
    if actor is None:  # rendered outside a workspace page: show, do not offer
        return {"can_work": False, "conversation": conversation}
    return {
        "request": request,
        "workspace": actor.workspace,
        "conversation": conversation,
        "csrf_token": context.get("csrf_token"),
        "can_work": actor.can(Cap.CONVERSATIONS_WORK),
        "teams": list(
            Team.objects.filter(workspace=actor.workspace)
            .order_by("name")
            .values_list("id", "name")
        ),
        "me_available": is_available(actor.workspace.pk, actor.user_id),
    }
