"""Rows of this app in a workspace, for the outsider walk: {route parameter: value}."""

from __future__ import annotations

from parley.core.tenant import workspace_context
from parley.executions.actions import do_record_execution
from tests.factories import Tenant


def seed(tenant: Tenant) -> dict[str, str]:
    """One failed workflow run with a step (its trigger names a secret an outsider must not see)."""
    with workspace_context(tenant.workspace.pk):
        execution_id = do_record_execution(
            workspace_id=tenant.workspace.pk,
            kind="workflow",
            source_id=1,
            source_label="Outsider probe workflow",
            contact_id=None,
            trigger={"event": "probe", "secret": "alpha-execution-secret"},
            status="failed",
            error="probe failure",
            duration_ms=12.5,
            steps=[{"key": "s1", "type": "http", "input": {"url": "http://127.0.0.1:9/"}}],
        )
    return {"execution_id": str(execution_id)}
