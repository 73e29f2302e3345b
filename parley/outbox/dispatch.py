"""One channel's dispatcher: drains due items at the channel's cap for a
bounded slice of time, then hands over (the job re-queues itself if work is
left), so many channels share the workers and none starves.

Pipeline: two feeder threads claim and prepare batches (a transaction each,
on connections of their own) while the pacer's event loop sends; a writer
thread saves the answers in bulk; this thread passes answers along.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field

import structlog
from django.db import DatabaseError, connection
from django.utils import timezone

from parley.core.events import publish_many
from parley.core.tenant import workspace_context
from parley.outbox.feeding import Feeder
from parley.outbox.finish import notify_finished
from parley.outbox.models import OutboundItem
from parley.outbox.pacing import Result, Send
from parley.outbox.prepare import Contents, Tier, claim, load_tier, prepare
from parley.outbox.recovery import recover
from parley.outbox.sender import Plan, SenderProcess
from parley.outbox.writeback import Recorder
from parley.whatsapp import cloud_async
from parley.whatsapp.access import credentials
from parley.whatsapp.models import Channel

log = structlog.get_logger(__name__)

# Below the cap by this factor: request arrival times jitter on the way to
# Meta, and a one-second span over the cap is an error for every send in it.
RATE_MARGIN = 0.985
# How long one job drains before handing the worker slot over.
SLICE_SECONDS = 20.0
# A slice nobody waits for goes on, but one job hands over after this long
# (a worker shutting down waits for its running jobs).
MAX_JOB_SECONDS = 300.0
# Answers are written back at least this often.
RECORD_EVERY = 0.2
# Wait this long for an item falling due before ending the slice early.
LINGER_SECONDS = 1.0


@dataclass
class Run:
    sent: int = 0
    failed: int = 0
    skipped: int = 0
    retried: int = 0
    more: bool = False
    seconds: float = 0.0
    conversation_ids: set[int] = field(default_factory=set)
    lock: threading.Lock = field(default_factory=threading.Lock, repr=False)


def dispatch(
    *,
    workspace_id: int,
    channel_id: int,
    slice_seconds: float | None = None,
    should_stop: Callable[[], bool] | None = None,
) -> Run:
    """Drain the channel's due items for one slice; ``more`` says to go on.
    ``should_stop`` (the worker is stopping) ends the slice early: nothing
    new is claimed, what is in flight is answered and saved."""
    started = time.monotonic()
    run = Run()
    with workspace_context(workspace_id):
        channel = Channel.objects.filter(pk=channel_id).first()
        if channel is None or channel.status != Channel.Status.ACTIVE:
            return run  # items wait; enabling the channel kicks them again
        finished, _requeued = recover(channel)
        tier = load_tier(channel)
    notify_finished(workspace_id, finished)
    creds = credentials(channel)
    rate = channel.throughput_cap * RATE_MARGIN
    batch_size = max(5, min(500, int(rate / 2)))
    in_flight = max(8, min(256, int(rate / 10) + 8))
    pacer = SenderProcess(
        Plan(
            target=cloud_async.Target.for_channel(creds),
            rate=rate,
            cap=channel.throughput_cap,
            max_in_flight=in_flight,
            answered_at=tuple(channel.pacing_tail or ()),
        )
    )
    tail = Tail()
    contents = Contents()
    deadline = started + (SLICE_SECONDS if slice_seconds is None else slice_seconds)
    answers: list[Result] = []
    last_record = time.monotonic()
    recorder = Recorder(workspace_id, on_throttled=lambda: pacer.back_off(1.0))
    feeder = Feeder(
        lambda: _prepare_batch(workspace_id, channel, batch_size, contents, tier, run),
        due_soon=lambda: _due_soon(workspace_id, channel),
        pacer=pacer,
        # About two batches ahead of the pacer, no more: a pause or cancel
        # must stop what has not been handed over yet.
        ahead=2 * batch_size,
        deadline=deadline,
        # Under a messaging tier the free slots go to items in the order they
        # fell due, which takes one feeder; such numbers send at most their
        # tier (100,000 a day at most) and one feeder keeps up with that.
        threads=1 if tier.limit is not None else 2,
        extend=lambda: _nobody_waiting(channel_id),
        extension=deadline - started,
        limit=started + MAX_JOB_SECONDS,
        should_stop=should_stop,
    )
    try:
        while True:
            while not pacer.results.empty():
                answers.append(tail.note(pacer.results.get_nowait()))
            if answers and (
                len(answers) >= batch_size or time.monotonic() - last_record >= RECORD_EVERY
            ):
                recorder.put(answers)
                answers = []
                last_record = time.monotonic()
            recorder.check()
            feeder.check()
            if feeder.done and pacer.outstanding == 0 and pacer.results.empty():
                break
            time.sleep(0.01)
    finally:
        feeder.close()
        pacer.close()
        while not pacer.results.empty():
            answers.append(tail.note(pacer.results.get_nowait()))
        if answers:
            recorder.put(answers)
        recorder.close()
        try:
            tail.save(workspace_id, channel)
        except DatabaseError:
            # Only the next run's pacing is the worse for it (and any error
            # that brought us here must not be masked).
            log.warning("outbox_tail_not_saved", channel_id=channel_id, exc_info=True)
    run.sent, run.failed, run.retried = (
        recorder.sent,
        run.failed + recorder.failed,
        recorder.retried,
    )
    with workspace_context(workspace_id):
        run.more = _due_now(channel)
    if run.conversation_ids:
        publish_many(workspace_id, "conversation", sorted(run.conversation_ids))
    run.seconds = time.monotonic() - started
    if run.sent or run.failed or run.skipped:
        log.info(
            "outbox_slice",
            channel_id=channel_id,
            sent=run.sent,
            failed=run.failed,
            skipped=run.skipped,
            retried=run.retried,
            seconds=round(run.seconds, 2),
            rate=round(run.sent / run.seconds, 1) if run.seconds else 0,
            **tail.held_figures(),
        )
    return run


class Tail:
    """The times of the answers of the run's final second, kept for the next
    run on the number (Channel.pacing_tail): each run has a pacing window of
    its own, and one starting within a second of the last would not know
    what Meta still counts, and could go over the cap."""

    def __init__(self) -> None:
        self.times: deque[float] = deque()
        # How long each send held its place in the Window, start to answer:
        # the Window's ceiling is cap / (1 s + their mean), so the slice's log
        # says whether a rate below the cap was this or the feeding.
        self.held: list[float] = []

    def note(self, result: Result) -> Result:
        if result.started:
            self.held.append(result.at - result.started)
        self.times.append(result.at)
        while self.times and result.at - self.times[0] >= 1.0:
            self.times.popleft()
        return result

    def held_figures(self) -> dict[str, float]:
        if not self.held:
            return {}
        held = sorted(self.held)
        mean = sum(held) / len(held)
        return {
            "answer_ms_mean": round(mean * 1000, 1),
            "answer_ms_p50": round(held[len(held) // 2] * 1000, 1),
            "answer_ms_p99": round(held[min(len(held) - 1, len(held) * 99 // 100)] * 1000, 1),
            "window_ceiling": round(1 / (1 + mean), 3),
        }

    def save(self, workspace_id: int, channel: Channel) -> None:
        now = time.time()
        recent = sorted(t for t in self.times if now - t < 1.0)
        if not recent and not channel.pacing_tail:
            return  # nothing to hand over, nothing stale to clear: no write
        with workspace_context(workspace_id):
            Channel.objects.filter(pk=channel.pk).update(pacing_tail=recent or None)


def _prepare_batch(
    workspace_id: int, channel: Channel, limit: int, contents: Contents, tier: Tier, run: Run
) -> list[Send]:
    # Everything claimed may end here (skipped, failed, waiting for the
    # tier): then claim again at once rather than report "no work" (bounded).
    for _ in range(50):
        with workspace_context(workspace_id):
            items = claim(channel, limit)
            batch = prepare(channel, items, contents, tier)
            if batch.template_uses:
                _record_usage(workspace_id, batch.template_uses)
        ended = [i for i in batch.finished if i.state != OutboundItem.State.PENDING]
        with run.lock:
            run.conversation_ids.update(batch.conversation_ids)
            run.skipped += sum(1 for i in ended if i.state == OutboundItem.State.SKIPPED)
            run.failed += sum(1 for i in ended if i.state == OutboundItem.State.FAILED)
        notify_finished(workspace_id, [i.id for i in ended], {i.source for i in ended})
        if batch.sends or not batch.claimed:
            return batch.sends
    return []


def _record_usage(workspace_id: int, uses: dict[tuple[int, str, int], int]) -> None:
    from parley.msgtemplates import usage

    for (template_id, source, source_id), count in uses.items():
        usage.record(
            workspace_id=workspace_id,
            template_id=template_id,
            source=source,
            source_id=source_id,
            count=count,
        )


def _due_now(channel: Channel) -> bool:
    return OutboundItem.objects.filter(
        channel=channel, state=OutboundItem.State.PENDING, not_before__lte=timezone.now()
    ).exists()


def _nobody_waiting(channel_id: int) -> bool:
    """No other channel's dispatcher is queued for a worker slot.

    The clock queues the next slice of a channel that is being dispatched
    (one queued beside one running), and that job cannot start while the
    running one holds the channel's lock: it waits for its channel, not for a
    slot, so it does not count. Counted, every channel's slice ended when two
    or more sent at once, and each new slice spawned a sender process again."""
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT NOT EXISTS (
                   SELECT 1 FROM procrastinate_jobs t
                    WHERE t.queue_name = 'outbox' AND t.status = 'todo'
                      AND t.task_name = 'outbox.dispatch'
                      AND t.queueing_lock IS DISTINCT FROM %s
                      AND (t.scheduled_at IS NULL OR t.scheduled_at <= now())
                      AND NOT EXISTS (
                          SELECT 1 FROM procrastinate_jobs d
                           WHERE d.status = 'doing' AND d.lock = t.lock))""",
            [f"outbox-dispatch-{channel_id}"],
        )
        row = cursor.fetchone()
        return bool(row and row[0])


def _due_soon(workspace_id: int, channel: Channel) -> bool:
    """Something falls due within the linger time (so keep the slot)."""
    with workspace_context(workspace_id), connection.cursor() as cursor:
        cursor.execute(
            """SELECT 1 FROM outbox_outbounditem
                    WHERE workspace_id = %s AND channel_id = %s AND state = 'pending'
                      AND not_before <= now() + make_interval(secs => %s) LIMIT 1""",
            [workspace_id, channel.pk, LINGER_SECONDS],
        )
        return cursor.fetchone() is not None
