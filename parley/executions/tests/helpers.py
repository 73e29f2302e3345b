"""Runs recorded through the real contract, backdated where a test needs time."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.core.tenant import workspace_context
from parley.executions.actions import do_record_execution
from parley.executions.models import Execution
from tests.factories import Tenant


def record(
    tenant: Tenant,
    *,
    kind: str = "workflow",
    source_id: int | None = 1,
    label: str = "Welcome flow",
    status: str = "succeeded",
    error: str = "",
    at: datetime | None = None,
    steps: list[dict[str, Any]] | None = None,
    trigger: dict[str, Any] | None = None,
    contact_id: int | None = None,
) -> int:
    with workspace_context(tenant.workspace.pk):
        run = do_record_execution(
            workspace_id=tenant.workspace.pk,
            kind=kind,
            source_id=source_id,
            source_label=label,
            contact_id=contact_id,
            trigger=trigger or {"event": "test"},
            status=status,
            error=error,
            duration_ms=5,
            steps=steps or [],
        )
        if at is not None:
            Execution.objects.filter(pk=run).update(started_at=at, finished_at=at)
    return run
