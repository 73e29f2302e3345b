"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.core.tenant import workspace_context
from parley.msgtemplates import usage
from parley.whatsapp.models import MessageTemplate
from tests.factories import Tenant, make_channel


def seed(tenant: Tenant) -> dict[str, str]:
    """An approved template (with a usage row) on a channel of its own."""
    channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        template = MessageTemplate.objects.create(
            workspace=tenant.workspace,
            channel=channel,
            meta_id="9000000001",
            name="seed_order_update",
            language="en_US",
            category="UTILITY",
            status="APPROVED",
            components=[
                {
                    "type": "BODY",
                    "text": "Hi {{1}}, order {{2}} shipped.",
                    "example": {"body_text": [["Ann", "A-1"]]},
                }
            ],
        )
        usage.record(
            workspace_id=tenant.workspace.pk,
            template_id=template.pk,
            source="broadcast",
            source_id=1,
        )
    return {"template_id": str(template.pk)}
