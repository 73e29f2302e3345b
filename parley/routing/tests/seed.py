"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from datetime import date

from parley.core.tenant import workspace_context
from parley.routing import actions
from tests.factories import Tenant, actor_for


def seed(tenant: Tenant) -> dict[str, str]:
    """A team with the agent in it, and a holiday."""
    actor = actor_for(tenant.workspace, tenant.owner)
    with workspace_context(tenant.workspace.pk):
        team = actions.do_create_team(
            actor=actor, name="Outsider probe team", member_ids=[tenant.agent.pk]
        )
        holiday = actions.do_add_holiday(actor=actor, day=date(2030, 1, 1), name="Probe day")
    return {"team_id": str(team.pk), "holiday_id": str(holiday.pk)}
