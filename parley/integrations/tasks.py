"""Webhook jobs: fan a domain event out into deliveries, send due
deliveries, and a minute sweep that wakes senders for retries falling due."""

from __future__ import annotations

import contextlib
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from parley.core.jobs import tenant_task
from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.integrations import fanout, sender
from parley.integrations.models import Delivery, DeliveryStatus

log = structlog.get_logger(__name__)

# One sender job works this long, then hands over to a fresh one (its slot
# goes back to the queue between, so webhooks never starve other jobs).
SENDER_SECONDS = 20.0
BATCH = 500
# A fan-out sends its own deliveries when there are at most this many (low
# latency for a trickle); bigger ones go to the sender, whose batches of 500
# cost less per delivery (measured in bench/webhooks.py).
SEND_INLINE_MAX = 50
# Senders go ahead of fan-outs (and other default-priority jobs): during a
# burst, deliveries already planned are sent before more are planned; measured
# without it, the first sender waited 6 s behind 100 fan-outs.
SENDER_PRIORITY = 10
# Retries due sooner than the sweep's next run are woken up exactly.
WAKE_WITHIN = timedelta(seconds=60)


@tenant_task(name="integrations.fan_out", atomic=False)
def fan_out(*, workspace_id: int, event_type: str, key: str, at: str, data: dict[str, Any]) -> None:
    """Create the deliveries, commit, then send them right here: one job hop
    less between the event and the receiver. What this run cannot take (a
    big fan-out, a failure) is left to the sender job."""
    with workspace_context(workspace_id):
        created, held = fanout.fan_out(
            workspace_id=workspace_id,
            event_type=event_type,
            key=key,
            at=datetime.fromisoformat(at),
            data=data,
            hold_up_to=SEND_INLINE_MAX,
        )
    if not created:
        return
    if not held:
        with transaction.atomic():
            kick(workspace_id)
        return
    finished = 0
    try:
        items = sender.claim(workspace_id, limit=len(created), ids=created)
        finished = len(sender.record(workspace_id, items, sender.send(items)))
    finally:
        if finished < len(created):
            # Retries to wake up, or rows this run did not get to: the sender's.
            with transaction.atomic():
                kick(workspace_id)


def send_task(workspace_id: int) -> Any:
    """At most one sender queued per workspace (several may run: SKIP LOCKED
    gives each its own rows)."""
    return app.configure_task(
        name="integrations.send",
        queueing_lock=f"webhooks-send-{workspace_id}",
        priority=SENDER_PRIORITY,
    )


@tenant_task(name="integrations.send", retry=False, atomic=False)
def send(*, workspace_id: int) -> None:
    if sender.deliver_due(workspace_id, limit=BATCH, max_seconds=SENDER_SECONDS):
        with transaction.atomic():
            kick(workspace_id)
        return
    # Nothing due now: a retry due within the sweep's minute gets its own
    # wake-up (under another lock, so it does not hold back fresh events).
    with workspace_context(workspace_id):
        soonest = (
            Delivery.objects.filter(workspace_id=workspace_id, status=DeliveryStatus.PENDING)
            .order_by("next_attempt_at")
            .values_list("next_attempt_at", flat=True)
            .first()
        )
        if soonest is not None and soonest - timezone.now() < WAKE_WITHIN:
            with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
                app.configure_task(
                    name="integrations.send",
                    queueing_lock=f"webhooks-wake-{workspace_id}",
                    schedule_at=max(soonest, timezone.now()),
                    priority=SENDER_PRIORITY,
                ).defer(workspace_id=workspace_id)


def kick(workspace_id: int) -> None:
    """Start a sender for the workspace (in the caller's transaction)."""
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        send_task(workspace_id).defer(workspace_id=workspace_id)


def workspaces_due() -> list[int]:
    with (
        transaction.atomic(),
        dangerously_cross_tenant(reason="webhook sweep: which workspaces have due deliveries"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            """SELECT DISTINCT workspace_id FROM integrations_delivery
                WHERE status = 'pending' AND next_attempt_at <= clock_timestamp()"""
        )
        return [int(r[0]) for r in cursor.fetchall()]


@app.periodic(cron="* * * * *", periodic_id="webhooks_sweep")
@app.task(name="integrations.sweep", queueing_lock="integrations.sweep")
def sweep(timestamp: int) -> int:
    """Retries fall due long after their sender finished: wake one up."""
    due = workspaces_due()
    for workspace_id in due:
        with transaction.atomic():
            kick(workspace_id)
    return len(due)
