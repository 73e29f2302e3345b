"""Sending at a channel's cap: an event loop on its own thread starts each
prepared send at evenly spaced instants, never more than the cap in any one
second as Meta counts them, and puts the answers on a queue.

Only the dispatcher's own thread touches the database; this thread only
talks HTTP. One event loop rather than a pool of threads: a request costs
a tenth of the CPU, which is what lets one process keep up with 1,000/s."""

from __future__ import annotations

import asyncio
import queue
import threading
import time
from collections import deque
from collections.abc import Awaitable, Callable, Sequence
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass, field
from typing import Any

from parley.whatsapp.errors import CloudApiError

SendMessage = Callable[[dict[str, Any]], Awaitable[str]]
OpenSender = Callable[[], AbstractAsyncContextManager[SendMessage]]

# Timer wake-ups run late; up to this much lateness is made up, so the rate
# holds. An idle spell earns no more than this, so a catch-up burst is at
# most a tenth of a second's sends (and the Window bounds any one second
# whatever happens). At 0.01 s, the wake-ups that other processes on the
# same cores delay cost the broadcast bench 4 to 8% of the cap.
CATCH_UP_SECONDS = 0.1
# The pacer wakes at most this often while waiting for its next send.
TICK_SECONDS = 0.004


@dataclass
class Send:
    item_id: int
    message_id: int
    payload: dict[str, Any]
    # Carried for the write-back: the contact's last outbound time, and
    # whether the item's source wants to hear how it ended.
    contact_id: int = 0
    source: str = ""


@dataclass
class Result:
    send: Send
    wamid: str = ""
    error: CloudApiError | None = None
    at: float = field(default_factory=time.time)
    # When the send took its place in the Window (Unix time; 0: never
    # started). ``at - started`` is what each send costs the Window.
    started: float = 0.0


class Window:
    """Never more than ``limit`` sends in any one second as Meta counts them.

    Meta counts a request when it arrives, which is somewhere between our
    start and its answer. So a send occupies the window from its start until
    one second after its answer: a new one may start only while fewer than
    ``limit`` are in flight or answered within the last second. That holds
    whatever the delays on the way; it costs the latency: about
    cap / (1 s + latency). Used from the event loop's thread only."""

    def __init__(self, limit: int, span: float = 1.0, answered_at: Sequence[float] = ()) -> None:
        """``answered_at``: Unix times of answers from before this window
        (an earlier run's on the same number), which Meta still counts."""
        self.limit = max(1, limit)
        self.span = span
        wall, mono = time.time(), time.monotonic()
        self._answered: deque[float] = deque(
            sorted(mono - (wall - at) for at in answered_at if wall - at < span)
        )
        self._in_flight = 0

    async def acquire(self) -> None:
        while True:
            now = time.monotonic()
            while self._answered and now - self._answered[0] >= self.span:
                self._answered.popleft()
            if self._in_flight + len(self._answered) < self.limit:
                self._in_flight += 1
                return
            wait = self.span - (now - self._answered[0]) if self._answered else 0.001
            await asyncio.sleep(max(wait, 0.0005))

    def release(self) -> None:
        self._in_flight -= 1
        self._answered.append(time.monotonic())


def _new_loop() -> asyncio.AbstractEventLoop:
    try:
        import uvloop
    except ImportError:  # optional: the standard loop works, a little slower
        return asyncio.new_event_loop()
    return uvloop.new_event_loop()


class Pacer:
    """Starts sends no faster than ``rate`` per second, spread evenly (to a
    few milliseconds), with at most ``max_in_flight`` unanswered and, given
    ``cap``, the Window's bound."""

    def __init__(
        self,
        *,
        rate: float,
        open_sender: OpenSender,
        max_in_flight: int,
        cap: int | None = None,
        answered_at: Sequence[float] = (),
    ) -> None:
        self.rate = max(rate, 0.1)
        self.results: queue.Queue[Result] = queue.Queue()
        self._open_sender = open_sender
        self._max_in_flight = max_in_flight
        self._cap = cap
        self._answered_at = tuple(answered_at)
        self._pending = 0
        self._lock = threading.Lock()
        self._pause_until = 0.0
        self._loop = _new_loop()
        self._todo: asyncio.Queue[Send | None] = asyncio.Queue()
        self._dead: BaseException | None = None
        self._thread = threading.Thread(target=self._thread_main, name="outbox-pacer", daemon=True)
        self._thread.start()

    def submit(self, send: Send) -> None:
        self.submit_many([send])

    def submit_many(self, sends: Sequence[Send]) -> None:
        """One wake-up of the event loop for the lot: at 1,000 sends a second,
        one per send is a thousand self-pipe writes and loop wake-ups a second
        taken from the sending."""
        if not sends:
            return
        with self._lock:
            self._pending += len(sends)
            if self._dead is None:
                self._loop.call_soon_threadsafe(self._put_many, list(sends))
                return
        for send in sends:
            self._never_sent(send)

    def _put_many(self, sends: list[Send]) -> None:
        for send in sends:
            self._todo.put_nowait(send)

    @property
    def outstanding(self) -> int:
        """Submitted and not yet answered."""
        with self._lock:
            return self._pending

    @property
    def queued(self) -> int:
        return self._todo.qsize()

    def back_off(self, seconds: float) -> None:
        """Meta said "too fast" (130429): stop sending for a moment."""
        self._pause_until = max(self._pause_until, time.monotonic() + seconds)

    def close(self) -> None:
        with self._lock:
            if self._dead is None:
                self._loop.call_soon_threadsafe(self._todo.put_nowait, None)
        self._thread.join()

    def _thread_main(self) -> None:
        asyncio.set_event_loop(self._loop)
        try:
            self._loop.run_until_complete(self._main())
        except BaseException as exc:
            with self._lock:
                self._dead = exc
            while not self._todo.empty():
                send = self._todo.get_nowait()
                if send is not None:
                    self._never_sent(send)
        finally:
            self._loop.close()

    def _never_sent(self, send: Send) -> None:
        self._done(
            Result(send=send, error=CloudApiError(message=f"the sender stopped: {self._dead}"))
        )

    def _done(self, result: Result) -> None:
        self.results.put(result)
        with self._lock:
            self._pending -= 1

    async def _main(self) -> None:
        window = Window(self._cap, answered_at=self._answered_at) if self._cap else None
        slots = asyncio.Semaphore(self._max_in_flight)
        tasks: set[asyncio.Task[None]] = set()
        async with self._open_sender() as send_message:
            # A token bucket refilled at the rate, holding at most a few
            # hundredths of a second's worth: the loop wakes every few
            # milliseconds and starts what is due, rather than sleeping a
            # millisecond per send (wake-ups that late, with other threads
            # holding the GIL, cost a quarter of the rate at 1,000/s).
            burst = max(1.0, self.rate * CATCH_UP_SECONDS)
            credit = 1.0
            last = time.monotonic()
            while True:
                send = await self._todo.get()
                if send is None:
                    break
                while True:
                    now = time.monotonic()
                    if now < self._pause_until:
                        await asyncio.sleep(self._pause_until - now)
                        credit, last = 0.0, time.monotonic()
                        continue
                    credit = min(burst, credit + (now - last) * self.rate)
                    last = now
                    if credit >= 1.0:
                        break
                    await asyncio.sleep(max((1.0 - credit) / self.rate, TICK_SECONDS))
                credit -= 1.0
                await slots.acquire()
                if window is not None:
                    await window.acquire()
                task = asyncio.create_task(
                    self._one(send_message, send, window, slots, time.time())
                )
                tasks.add(task)
                task.add_done_callback(tasks.discard)
            if tasks:
                await asyncio.gather(*tasks)

    async def _one(
        self,
        send_message: SendMessage,
        send: Send,
        window: Window | None,
        slots: asyncio.Semaphore,
        started: float,
    ) -> None:
        try:
            result = Result(send=send, wamid=await send_message(send.payload), started=started)
        except CloudApiError as exc:
            result = Result(send=send, error=exc, started=started)
        except Exception as exc:
            # It may have left: settle it by its status rather than resend.
            result = Result(
                send=send,
                error=CloudApiError(message=f"send failed: {exc}", ambiguous=True),
                started=started,
            )
        finally:
            if window is not None:
                window.release()
            slots.release()
        self._done(result)
