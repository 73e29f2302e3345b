"""Inbound messages through the real path (signed webhook, then the ingest
job's code), and running queued jobs in-process as a worker would."""

from __future__ import annotations

import itertools
import json
import time
from typing import Any

from django.db import connection
from django.test import Client

from parley.core.tenant import workspace_context
from parley.inbox.tasks import process_webhook
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.samples import text_webhook
from parley.whatsapp.signatures import sign
from tests.factories import Tenant

SECRET = "app-secret-123"
_wamids = itertools.count(1)


def post_inbound(
    channel: Channel, *, wa_id: str, body: str = "hello", sent_at: int | None = None
) -> None:
    payload = text_webhook(
        channel.phone_number_id,
        wamid=f"wamid.test.{next(_wamids)}.{time.monotonic_ns()}",
        wa_id=wa_id,
        body=body,
        sent_at=sent_at if sent_at is not None else int(time.time()),
    )
    response = Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        payload,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(payload, SECRET)},
    )
    assert response.status_code == 200, response.content


def drain(tenant: Tenant) -> None:
    """The ingest job for every stored webhook (what the worker runs)."""
    with workspace_context(tenant.workspace.pk):
        ids = list(WebhookEvent.objects.filter(state="received").values_list("id", flat=True))
    for event_id in ids:
        process_webhook.func(workspace_id=tenant.workspace.pk, event_id=event_id)


def inbound(
    tenant: Tenant, channel: Channel, *, wa_id: str, body: str = "hello", sent_at: int | None = None
) -> None:
    post_inbound(channel, wa_id=wa_id, body=body, sent_at=sent_at)
    drain(tenant)


def run_jobs(prefix: str) -> int:
    """Run queued jobs whose task name starts with ``prefix``, oldest first."""
    from procrastinate.contrib.django import app

    ran = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, task_name, args FROM procrastinate_jobs "
                "WHERE status = 'todo' AND task_name LIKE %s ORDER BY id LIMIT 1",
                [prefix + "%"],
            )
            row = cursor.fetchone()
            if row is None:
                return ran
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [row[0]])
        args: dict[str, Any] = json.loads(row[2]) if isinstance(row[2], str) else row[2]
        app.tasks[row[1]].func(**args)
        ran += 1


def queued(prefix: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND task_name LIKE %s",
            [prefix + "%"],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0
