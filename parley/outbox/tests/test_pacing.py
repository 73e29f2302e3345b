"""The pacing window across dispatcher runs: Meta counts a number's sends of
the last second whichever run made them, so a run starts with the answers
its predecessor got in its final second (Channel.pacing_tail)."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import pytest

from parley.core.tenant import workspace_context
from parley.outbox.dispatch import dispatch
from parley.outbox.pacing import Send, Window
from parley.outbox.sender import Plan, SenderProcess
from parley.whatsapp import cloud_async
from parley.whatsapp.access import credentials
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import make_tenant

from .helpers import approved_template, connect, contacts, plan, states


def _wait_for_slot(window: Window) -> float:
    async def go() -> float:
        started = time.monotonic()
        await window.acquire()
        return time.monotonic() - started

    return asyncio.run(go())


def test_a_window_starts_with_the_answers_it_is_given() -> None:
    assert _wait_for_slot(Window(3)) < 0.05
    now = time.time()
    # Three answers 0.4 s ago fill a window of three until they are 1 s old.
    assert 0.5 < _wait_for_slot(Window(3, answered_at=[now - 0.4] * 3)) < 0.8
    # Two leave a slot free; answers older than a second count for nothing.
    assert _wait_for_slot(Window(3, answered_at=[now - 0.4] * 2)) < 0.05
    assert _wait_for_slot(Window(3, answered_at=[now - 1.5] * 3)) < 0.05


@pytest.fixture
def graph(sim: SimulatorHandle, settings: Any) -> SimulatorHandle:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    return sim


def _first_answer_after(channel: Channel, answered_at: tuple[float, ...]) -> tuple[float, float]:
    """Seconds from submission to the start and to the answer of a sender
    process's first send (a real child process, sending to the simulator),
    given an earlier run's answers."""
    sender = SenderProcess(
        Plan(
            target=cloud_async.Target.for_channel(credentials(channel)),
            rate=50,
            cap=5,
            max_in_flight=8,
            answered_at=answered_at,
        )
    )
    try:
        # The child's start-up (a spawned interpreter) is not part of the wait.
        time.sleep(1.5)
        started = time.time()
        payload = {"to": "15550001111", "type": "text", "text": {"body": "hi"}}
        sender.submit(Send(item_id=1, message_id=0, payload=payload))
        result = sender.results.get(timeout=10)
        assert result.error is None, result.error
        return result.started - started, result.at - started
    finally:
        sender.close()


@pytest.mark.django_db(transaction=True)
def test_a_sender_process_waits_for_what_meta_still_counts(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Tail")
    channel = connect(tenant, graph, cap=5)
    start, answer = _first_answer_after(channel, ())
    assert 0 <= start < answer < 0.5
    # Five answers (the cap) that will be 0.1 s old when the send is
    # submitted: the first send waits for them to age past one second. Its
    # start (what the slice log's answer times are measured from) is when
    # the Window let it go, not when it was submitted.
    full = tuple([time.time() + 1.5 - 0.1] * 5)
    start, answer = _first_answer_after(channel, full)
    assert start > 0.7 and 0 < answer - start < 0.5


@pytest.mark.django_db(transaction=True)
def test_each_run_hands_its_last_second_to_the_next(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Relay")
    channel = connect(tenant, graph, cap=20)
    template = approved_template(tenant, graph, channel)
    plan(tenant, channel, contacts(tenant, 60), template=template)
    ws = tenant.workspace.pk

    def tail() -> list[float] | None:
        with workspace_context(ws):
            return Channel.objects.get(pk=channel.pk).pacing_tail

    # A slice nobody waits for goes on: stop this one after a second, as a
    # worker shutting down would.
    stop_at = time.monotonic() + 1.0
    first = dispatch(
        workspace_id=ws, channel_id=channel.pk, should_stop=lambda: time.monotonic() > stop_at
    )
    ended = time.time()
    assert first.sent and first.more
    kept = tail()
    assert kept and len(kept) <= 20
    # The answers of the run's final second, and only those.
    assert max(kept) <= ended and max(kept) - min(kept) < 1.0

    second = dispatch(workspace_id=ws, channel_id=channel.pk, slice_seconds=30)
    assert second.sent == 60 - first.sent and not second.more
    assert states(tenant) == {"sent": 60}
    assert tail()
    # A run with nothing to send, a second later, clears the stale tail.
    time.sleep(1.1)
    dispatch(workspace_id=ws, channel_id=channel.pk, slice_seconds=1.0)
    assert tail() is None
