"""Faults with real processes: a worker killed mid-broadcast, and the
database dropping every connection mid-broadcast. Afterwards everyone has
the message exactly once (counted on the simulator's side)."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from typing import Any

import pytest
from django.db import connection
from procrastinate.exceptions import AlreadyEnqueued

from parley.core.tasks import requeue_stalled_jobs
from parley.core.tenant import workspace_context
from parley.outbox.models import OutboundItem
from parley.outbox.tasks import defer_dispatch
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import make_tenant
from tests.workers import start_worker, stop, wait_for

from .helpers import approved_template, connect, contacts, plan, states

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


# The worker's sessions carry this name (Django's from PARLEY_PROCESS_NAME, any
# other from libpq's PGAPPNAME), so the outage below cuts them and not this
# test process's own.
WORKER_APP_NAME = "parley-fault-worker"


def _worker(sim: SimulatorHandle, **extra: str) -> Any:
    return start_worker(
        4,
        **extra,
        WHATSAPP_GRAPH_URL=sim.graph_url,
        WHATSAPP_AMBIGUOUS_GRACE_SECONDS="20",
        PARLEY_PROCESS_NAME=WORKER_APP_NAME,
        PGAPPNAME=WORKER_APP_NAME,
    )


def _sent_count(tenant: Any) -> int:
    with workspace_context(tenant.workspace.pk):
        return OutboundItem.objects.filter(state="sent").count()


def _exactly_once(sim: SimulatorHandle, pnid: str, wa_ids: list[str], tenant: Any) -> None:
    phone = sim.control.messages(pnid)
    tos = [m["to"] for m in phone]
    doubled = sorted({t for t in tos if tos.count(t) > 1})
    assert not doubled, f"sent twice to {doubled}: " + _story(tenant, phone, doubled[:3])
    assert sorted(tos) == sorted(wa_ids), "somebody was skipped"


def _story(tenant: Any, phone: list[dict[str, Any]], doubled: list[str]) -> str:
    """What both sides saw for a doubled customer: enough to tell the cause."""
    from parley.inbox.models import Message

    lines = [str([(m["id"], m["biz_opaque_callback_data"]) for m in phone if m["to"] in doubled])]
    with workspace_context(tenant.workspace.pk):
        for item in OutboundItem.objects.filter(contact__wa_id__in=doubled):
            message = Message.objects.filter(pk=item.message_id or 0).first()
            lines.append(
                f"item {item.pk}: {item.state} attempts={item.attempts} claimed={item.claimed_at}"
                f" finished={item.finished_at} reason={item.reason!r}; message "
                + (
                    f"{message.pk} {message.status} wamid={message.wamid}"
                    f" key={message.idempotency_key} attempts={message.attempts}"
                    f" last={message.last_attempt_at}"
                    if message
                    else "none"
                )
            )
    return "\n".join(lines)


def _wa_ids(tenant: Any) -> list[str]:
    from parley.crm.models import Contact

    with workspace_context(tenant.workspace.pk):
        return list(Contact.objects.values_list("wa_id", flat=True))


def _broadcast(sim: SimulatorHandle, live_server: Any, count: int) -> tuple[Any, Any]:
    """A broadcast to ``count`` contacts planned on a channel whose statuses
    come back as webhooks, as in production: after a crash, they are what
    tells a message Meta took from one it never saw."""
    tenant = make_tenant("Alpha")
    channel = connect(
        tenant, sim, f"{live_server.url}/webhooks/whatsapp/WEBHOOK", cap=20, status_delay_ms=50
    )
    # The webhook URL needs the channel's own key.
    sim.control.update_number(
        channel.phone_number_id,
        webhook_url=f"{live_server.url}/webhooks/whatsapp/{channel.webhook_key}",
    )
    template = approved_template(tenant, sim, channel)
    ids = contacts(tenant, count)
    plan(tenant, channel, ids, template=template)
    return tenant, channel


def test_worker_killed_mid_broadcast(sim: SimulatorHandle, live_server: Any) -> None:
    tenant, channel = _broadcast(sim, live_server, 150)
    worker = _worker(sim)
    try:
        with workspace_context(tenant.workspace.pk):
            defer_dispatch(tenant.workspace.pk, channel.pk)
        wait_for(lambda: _sent_count(tenant) >= 40, timeout=60, what="sending under way")
        worker.send_signal(signal.SIGKILL)  # no goodbye: in-flight sends stay "sending"
        worker.wait(10)
        before = _sent_count(tenant)
        assert before < 150
        time.sleep(1)
        worker = _worker(sim)
        # The restarted worker's clock finds the leftovers (due and stuck items).
        from parley.outbox.tasks import tick

        def finished() -> bool:
            # What the periodic jobs do each minute, now: requeue the dead
            # worker's job, then look for due and stuck sends.
            asyncio.run(requeue_stalled_jobs())
            tick()
            return states(tenant) == {"sent": 150}

        wait_for(finished, timeout=120, what="the broadcast to finish after the restart")
    finally:
        sim.control.wait_idle(10)
        stop(worker)
    _exactly_once(sim, channel.phone_number_id, _wa_ids(tenant), tenant)


def _jobs(task_name: str) -> list[tuple[str, str | None]]:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT status, lock FROM procrastinate_jobs WHERE task_name = %s ORDER BY id",
            [task_name],
        )
        return [(str(r[0]), r[1]) for r in cursor.fetchall()]


def test_worker_stopped_mid_broadcast(sim: SimulatorHandle, live_server: Any) -> None:
    """A deploy stops the worker (SIGTERM) while the outbox clock and a
    dispatcher run. Both end within the shutdown grace, leaving no lock
    behind, and the dispatcher queues its remainder: the next worker finishes
    the broadcast with no stalled-job sweep and no clock tick from here.
    (Before, the worker waited out the clock's minute; killed, its lock held
    every later clock off until the sweep, and scheduled messages fired that
    late.)"""
    from parley.outbox.tasks import clock

    tenant, channel = _broadcast(sim, live_server, 150)
    worker = _worker(sim, PARLEY_WORKER_SHUTDOWN_SECONDS="1")
    try:
        # The worker's periodic deferrer may have queued this minute's already.
        with contextlib.suppress(AlreadyEnqueued):
            clock.defer(timestamp=int(time.time()))  # type: ignore[call-arg]
        with workspace_context(tenant.workspace.pk):
            defer_dispatch(tenant.workspace.pk, channel.pk)
        wait_for(lambda: _sent_count(tenant) >= 30, timeout=60, what="sending under way")
        stopped = time.monotonic()
        worker.send_signal(signal.SIGTERM)
        worker.wait(20)
        took = time.monotonic() - stopped
        # Grace (1 s), the in-flight sends' answers, the worker's own exit.
        assert took < 10, f"the worker took {took:.1f} s to stop"
        assert _sent_count(tenant) < 150, "finished before the stop: nothing was tested"
        # Ours and, if a minute began, the periodic one: none left running.
        clocks = [status for status, _lock in _jobs("outbox.clock")]
        assert "succeeded" in clocks and "doing" not in clocks, clocks
        dispatches = [status for status, _lock in _jobs("outbox.dispatch")]
        assert "doing" not in dispatches
        assert dispatches[-1] == "todo", dispatches
        assert set(states(tenant)) <= {"sent", "pending"}, states(tenant)

        worker = _worker(sim)
        wait_for(
            lambda: states(tenant) == {"sent": 150},
            timeout=60,
            what="the next worker to finish the broadcast",
        )
    finally:
        sim.control.wait_idle(10)
        stop(worker)
    _exactly_once(sim, channel.phone_number_id, _wa_ids(tenant), tenant)


def _drop_connections(seconds: float) -> int:
    """What a database restart looks like to the worker: every one of its
    connections is cut, again and again for a while (the app's role may end
    its own sessions; no superuser needed)."""
    killed = 0
    end = time.monotonic() + seconds
    while time.monotonic() < end:
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
                    WHERE datname = current_database() AND pid <> pg_backend_pid()
                      AND usename = current_user AND application_name = %s""",
                [WORKER_APP_NAME],
            )
            killed += int(cursor.fetchone()[0])
        time.sleep(0.2)
    return killed


def test_database_connections_dropped_mid_broadcast(sim: SimulatorHandle, live_server: Any) -> None:
    tenant, channel = _broadcast(sim, live_server, 120)
    worker = _worker(sim)
    try:
        with workspace_context(tenant.workspace.pk):
            defer_dispatch(tenant.workspace.pk, channel.pk)
        wait_for(lambda: _sent_count(tenant) >= 30, timeout=60, what="sending under way")
        assert _drop_connections(2.0) > 0
        from parley.outbox.tasks import tick

        def finished() -> bool:
            tick()
            return states(tenant) == {"sent": 120}

        wait_for(finished, timeout=120, what="the broadcast to finish after the outage")
        assert worker.poll() is None, "the worker survived the outage"
    finally:
        stop(worker)
    _exactly_once(sim, channel.phone_number_id, _wa_ids(tenant), tenant)
