"""Template context: the current workspace, the user's other workspaces and
what their role lets them see in the navigation."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest

from parley.tenancy.access import user_memberships
from parley.tenancy.roles import Cap


def workspace_context(request: HttpRequest) -> dict[str, Any]:
    actor = getattr(request, "actor", None)
    if actor is None:
        return {}
    return {
        "actor": actor,
        "workspace": actor.workspace,
        "caps": {cap.name: actor.can(cap) for cap in Cap},
        "my_workspaces": lambda: user_memberships(request.user),  # type: ignore[arg-type]
    }
