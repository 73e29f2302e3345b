"""Pause, resume, cancel, retry the failed ones; the broadcast's status
follows its items (the outbox's on_finished hook completes it)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta

import pytest
from django.core.exceptions import PermissionDenied
from django.utils import timezone

from parley.broadcasts import actions
from parley.broadcasts.models import Broadcast, Status
from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.outbox.hooks import Finished, on_finished_for
from parley.outbox.models import OutboundItem
from tests.factories import Tenant, actor_for

from .helpers import World, build, draft, finish, items, reload, start

pytestmark = pytest.mark.django_db


def _do(world: World, fn: Callable[..., Broadcast], broadcast: Broadcast) -> Broadcast:
    with workspace_context(world.ws.pk):
        return fn(actor=world.admin, broadcast=broadcast)


def _states(world: World, broadcast: Broadcast) -> list[str]:
    return [i.state for i in items(world, broadcast)]


def test_hook_is_registered() -> None:
    assert on_finished_for("broadcast") is actions.on_items_finished


def test_pause_resume_cancel(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world))
    paused = _do(world, actions.do_pause_broadcast, broadcast)
    assert paused.status == Status.PAUSED
    assert _states(world, broadcast) == ["held", "held"]
    with pytest.raises(ActionError):
        _do(world, actions.do_pause_broadcast, paused)
    resumed = _do(world, actions.do_resume_broadcast, paused)
    assert resumed.status == Status.SENDING
    assert _states(world, broadcast) == ["pending", "pending"]
    # One goes out, then the rest is cancelled: what went out stays sent.
    first = items(world, broadcast)[0]
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=first.pk).update(state="sent", finished_at=timezone.now())
    cancelled = _do(world, actions.do_cancel_broadcast, resumed)
    assert cancelled.status == Status.CANCELLED
    assert cancelled.finished_at is not None
    assert _states(world, broadcast) == ["sent", "cancelled"]
    for fn in (
        actions.do_pause_broadcast,
        actions.do_resume_broadcast,
        actions.do_cancel_broadcast,
    ):
        with pytest.raises(ActionError):
            _do(world, fn, cancelled)


def test_completed_when_nothing_is_left(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world))
    first = items(world, broadcast)[0]
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=first.pk).update(state="sending")
    finish(world, broadcast, "sent")
    # One item still "sending": not done yet.
    assert reload(world, broadcast).status == Status.SENDING
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=first.pk).update(state="pending")
    finish(world, broadcast, "sent")
    done = reload(world, broadcast)
    assert done.status == Status.COMPLETED and done.finished_at is not None


def test_scheduled_becomes_sending_then_completed(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    when = timezone.now() + timedelta(hours=1)
    broadcast = start(world, draft(world), when)
    assert broadcast.status == Status.SCHEDULED
    first, _second = items(world, broadcast)
    now = timezone.now()
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=first.pk).update(state="sent", finished_at=now)
        actions.on_items_finished(
            world.ws.pk, [Finished(first.pk, broadcast.pk, first.contact_id, "sent", "", now)]
        )
    sending = reload(world, broadcast)
    assert sending.status == Status.SENDING and sending.started_at == when
    finish(world, broadcast, "failed", reason="Undeliverable.")
    assert reload(world, broadcast).status == Status.COMPLETED


def test_pausing_a_scheduled_broadcast_and_resuming_keeps_its_time(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    when = timezone.now() + timedelta(hours=1)
    broadcast = start(world, draft(world), when)
    paused = _do(world, actions.do_pause_broadcast, broadcast)
    resumed = _do(world, actions.do_resume_broadcast, paused)
    assert resumed.status == Status.SCHEDULED
    assert {i.not_before for i in items(world, broadcast)} == {when}


def test_cancel_a_scheduled_broadcast(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world), timezone.now() + timedelta(days=1))
    cancelled = _do(world, actions.do_cancel_broadcast, broadcast)
    assert cancelled.status == Status.CANCELLED
    assert _states(world, broadcast) == ["cancelled", "cancelled"]
    with workspace_context(world.ws.pk), pytest.raises(ActionError):
        actions.do_reschedule_broadcast(actor=world.admin, broadcast=cancelled, scheduled_at=None)


def test_retry_failed(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world))
    finish(world, broadcast, "failed", reason="Meta error 131026: undeliverable.")
    completed = reload(world, broadcast)
    assert completed.status == Status.COMPLETED
    with workspace_context(world.ws.pk):
        retried = actions.do_retry_failed(actor=world.admin, broadcast=completed)
    assert retried == 2
    again = items(world, broadcast)
    assert [(i.state, i.reason, i.finished_at) for i in again] == [("pending", "", None)] * 2
    after = reload(world, broadcast)
    assert after.status == Status.SENDING and after.finished_at is None
    with workspace_context(world.ws.pk):
        assert actions.do_retry_failed(actor=world.admin, broadcast=after) == 0


def test_retry_failed_while_paused_stays_paused(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world))
    first = items(world, broadcast)[0]
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=first.pk).update(state="failed", reason="x")
    paused = _do(world, actions.do_pause_broadcast, broadcast)
    with workspace_context(world.ws.pk):
        assert actions.do_retry_failed(actor=world.admin, broadcast=paused) == 1
    assert _states(world, broadcast) == ["held", "held"]


def test_agents_and_viewers_cannot_steer(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world))
    for user in (tenant_a.agent, tenant_a.viewer):
        actor = actor_for(world.ws, user)
        with workspace_context(world.ws.pk), pytest.raises(PermissionDenied):
            actions.do_pause_broadcast(actor=actor, broadcast=broadcast)
    assert reload(world, broadcast).status == Status.SENDING
