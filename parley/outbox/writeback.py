"""Writing Meta's answers back on a thread and connection of their own.

The dispatcher's thread prepares the next batch while this one saves the
last answers: the two transactions wait on the database (a commit's flush
to disk is tens of milliseconds on some machines) at the same time instead
of one after the other. Lost answers (a crash before the write) are not
lost sends: their items stay "sending" and recovery settles them by Meta's
statuses."""

from __future__ import annotations

import functools
import queue
import threading
from collections.abc import Callable

from django.db import connection

from parley.core.tenant import workspace_context
from parley.core.transient import redo
from parley.outbox.finish import notify_finished
from parley.outbox.pacing import Result
from parley.outbox.record import Outcome, record


class Recorder:
    def __init__(self, workspace_id: int, *, on_throttled: Callable[[], None]) -> None:
        self.workspace_id = workspace_id
        self.sent = 0
        self.failed = 0
        self.retried = 0
        self._on_throttled = on_throttled
        self._queue: queue.Queue[list[Result] | None] = queue.Queue()
        self._error: BaseException | None = None
        self._thread = threading.Thread(target=self._run, name="outbox-writeback", daemon=True)
        self._thread.start()

    def put(self, answers: list[Result]) -> None:
        self._queue.put(answers)

    def check(self) -> None:
        """Raise what broke the writer, in the dispatcher's thread."""
        if self._error is not None:
            raise self._error

    def close(self) -> None:
        self._queue.put(None)
        self._thread.join()
        self.check()

    def _run(self) -> None:
        try:
            while (answers := self._queue.get()) is not None:
                if self._error is not None:
                    continue  # drain: what is left stays "sending" for recovery
                outcome = redo(functools.partial(self._record, answers), what="outbox write-back")
                self.sent += outcome.sent
                self.failed += outcome.failed
                self.retried += outcome.retried
                if outcome.throttled:
                    self._on_throttled()
                notify_finished(
                    self.workspace_id,
                    [i for i, _s in outcome.finished],
                    {s for _i, s in outcome.finished},
                )
        except BaseException as exc:
            self._error = exc
            while self._queue.get() is not None:
                pass
        finally:
            # This thread's own connection (Django opens one per thread).
            connection.close()

    def _record(self, answers: list[Result]) -> Outcome:
        with workspace_context(self.workspace_id):
            return record(self.workspace_id, answers)
