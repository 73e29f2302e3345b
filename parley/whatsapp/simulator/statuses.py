"""Outbound message statuses (sent, delivered, read, failed), posted when they fall due.

Events wait in a heap; one pump task wakes at the earliest due time and sends every status
due within a short window in one payload per number, the way Meta batches `statuses`.
"""

from __future__ import annotations

import asyncio
import contextlib
import heapq
import itertools
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

STATUS_RANK = {"accepted": 0, "sent": 1, "delivered": 2, "read": 3, "failed": 4}


@dataclass(slots=True)
class StatusEvent:
    phone_number_id: str
    wamid: str
    status: str
    recipient_id: str
    record: dict[str, Any]
    conversation: tuple[str, float, str] | None = None  # (id, expiry, category)
    errors: list[dict[str, Any]] | None = None

    def to_webhook(self, now: float) -> dict[str, Any]:
        item: dict[str, Any] = {
            "id": self.wamid,
            "status": self.status,
            "timestamp": str(int(now)),
            "recipient_id": self.recipient_id,
        }
        if self.conversation is not None:
            conv_id, expiry, category = self.conversation
            conversation: dict[str, Any] = {"id": conv_id}
            if self.status == "sent":  # Meta gives the expiry only with the first status
                conversation["expiration_timestamp"] = str(int(expiry))
            conversation["origin"] = {"type": category}
            item["conversation"] = conversation
            item["pricing"] = {"billable": True, "pricing_model": "CBP", "category": category}
        if self.errors is not None:
            item["errors"] = self.errors
        callback = self.record.get("biz_opaque_callback_data")
        if callback:
            item["biz_opaque_callback_data"] = callback
        return item


def advance(record: dict[str, Any], status: str) -> None:
    """Statuses only move forward on the phone, whatever order they fire in."""
    if STATUS_RANK.get(status, 0) > STATUS_RANK.get(str(record.get("status")), 0):
        record["status"] = status


# Called with (phone_number_id, [webhook status objects]) for each batch.
Flush = Callable[[str, list[dict[str, Any]]], None]


class StatusScheduler:
    def __init__(self, flush: Flush, batch_window_s: float, max_per_payload: int) -> None:
        self._flush = flush
        self._batch_window = batch_window_s
        self._max_per_payload = max(1, max_per_payload)
        self._heap: list[tuple[float, int, StatusEvent]] = []
        self._seq = itertools.count()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    @property
    def pending(self) -> int:
        return len(self._heap)

    def schedule(self, delay_s: float, event: StatusEvent) -> None:
        due = time.monotonic() + delay_s
        if not self._heap or due < self._heap[0][0]:
            self._wake.set()
        heapq.heappush(self._heap, (due, next(self._seq), event))

    def clear(self) -> None:
        self._heap.clear()

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
            self._task = None

    async def _run(self) -> None:
        while True:
            if not self._heap:
                self._wake.clear()
                await self._wake.wait()
                continue
            wait = self._heap[0][0] - time.monotonic()
            if wait > 0:
                self._wake.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._wake.wait(), wait)
                continue
            self._fire_due()

    def _fire_due(self) -> None:
        horizon = time.monotonic() + self._batch_window
        now = time.time()
        batches: dict[str, list[dict[str, Any]]] = {}
        heap = self._heap
        while heap and heap[0][0] <= horizon:
            event = heapq.heappop(heap)[2]
            advance(event.record, event.status)
            if event.errors is not None:
                event.record["errors"] = event.errors
            batches.setdefault(event.phone_number_id, []).append(event.to_webhook(now))
        for phone_number_id, statuses in batches.items():
            step = self._max_per_payload
            for start in range(0, len(statuses), step):
                self._flush(phone_number_id, statuses[start : start + step])
