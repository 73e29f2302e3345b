"""Building workflows and running their jobs in-process, as a worker would."""

from __future__ import annotations

import json
import time
from datetime import datetime
from typing import Any

from django.db import connection
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.inbox.tasks import process_webhook
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.samples import envelope
from parley.whatsapp.signatures import sign
from parley.workflows import tasks
from parley.workflows.actions import do_create_workflow, do_publish, do_set_enabled
from parley.workflows.models import Workflow
from tests.factories import Tenant, actor_for

TASKS = {
    "workflows.start": tasks.start,
    "workflows.advance": tasks.advance_run,
    "workflows.wake": tasks.wake_run,
    "workflows.answer": tasks.answer_run,
}


def live_workflow(tenant: Tenant, definition: dict[str, Any], name: str = "Flow") -> Workflow:
    actor = actor_for(tenant.workspace, tenant.owner)
    with workspace_context(tenant.workspace.pk):
        workflow = do_create_workflow(actor=actor, name=name, draft=definition)
        do_publish(actor=actor, workflow=workflow)
        return do_set_enabled(actor=actor, workflow=workflow, enabled=True)


def run_workflow_jobs(*, until: datetime | None = None, limit: int = 200) -> list[str]:
    """Run queued workflow jobs oldest first, including scheduled ones due by
    ``until`` (default now). Returns the task names run."""
    ran: list[str] = []
    for _ in range(limit):
        with connection.cursor() as cursor:
            cursor.execute(
                # Only the per-workspace jobs: a periodic one (workflows.cron)
                # may be deferred by a worker process of another test.
                "SELECT id, task_name, args FROM procrastinate_jobs "
                "WHERE status = 'todo' AND task_name = ANY(%s) "
                "AND (scheduled_at IS NULL OR scheduled_at <= %s) ORDER BY id LIMIT 1",
                [list(TASKS), until or timezone.now()],
            )
            row = cursor.fetchone()
            if row is None:
                return ran
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [row[0]])
        args = json.loads(row[2]) if isinstance(row[2], str) else row[2]
        TASKS[row[1]].func(**args)
        ran.append(row[1])
    raise AssertionError(f"more than {limit} workflow jobs: a loop? {ran[-10:]}")


def inbound(tenant: Tenant, channel: Channel, wa_id: str, message: dict[str, Any]) -> None:
    """A customer message through the real webhook and ingest path."""
    message = {"from": wa_id, "timestamp": str(int(time.time())), **message}
    message.setdefault("id", f"wamid.t{time.perf_counter_ns()}")
    body = envelope(
        channel.phone_number_id,
        {
            "contacts": [{"profile": {"name": "Dee Customer"}, "wa_id": wa_id}],
            "messages": [message],
        },
    )
    response = Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(body, "app-secret-123")},
    )
    assert response.status_code == 200
    with workspace_context(tenant.workspace.pk):
        event_id = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    process_webhook.func(workspace_id=tenant.workspace.pk, event_id=event_id)


def text(body: str) -> dict[str, Any]:
    return {"type": "text", "text": {"body": body}}


def button(reply_id: str, title: str) -> dict[str, Any]:
    return {
        "type": "interactive",
        "interactive": {"type": "button_reply", "button_reply": {"id": reply_id, "title": title}},
    }
