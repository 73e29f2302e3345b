"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from django.test import override_settings

from parley.core.tenant import workspace_context
from parley.integrations import actions, fanout
from tests.factories import Tenant, actor_for


def seed(tenant: Tenant) -> dict[str, str]:
    """An endpoint (on a loopback URL, allowed for the seed only) with one delivery."""
    actor = actor_for(tenant.workspace, tenant.owner)
    with override_settings(WEBHOOKS_ALLOW_LOOPBACK=True), workspace_context(tenant.workspace.pk):
        endpoint, _secret = actions.do_create_endpoint(
            actor=actor,
            fields=actions.EndpointFields(
                url="http://127.0.0.1:9/outsider-probe", events=["contact.created"]
            ),
        )
        delivery = fanout.ping(workspace_id=tenant.workspace.pk, endpoint=endpoint)
    return {"endpoint_id": str(endpoint.pk), "delivery_id": str(delivery.pk)}
