"""Live updates: one LISTEN connection per web process, fanned out to the
Server-Sent-Event streams of that process's browsers, by workspace.

Events carry ids only; pages re-fetch what changed through the normal
(access-checked) views, so nothing leaks through the stream."""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections import defaultdict
from typing import Any

import psycopg
import structlog
from django.db import connection

from parley.core.events import CHANNEL

log = structlog.get_logger(__name__)

QUEUE_SIZE = 200


class Hub:
    def __init__(self) -> None:
        self._subscribers: dict[int, set[asyncio.Queue[dict[str, Any]]]] = defaultdict(set)
        self._task: asyncio.Task[None] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self.connected = asyncio.Event()

    def subscribe(self, workspace_id: int) -> asyncio.Queue[dict[str, Any]]:
        loop = asyncio.get_running_loop()
        if self._task is None or self._task.done() or self._loop is not loop:
            self._loop = loop
            self.connected = asyncio.Event()
            self._task = loop.create_task(self._listen(), name="parley-live-listener")
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(QUEUE_SIZE)
        self._subscribers[workspace_id].add(queue)
        return queue

    async def close(self) -> None:
        """Stop listening (server shutdown); the connection closes with the task."""
        task, self._task = self._task, None
        if task is None or task.done():
            return
        task.cancel()
        if task.get_loop() is asyncio.get_running_loop():
            with contextlib.suppress(asyncio.CancelledError):
                await task

    def unsubscribe(self, workspace_id: int, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers[workspace_id].discard(queue)
        if not self._subscribers[workspace_id]:
            del self._subscribers[workspace_id]

    def dispatch(self, payload: str) -> None:
        try:
            event = json.loads(payload)
            workspace_id = int(event["w"])
        except (ValueError, KeyError, TypeError):
            return
        for queue in list(self._subscribers.get(workspace_id, ())):
            with contextlib.suppress(asyncio.QueueFull):
                # A stalled browser loses events rather than stalling the hub;
                # its next event makes it refetch anyway.
                queue.put_nowait(event)

    async def _listen(self) -> None:
        params = connection.get_connection_params()
        params.pop("cursor_factory", None)
        params.pop("context", None)
        delay = 0.5
        while True:
            try:
                conn = await psycopg.AsyncConnection.connect(**params, autocommit=True)
                async with conn:
                    await conn.execute(f"LISTEN {CHANNEL}")
                    self.connected.set()
                    delay = 0.5
                    async for notify in conn.notifies():
                        self.dispatch(notify.payload)
            except (psycopg.Error, OSError) as exc:
                self.connected.clear()
                log.warning("live_listener_reconnecting", error=str(exc), delay=delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)


hub = Hub()


def sse(event: str, data: dict[str, Any]) -> str:
    return f"event: {event}\ndata: {json.dumps(data, separators=(',', ':'))}\n\n"
