"""Shared bits of the webhook tests."""

from __future__ import annotations

import json
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.integrations import actions, sender
from parley.integrations.models import Delivery, Endpoint
from tests.factories import Tenant, actor_for


def make_endpoint(
    tenant: Tenant, url: str, events: list[str] | None = None
) -> tuple[Endpoint, str]:
    with workspace_context(tenant.workspace.pk):
        return actions.do_create_endpoint(
            actor=actor_for(tenant.workspace, tenant.owner),
            fields=actions.EndpointFields(url=url, events=events or ["contact.created"]),
        )


def run_fan_outs() -> int:
    """Run the queued fan-out jobs in-process (what a worker would), oldest first."""
    from parley.integrations.tasks import fan_out

    ran = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT id, args FROM procrastinate_jobs WHERE status = 'todo' "
                "AND task_name = 'integrations.fan_out' ORDER BY id LIMIT 1"
            )
            row = cursor.fetchone()
            if row is None:
                return ran
            cursor.execute("DELETE FROM procrastinate_jobs WHERE id = %s", [row[0]])
        args = json.loads(row[1]) if isinstance(row[1], str) else row[1]
        fan_out.func(**args)
        ran += 1


def queued(task_name: str) -> int:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT count(*) FROM procrastinate_jobs WHERE status = 'todo' AND task_name = %s",
            [task_name],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else 0


def deliver_round(tenant: Tenant) -> int:
    """Make every pending delivery due (the backoff has passed), then one sender round."""
    with workspace_context(tenant.workspace.pk):
        Delivery.objects.filter(workspace=tenant.workspace, status="pending").update(
            next_attempt_at=timezone.now()
        )
    return sender.deliver(tenant.workspace.pk)


def deliveries(tenant: Tenant, **filters: Any) -> list[Delivery]:
    with workspace_context(tenant.workspace.pk):
        return list(
            Delivery.objects.filter(workspace=tenant.workspace, **filters)
            .select_related("endpoint")
            .order_by("pk")
        )


def endpoint_now(tenant: Tenant, endpoint: Endpoint) -> Endpoint:
    with workspace_context(tenant.workspace.pk):
        return Endpoint.objects.get(pk=endpoint.pk)
