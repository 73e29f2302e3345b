"""The due-reminder scheduler, run directly on real rows."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from parley.core.tenant import workspace_context
from parley.notifications.models import Notification
from parley.todos.actions import do_complete_task, do_create_task, do_update_task
from parley.todos.models import Task
from parley.todos.tasks import send_due_reminders
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db

NOW = datetime(2026, 3, 10, 9, 0, tzinfo=ZoneInfo("UTC"))


def _due_notes(tenant: Tenant) -> list[tuple[int, str]]:
    with workspace_context(tenant.workspace.pk):
        return list(
            Notification.objects.filter(kind="task_due")
            .order_by("id")
            .values_list("user_id", "title")
        )


def _task(tenant: Tenant, title: str, due: datetime | None, assignee_id: int | None) -> Task:
    with workspace_context(tenant.workspace.pk):
        return do_create_task(
            actor=actor_for(tenant.workspace, tenant.admin),
            title=title,
            due_at=due,
            assignee_id=assignee_id,
        )


def test_due_task_notifies_once_and_again_when_rescheduled(
    tenant_a: Tenant, tenant_b: Tenant
) -> None:
    due = _task(tenant_a, "Call Ann", NOW - timedelta(minutes=5), tenant_a.agent.pk)
    _task(tenant_a, "Later", NOW + timedelta(hours=1), tenant_a.agent.pk)
    _task(tenant_a, "Undated", None, tenant_a.agent.pk)
    _task(tenant_a, "Nobody's", NOW - timedelta(hours=1), None)
    other = _task(tenant_b, "Bravo's", NOW - timedelta(days=1), tenant_b.agent.pk)

    assert send_due_reminders(now=NOW) == 2  # one per workspace
    assert _due_notes(tenant_a) == [(tenant_a.agent.pk, "Task due: Call Ann")]
    assert _due_notes(tenant_b) == [(tenant_b.agent.pk, "Task due: Bravo's")]
    # A second run (a retried job, the next minute) finds nothing new.
    assert send_due_reminders(now=NOW + timedelta(minutes=1)) == 0
    assert len(_due_notes(tenant_a)) == 1
    # Even if the mark were lost, the dedupe key holds.
    with workspace_context(tenant_a.workspace.pk):
        Task.objects.filter(pk=due.pk).update(due_notified_at=None)
    assert send_due_reminders(now=NOW + timedelta(minutes=2)) == 0
    assert len(_due_notes(tenant_a)) == 1

    # Rescheduled: reminded again when the new time comes, not before.
    with workspace_context(tenant_a.workspace.pk):
        do_update_task(
            actor=actor_for(tenant_a.workspace, tenant_a.admin),
            task=Task.objects.get(pk=due.pk),
            due_at=NOW + timedelta(minutes=30),
        )
    assert send_due_reminders(now=NOW + timedelta(minutes=10)) == 0
    assert send_due_reminders(now=NOW + timedelta(minutes=31)) == 1
    assert _due_notes(tenant_a) == [(tenant_a.agent.pk, "Task due: Call Ann")] * 2
    with workspace_context(tenant_b.workspace.pk):
        assert Task.objects.get(pk=other.pk).due_notified_at == NOW


def test_done_task_never_notifies(tenant_a: Tenant) -> None:
    task = _task(tenant_a, "Already done", NOW - timedelta(minutes=5), tenant_a.agent.pk)
    with workspace_context(tenant_a.workspace.pk):
        do_complete_task(actor=actor_for(tenant_a.workspace, tenant_a.agent), task=task)
    assert send_due_reminders(now=NOW) == 0
    assert _due_notes(tenant_a) == []


def test_runs_are_bounded(tenant_a: Tenant) -> None:
    for i in range(5):
        _task(tenant_a, f"T{i}", NOW - timedelta(minutes=i), tenant_a.agent.pk)
    assert send_due_reminders(now=NOW, limit=3) == 3
    assert send_due_reminders(now=NOW, limit=3) == 2
    assert send_due_reminders(now=NOW, limit=3) == 0
