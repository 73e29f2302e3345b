"""Keeping the pacer fed: threads that claim and prepare batches.

A batch's preparation mostly waits on the database (its statements, the
deferred foreign-key checks and the flush at commit), so two threads, each
on its own connection, keep the pacer supplied at a number's full cap where
one could not. Claims lock with SKIP LOCKED, so they never take the same
item; the order between their batches does not matter."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable

from django.db import connection

from parley.outbox.pacing import Send
from parley.outbox.sender import SenderProcess

THREADS = 2
# A feeder with nothing due looks again after this long (within the linger).
RETRY_SECONDS = 0.05


class Feeder:
    def __init__(
        self,
        prepare_batch: Callable[[], list[Send]],
        *,
        due_soon: Callable[[], bool],
        pacer: SenderProcess,
        ahead: int,
        deadline: float,
        threads: int = THREADS,
        extend: Callable[[], bool] | None = None,
        extension: float = 0.0,
        limit: float = 0.0,
        should_stop: Callable[[], bool] | None = None,
    ) -> None:
        self._prepare_batch = prepare_batch
        self._due_soon = due_soon
        self._pacer = pacer
        self._ahead = ahead
        self._deadline = deadline
        self._extend = extend
        self._extension = extension
        self._limit = limit
        self._should_stop = should_stop
        self._deadline_lock = threading.Lock()
        self._ended = False
        self._stop = threading.Event()
        self._exhausted = threading.Event()
        self._error: BaseException | None = None
        self._threads = [
            threading.Thread(target=self._run, name=f"outbox-feeder-{n}", daemon=True)
            for n in range(threads)
        ]
        for thread in self._threads:
            thread.start()

    @property
    def done(self) -> bool:
        """Every feeder has stopped: nothing more will be submitted."""
        return not any(thread.is_alive() for thread in self._threads)

    def check(self) -> None:
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._stop.set()
        for thread in self._threads:
            thread.join()
        self.check()

    def _past_deadline(self) -> bool:
        """The slice is over. At its end, a slice nobody is waiting for is
        extended (up to the limit): handing over would only leave a gap, the
        job queued behind nobody, and scheduled sends late."""
        with self._deadline_lock:
            if self._ended:
                return True
            if self._should_stop is not None and self._should_stop():
                self._ended = True
                return True
            if time.monotonic() < self._deadline:
                return False
            if (
                self._extend is not None
                and self._deadline + self._extension <= self._limit
                and self._extend()
            ):
                self._deadline += self._extension
                return False
            self._ended = True
            return True

    def _run(self) -> None:
        try:
            while not (self._stop.is_set() or self._exhausted.is_set()):
                if self._past_deadline():
                    return
                if self._pacer.queued >= self._ahead:
                    time.sleep(0.005)
                    continue
                sends = self._prepare_batch()
                self._pacer.submit_many(sends)
                if not sends:
                    if not self._due_soon():
                        self._exhausted.set()
                    else:
                        time.sleep(RETRY_SECONDS)
        except BaseException as exc:
            self._error = exc
            self._stop.set()
        finally:
            # This thread's own connection (Django opens one per thread).
            connection.close()
