"""GET /w/<slug>/inbox/events: the workspace's live event stream (SSE)."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from asgiref.sync import sync_to_async
from django.db import connection, transaction
from django.http import Http404, HttpRequest, StreamingHttpResponse
from django.http.response import HttpResponseBase

from parley.core.live import hub, sse
from parley.core.tenant import activate_user
from parley.tenancy.access import enter_workspace
from parley.tenancy.roles import Cap

KEEPALIVE_SECONDS = 15.0
# How long a new stream waits for its process's LISTEN to be in place before
# it tells the browser it is live: an event committed before then is missed.
LISTEN_WAIT_SECONDS = 5.0


def _workspace_for(request: HttpRequest, slug: str) -> tuple[int, int]:
    """Who is asking and for which workspace, in one thread, whose database
    connection then goes back to the pool: the stream may stay open for
    hours and must not hold one."""
    try:
        user = request.user
        if not user.is_authenticated:
            raise Http404("No such workspace.")
        with transaction.atomic():
            activate_user(getattr(user, "pk", None))
            actor = enter_workspace(user, slug)
            actor.require(Cap.CONVERSATIONS_READ)
            return actor.workspace.pk, int(getattr(user, "pk", 0))
    finally:
        if not connection.in_atomic_block:  # a test's transaction, never in serving
            connection.close()


async def events(request: HttpRequest, slug: str) -> HttpResponseBase:
    workspace_id, user_id = await sync_to_async(_workspace_for)(request, slug)
    queue = hub.subscribe(workspace_id)
    listening = hub.connected

    async def stream() -> AsyncIterator[str]:
        try:
            yield "retry: 2000\n\n"
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(listening.wait(), timeout=LISTEN_WAIT_SECONDS)
            yield sse("ready", {"w": workspace_id})
            while True:
                try:
                    event = await asyncio.wait_for(queue.get(), timeout=KEEPALIVE_SECONDS)
                except TimeoutError:
                    yield ": keepalive\n\n"
                    continue
                if event.get("k") == "mention" and event.get("id") != user_id:
                    continue  # a mention is news only to the person mentioned
                yield sse(str(event.get("k")), event)
        finally:
            hub.unsubscribe(workspace_id, queue)

    response = StreamingHttpResponse(stream(), content_type="text/event-stream")
    response["Cache-Control"] = "no-cache"
    response["X-Accel-Buffering"] = "no"
    return response
