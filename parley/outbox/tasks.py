"""Outbox jobs: one dispatcher per channel, and the clock that starts them."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from typing import Any

import structlog
from django.db import close_old_connections, connection, transaction
from procrastinate import JobContext
from procrastinate.contrib.django import app
from procrastinate.exceptions import AlreadyEnqueued

from parley.core.jobs import tenant_task
from parley.core.tenant import dangerously_cross_tenant
from parley.outbox.dispatch import dispatch
from parley.outbox.recovery import grace

log = structlog.get_logger(__name__)

# The clock looks for due work this often; it bounds how late a scheduled
# message can fire (plus the dispatcher's start).
CLOCK_TICK_SECONDS = 0.2
# One clock job lives this long, then the next minute's takes over.
CLOCK_LIFETIME_SECONDS = 58.0
# Look this far ahead, so the dispatcher is already running at the due time.
CLOCK_LEAD_SECONDS = 0.3


def dispatch_task(channel_id: int, **options: Any) -> Any:
    """The dispatcher job of one channel: at most one queued and one running."""
    return app.configure_task(
        name="outbox.dispatch",
        queueing_lock=f"outbox-dispatch-{channel_id}",
        lock=f"outbox-dispatch-{channel_id}",
        **options,
    )


@tenant_task(name="outbox.dispatch", queue="outbox", retry=False, atomic=False, stoppable=True)
def dispatch_job(
    *, workspace_id: int, channel_id: int, should_stop: Callable[[], bool] = lambda: False
) -> None:
    run = dispatch(workspace_id=workspace_id, channel_id=channel_id, should_stop=should_stop)
    if run.more:
        # Hand the slot over; the next slice is queued behind other jobs (or,
        # when this worker is stopping, for another worker).
        defer_dispatch(workspace_id, channel_id)


def defer_dispatch(workspace_id: int, channel_id: int) -> None:
    with contextlib.suppress(AlreadyEnqueued), transaction.atomic():
        dispatch_task(channel_id).defer(workspace_id=workspace_id, channel_id=channel_id)


def channels_due() -> list[tuple[int, int]]:
    """(workspace, channel) pairs with an item due (or stuck sending past the
    grace). A skip-scan over the pending index: one probe per channel."""
    reason = "outbox clock: which channels have due sends"
    with dangerously_cross_tenant(reason=reason), connection.cursor() as cursor:
        cursor.execute(
            """WITH RECURSIVE ch AS (
                       (SELECT channel_id, not_before FROM outbox_outbounditem
                         WHERE state = 'pending' ORDER BY channel_id, not_before LIMIT 1)
                       UNION ALL
                       SELECT n.channel_id, n.not_before FROM ch, LATERAL (
                           SELECT channel_id, not_before FROM outbox_outbounditem
                            WHERE state = 'pending' AND channel_id > ch.channel_id
                            ORDER BY channel_id, not_before LIMIT 1) n)
                   SELECT c.workspace_id, c.id
                     FROM ch JOIN whatsapp_channel c ON c.id = ch.channel_id
                    WHERE ch.not_before <= now() + make_interval(secs => %s)
                      AND c.status = 'active'
                   UNION
                   SELECT DISTINCT i.workspace_id, i.channel_id FROM outbox_outbounditem i
                    WHERE i.state = 'sending'
                      AND i.claimed_at < now() - make_interval(secs => %s)""",
            [CLOCK_LEAD_SECONDS, grace().total_seconds()],
        )
        return [(int(w), int(c)) for w, c in cursor.fetchall()]


def tick() -> int:
    """One look: start the dispatcher of every channel with due work."""
    pairs = channels_due()
    for workspace_id, channel_id in pairs:
        defer_dispatch(workspace_id, channel_id)
    return len(pairs)


@app.periodic(cron="* * * * *", periodic_id="outbox_clock")
@app.task(
    name="outbox.clock",
    queue="outbox",
    queueing_lock="outbox.clock",
    lock="outbox.clock",
    pass_context=True,
)
def clock(context: JobContext, timestamp: int) -> None:
    """Runs a minute, looking for due sends every tick; the next minute's
    job takes over (the lock keeps it to one at a time). A stopping worker
    ends it: its lock must not outlive the worker."""
    end = time.monotonic() + CLOCK_LIFETIME_SECONDS
    while time.monotonic() < end and not context.should_abort():
        close_old_connections()
        try:
            tick()
        except Exception:
            log.exception("outbox_clock_tick_failed")
        time.sleep(CLOCK_TICK_SECONDS)
