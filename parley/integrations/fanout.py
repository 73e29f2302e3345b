"""From one domain event to deliveries: render each webhook event once, and
create one delivery per (subscribed endpoint, event)."""

from __future__ import annotations

import json
import uuid
from datetime import datetime, timedelta
from typing import Any

from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.utils import timezone

from parley.integrations import payloads
from parley.integrations.catalogue import PING
from parley.integrations.models import Delivery, Endpoint

# How long deliveries held for their fan-out job stay invisible to senders.
LEASE = timedelta(seconds=60)
# Webhook event ids: uuid5 of the emit's key and the row's position.
NAMESPACE = uuid.UUID("6f0c8a52-4c1e-4b8e-9a7d-2a7f0e9c1b11")


def envelope(
    *, event_id: uuid.UUID, event_type: str, at: datetime, workspace_id: int, data: dict[str, Any]
) -> dict[str, Any]:
    return {
        "id": str(event_id),
        "type": event_type,
        "created_at": at.isoformat(),
        "workspace_id": workspace_id,
        "data": data,
    }


def fan_out(
    *,
    workspace_id: int,
    event_type: str,
    key: str,
    at: datetime,
    data: dict[str, Any],
    hold_up_to: int = 0,
) -> tuple[list[int], bool]:
    """Create the deliveries of one domain event (idempotent: a second run
    adds nothing); returns the ids of those it created, and whether they are
    held for the caller to send: at most ``hold_up_to`` are, created due only
    after a lease, so a running sender does not take them from under the
    caller (and they still go out if the caller dies)."""
    endpoints = list(
        Endpoint.objects.filter(
            workspace_id=workspace_id, enabled=True, events__contains=[event_type]
        ).values_list("pk", flat=True)
    )
    if not endpoints:
        return [], False
    rendered = payloads.render(workspace_id, event_type, data)
    event_ids: list[str] = []
    bodies: list[str] = []
    for n, item in enumerate(rendered):
        event_id = uuid.uuid5(NAMESPACE, f"{key}:{n}")
        event_ids.append(str(event_id))
        bodies.append(
            json.dumps(
                envelope(
                    event_id=event_id,
                    event_type=event_type,
                    at=at,
                    workspace_id=workspace_id,
                    data=item,
                ),
                cls=DjangoJSONEncoder,
                ensure_ascii=False,
            )
        )
    if not bodies:
        return [], False
    held = len(bodies) * len(endpoints) <= hold_up_to
    # One statement for every (endpoint, event) pair; the unique constraint
    # makes a second run of the same job add nothing.
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO integrations_delivery (workspace_id, endpoint_id, event_id,
                   event_type, payload, status, attempts, next_attempt_at, last_body_excerpt,
                   error, window_start, event_at, created_at)
               SELECT %s, e.id, v.event_id, %s, v.body::jsonb, 'pending', 0,
                      clock_timestamp() + make_interval(secs => %s), '', '', now(), %s, now()
                 FROM unnest(%s::bigint[]) AS e(id),
                      unnest(%s::uuid[], %s::text[]) AS v(event_id, body)
               ON CONFLICT DO NOTHING
               RETURNING id""",
            [
                workspace_id,
                event_type,
                LEASE.total_seconds() if held else 0,
                at,
                endpoints,
                event_ids,
                bodies,
            ],
        )
        return [int(r[0]) for r in cursor.fetchall()], held


def ping(*, workspace_id: int, endpoint: Endpoint) -> Delivery:
    """The test event: one delivery to one endpoint, enabled or not."""
    now = timezone.now()
    event_id = uuid.uuid4()
    data = {"message": "A test event from Parley.", "endpoint_id": endpoint.pk}
    return Delivery.objects.create(
        workspace_id=workspace_id,
        endpoint=endpoint,
        event_id=event_id,
        event_type=PING,
        payload=envelope(
            event_id=event_id, event_type=PING, at=now, workspace_id=workspace_id, data=data
        ),
        event_at=now,
    )
