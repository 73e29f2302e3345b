"""The nightly purge: each workspace's own retention, open runs kept a while,
bounded batches, steps deleted with their runs, other workspaces untouched."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.executions import tasks
from parley.executions.models import Execution, ExecutionStep, FailureAlert, LogSettings
from parley.executions.tests.helpers import record
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _left(tenant: Tenant) -> set[int]:
    with workspace_context(tenant.workspace.pk):
        return set(Execution.objects.values_list("id", flat=True))


def test_purge_keeps_each_workspace_its_own_days(tenant_a: Tenant, tenant_b: Tenant) -> None:
    now = timezone.now()
    with workspace_context(tenant_b.workspace.pk):
        LogSettings.objects.create(workspace=tenant_b.workspace, retention_days=7)
    step = [{"key": "s", "type": "t"}]
    a_old = record(tenant_a, at=now - timedelta(days=31), steps=step)
    a_kept = record(tenant_a, at=now - timedelta(days=29), steps=step)
    # Still waiting: kept past retention (its workflow may log more steps) ...
    a_waiting = record(tenant_a, status="waiting", at=now - timedelta(days=40))
    # ... but not forever.
    a_ancient = record(tenant_a, status="running", at=now - timedelta(days=400))
    b_old = record(tenant_b, at=now - timedelta(days=8), steps=step)
    b_kept = record(tenant_b, at=now - timedelta(days=6))

    deleted = tasks.purge_expired(now=now, batch=1)

    assert deleted == 3
    assert _left(tenant_a) == {a_kept, a_waiting}
    assert _left(tenant_b) == {b_kept}
    with workspace_context(tenant_a.workspace.pk):
        assert set(ExecutionStep.objects.values_list("execution_id", flat=True)) == {a_kept}
    with workspace_context(tenant_b.workspace.pk):
        assert not ExecutionStep.objects.exists()
    assert {a_old, a_ancient, b_old}.isdisjoint(_left(tenant_a) | _left(tenant_b))
    # Nothing more to do the next night.
    assert tasks.purge_expired(now=now) == 0


def test_purge_is_bounded_per_run(tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch) -> None:
    old = timezone.now() - timedelta(days=60)
    for _ in range(7):
        record(tenant_a, at=old)
    monkeypatch.setattr(tasks, "MAX_BATCHES_PER_WORKSPACE", 2)
    assert tasks.purge_expired(batch=3) == 6
    assert len(_left(tenant_a)) == 1
    assert tasks.purge_expired(batch=3) == 1
    assert _left(tenant_a) == set()


def test_purge_drops_old_alert_dedupe_rows(tenant_a: Tenant) -> None:
    now = timezone.now()
    record(tenant_a, status="failed", error="x")
    with workspace_context(tenant_a.workspace.pk):
        FailureAlert.objects.create(
            workspace=tenant_a.workspace, kind="rule", source_id=3, hour=now - timedelta(hours=5)
        )
    tasks.purge_expired(now=now)
    with workspace_context(tenant_a.workspace.pk):
        assert list(FailureAlert.objects.values_list("kind", flat=True)) == ["workflow"]


def test_the_job_is_registered_as_a_nightly_periodic_task() -> None:
    from procrastinate.contrib.django import app

    periodic = {t.periodic_id: t for t in app.periodic_registry.periodic_tasks.values()}
    assert periodic["executions_retention"].cron == "41 3 * * *"
