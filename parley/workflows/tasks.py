"""Workflow jobs: start runs for matched events, move runs on, wake waiting
ones, fire cron schedules. All take ids and are safe to run twice: a run's
row lock and cursor decide what is left to do."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from parley.core.jobs import tenant_task
from parley.core.tenant import dangerously_cross_tenant
from parley.workflows import engine, scheduling
from parley.workflows.models import RunStatus, WorkflowRun

log = structlog.get_logger(__name__)

SWEEP_BATCH = 500


@tenant_task(name="workflows.start", queue="automation")
def start(*, workspace_id: int, starts: list[list[Any]], chain: list[int]) -> None:
    """``starts``: [[workflow id, [subject, ...]], ...] (one event batch)."""
    for workflow_id, subjects in starts:
        engine.start_runs(
            workspace_id=workspace_id, workflow_id=int(workflow_id), subjects=subjects, chain=chain
        )


@tenant_task(name="workflows.advance", queue="automation", atomic=False)
def advance_run(*, workspace_id: int, run_id: int) -> None:
    engine.advance(workspace_id=workspace_id, run_id=run_id)


@tenant_task(name="workflows.wake", queue="automation", atomic=False)
def wake_run(*, workspace_id: int, run_id: int) -> None:
    engine.advance(workspace_id=workspace_id, run_id=run_id)


@tenant_task(name="workflows.answer", queue="automation", atomic=False)
def answer_run(*, workspace_id: int, run_id: int, reply_id: str) -> None:
    engine.advance(workspace_id=workspace_id, run_id=run_id, reply_id=reply_id)


@app.periodic(cron="* * * * *", periodic_id="workflows_cron")
@app.task(name="workflows.cron", queueing_lock="workflows.cron")
def cron(timestamp: int) -> int:
    return scheduling.fire_due()


@app.periodic(cron="* * * * *", periodic_id="workflows_sweep_waits")
@app.task(name="workflows.sweep_waits", queueing_lock="workflows.sweep_waits")
def sweep_waits(timestamp: int) -> int:
    """Wake runs whose wake-up job went missing (a lost job, a restored
    backup): their wait ended more than a minute ago."""
    cutoff = timezone.now() - timedelta(minutes=1)
    with transaction.atomic(), dangerously_cross_tenant(reason="scheduler: overdue workflow waits"):
        overdue = list(
            WorkflowRun.objects.filter(status=RunStatus.WAITING, wait_until__lt=cutoff)
            .order_by("wait_until")
            .values_list("workspace_id", "id")[:SWEEP_BATCH]
        )
        for workspace_id, run_id in overdue:
            wake_run.defer(workspace_id=workspace_id, run_id=run_id)
    if overdue:
        log.warning("workflow_waits_overdue", count=len(overdue))
    return len(overdue)
