"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.workflows.tests.helpers import live_workflow
from tests.factories import Tenant


def seed(tenant: Tenant) -> dict[str, str]:
    """A live workflow with one step (its id is the builder's step_key)."""
    workflow = live_workflow(
        tenant,
        {
            "trigger": {"type": "api"},
            "steps": [{"id": "probestep01", "type": "add_tags", "tags": ["Probe"]}],
        },
        name="Outsider probe workflow",
    )
    return {"workflow_id": str(workflow.pk), "step_key": "probestep01"}
