"""The pacer in a process of its own.

The dispatcher's threads spend their time in Python (rendering, building
batches) as much as waiting on the database, and an event loop that must wake
a thousand times a second starves behind them on the GIL: measured, the pacer
alone keeps 941 sends/s against the simulator, 584/s beside one busy thread.
So the sending runs in a child process (spawned: nothing of the parent's
connections or threads is inherited), with the same interface as ``Pacer``.

Sends go down a pipe in batches, answers come back in batches. If the child
dies, whatever it had not answered comes back as ambiguous: those items stay
"sending" and recovery settles them by Meta's statuses, never by resending
blindly."""

from __future__ import annotations

import contextlib
import multiprocessing
import queue
import sys
import threading
from dataclasses import dataclass
from multiprocessing.connection import Connection
from typing import Any

from parley.core import gc_tuning
from parley.outbox.pacing import Pacer, Result, Send
from parley.whatsapp import cloud_async
from parley.whatsapp.errors import CloudApiError

# Seconds a thread holds the GIL before one waiting for it gets a turn.
SWITCH_INTERVAL = 0.0005

# An answer travels as (item id, wamid, error fields or None, answered at,
# started at).
Answer = tuple[int, str, tuple[str, int | None, int | None, bool] | None, float, float]


@dataclass(frozen=True)
class Plan:
    target: cloud_async.Target
    rate: float
    cap: int
    max_in_flight: int
    # Unix times of the previous run's last answers (Channel.pacing_tail).
    answered_at: tuple[float, ...] = ()


class SenderProcess:
    """``Pacer``'s interface, sending from a child process."""

    def __init__(self, plan: Plan) -> None:
        self.max_in_flight = plan.max_in_flight
        self.results: queue.Queue[Result] = queue.Queue()
        self._sends: dict[int, Send] = {}
        self._lock = threading.Lock()
        context = multiprocessing.get_context("spawn")
        self._down, child_in = context.Pipe(duplex=False)[::-1]
        parent_in, child_out = context.Pipe(duplex=False)
        self._up = parent_in
        self._process = context.Process(
            target=child_main, args=(child_in, child_out, plan), name="outbox-sender", daemon=True
        )
        self._process.start()
        child_in.close()
        child_out.close()
        self._reader = threading.Thread(target=self._read, name="outbox-sender-read", daemon=True)
        self._reader.start()

    def submit_many(self, sends: list[Send]) -> None:
        if not sends:
            return
        with self._lock:
            for send in sends:
                self._sends[send.item_id] = send
        self._down.send(("sends", [(s.item_id, s.payload) for s in sends]))

    def submit(self, send: Send) -> None:
        self.submit_many([send])

    @property
    def outstanding(self) -> int:
        with self._lock:
            return len(self._sends)

    @property
    def queued(self) -> int:
        """Not yet started, about: what is outstanding beyond a full window."""
        return max(0, self.outstanding - self.max_in_flight)

    def back_off(self, seconds: float) -> None:
        # If the child is gone, its sends come back as ambiguous anyway.
        with contextlib.suppress(OSError):
            self._down.send(("pause", seconds))

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self._down.send(None)
        self._reader.join()
        self._process.join(timeout=10)
        if self._process.is_alive():
            self._process.kill()
        self._down.close()

    def _read(self) -> None:
        try:
            while True:
                answers: list[Answer] | None = self._up.recv()
                if answers is None:
                    break
                for item_id, wamid, error, at, started in answers:
                    with self._lock:
                        send = self._sends.pop(item_id, None)
                    if send is None:
                        continue
                    failure = (
                        CloudApiError(
                            message=error[0],
                            code=error[1],
                            http_status=error[2],
                            ambiguous=error[3],
                        )
                        if error
                        else None
                    )
                    self.results.put(
                        Result(send=send, wamid=wamid, error=failure, at=at, started=started)
                    )
        except (EOFError, OSError):
            pass
        finally:
            # Whatever the child did not answer may or may not have left.
            with self._lock:
                left = list(self._sends.values())
                self._sends.clear()
            for send in left:
                self.results.put(
                    Result(
                        send=send,
                        error=CloudApiError(message="the sender process stopped", ambiguous=True),
                    )
                )
            self._up.close()


def child_main(down: Connection, up: Connection, plan: Plan) -> None:
    """The child: a Pacer fed from the pipe, its answers sent back in batches."""
    # Three threads share the GIL here (the pipe reader, the forwarder and the
    # Pacer's event loop). A thread that wants the GIL waits up to the switch
    # interval (5 ms by default) for the one holding it, and for the loop
    # that wait is added to answer times, which bound the rate (see Window).
    sys.setswitchinterval(SWITCH_INTERVAL)
    gc_tuning.settle()
    pacer = Pacer(
        rate=plan.rate,
        open_sender=lambda: cloud_async.messages_sender(
            plan.target, connections=plan.max_in_flight
        ),
        max_in_flight=plan.max_in_flight,
        cap=plan.cap,
        answered_at=plan.answered_at,
    )
    forward = threading.Thread(target=_forward, args=(pacer, up), daemon=True)
    forward.start()
    try:
        while True:
            message: Any = down.recv()
            if message is None:
                break
            kind, value = message
            if kind == "sends":
                pacer.submit_many(
                    [
                        Send(item_id=item_id, message_id=0, payload=payload)
                        for item_id, payload in value
                    ]
                )
            elif kind == "pause":
                pacer.back_off(float(value))
    except EOFError:
        pass  # the parent is gone: finish what was started, then stop
    finally:
        pacer.close()
        pacer.results.put(_DONE)
        forward.join()
        up.send(None)
        up.close()


_DONE = Result(send=Send(item_id=-1, message_id=0, payload={}))


def _forward(pacer: Pacer, up: Connection) -> None:
    while True:
        first = pacer.results.get()
        batch = [first]
        while len(batch) < 500:
            try:
                batch.append(pacer.results.get_nowait())
            except queue.Empty:
                break
        done = any(r is _DONE for r in batch)
        answers: list[Answer] = [
            (
                r.send.item_id,
                r.wamid,
                (r.error.message, r.error.code, r.error.http_status, r.error.ambiguous)
                if r.error
                else None,
                r.at,
                r.started,
            )
            for r in batch
            if r is not _DONE
        ]
        if answers:
            up.send(answers)
        if done:
            return
