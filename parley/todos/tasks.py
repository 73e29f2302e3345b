"""Due reminders: a scheduler tells each assignee, once, that a task fell due."""

from __future__ import annotations

from collections import defaultdict
from datetime import datetime

import structlog
from django.db import transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.tenancy.models import Workspace
from parley.todos.actions import notify_due
from parley.todos.models import Task, TaskStatus

log = structlog.get_logger(__name__)

# Reminders per run; a backlog drains over the next minutes.
BATCH = 500


@app.periodic(cron="* * * * *", periodic_id="todos_due_reminders")
@app.task(name="todos.due_reminders", queueing_lock="todos.due_reminders")
def due_reminders(timestamp: int) -> int:
    return send_due_reminders()


def send_due_reminders(now: datetime | None = None, limit: int = BATCH) -> int:
    """Notify the assignees of open tasks that fell due and were not
    reminded yet, across workspaces. Idempotent: rows are marked in the same
    transaction as the notifications, which are deduplicated by task and due time."""
    now = now or timezone.now()
    with transaction.atomic():
        with dangerously_cross_tenant(reason="scheduler: due task reminders"):
            # SKIP LOCKED: two workers running at once split the rows.
            due = list(
                Task.objects.select_for_update(skip_locked=True)
                .filter(
                    status=TaskStatus.OPEN,
                    due_at__lte=now,
                    due_notified_at__isnull=True,
                    assignee__isnull=False,
                )
                .order_by("due_at")
                .values_list("id", "workspace_id")[:limit]
            )
        by_workspace: dict[int, list[int]] = defaultdict(list)
        for task_id, workspace_id in due:
            by_workspace[workspace_id].append(task_id)
        workspaces = Workspace.objects.in_bulk(list(by_workspace))
        sent = 0
        # Each workspace's notifications are written behind its own wall.
        for workspace_id, ids in by_workspace.items():
            with workspace_context(workspace_id):
                for task in Task.objects.filter(workspace_id=workspace_id, id__in=ids):
                    sent += notify_due(task, workspaces[workspace_id])
                Task.objects.filter(workspace_id=workspace_id, id__in=ids).update(
                    due_notified_at=now
                )
    if due:
        log.info("task_due_reminders", tasks=len(due), notified=sent)
    return sent
