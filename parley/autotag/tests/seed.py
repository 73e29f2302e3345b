"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.autotag import actions
from parley.core.tenant import workspace_context
from parley.crm.models import Tag
from tests.factories import Tenant, actor_for


def seed(tenant: Tenant) -> dict[str, str]:
    """One keyword rule tagging the contact."""
    actor = actor_for(tenant.workspace, tenant.owner)
    with workspace_context(tenant.workspace.pk):
        tag, _ = Tag.objects.get_or_create(workspace=tenant.workspace, name="Probe rule tag")
        rule = actions.do_create_rule(
            actor=actor,
            fields=actions.RuleFields(
                name="Outsider probe rule", keywords=["probe"], contact_tag_ids=[tag.pk]
            ),
        )
    return {"rule_id": str(rule.pk)}
