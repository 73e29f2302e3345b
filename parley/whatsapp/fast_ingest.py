"""The webhook hot path as a plain ASGI app, in front of Django.

Meta's POSTs are verified and stored with one database call on an async
connection pool, skipping Django's middleware and its thread hop: that is
what keeps the acknowledgement fast under load. Everything else (GET
verification, unknown keys, other paths) goes to Django, whose view does
the same through the same database function.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, MutableMapping
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from django.db import connection
from psycopg_pool import AsyncConnectionPool

from parley.whatsapp.access import (
    _MISS,
    WebhookTarget,
    cached_target,
    remember_target,
    target_from_row,
)
from parley.whatsapp.signatures import is_valid

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

PREFIX = "/webhooks/whatsapp/"


class FastIngest:
    def __init__(self, django_app: ASGIApp) -> None:
        self.django_app = django_app
        self._pool: AsyncConnectionPool | None = None

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        path = scope.get("path", "")
        if scope["type"] != "http" or scope["method"] != "POST" or not path.startswith(PREFIX):
            await self.django_app(scope, receive, send)
            return
        key = path[len(PREFIX) :]
        target = await self._target(key)
        if target is None:
            # Unknown key: Django's view keeps the body for the operator.
            await self.django_app(scope, _replay_body(await _read(receive)), send)
            return
        body = await _read(receive, limit=settings.WHATSAPP_WEBHOOK_MAX_BYTES)
        if body is None:
            await _json(send, 413, "Webhook body too large.")
            return
        signature = _header(scope, b"x-hub-signature-256")
        if not signature:
            await _json(send, 401, "Missing X-Hub-Signature-256 header.")
            return
        if not is_valid(body, target.app_secret, signature):
            await _json(send, 403, "Invalid signature for this channel.")
            return
        pool = await self._ensure_pool()
        async with pool.connection() as conn:
            await conn.execute(
                "SELECT parley_ingest_webhook(%s::bigint, %s::bigint, %s::varchar, %s::bytea)",
                [target.workspace_id, target.channel_id, key, body],
            )
        await _plain(send, 200, b"ok")

    async def _lifespan(self, receive: Receive, send: Send) -> None:
        """Close what this process opened when the server stops (Django's ASGI
        handler does not speak the lifespan protocol)."""
        from parley.core.live import hub

        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                pool, self._pool = self._pool, None
                if pool is not None:
                    await pool.close()
                await hub.close()
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _ensure_pool(self) -> AsyncConnectionPool:
        if self._pool is None:
            params = await sync_to_async(_connection_params)()
            pool = AsyncConnectionPool(
                kwargs={**params, "autocommit": True},
                # Full from the start: opening connections under a burst is
                # what the slowest acknowledgements would otherwise wait for.
                min_size=settings.WHATSAPP_INGEST_POOL_SIZE,
                max_size=settings.WHATSAPP_INGEST_POOL_SIZE,
                open=False,
            )
            await pool.open(wait=True, timeout=30)
            self._pool = pool
        return self._pool

    async def _target(self, key: str) -> WebhookTarget | None:
        hit = cached_target(key)
        if hit is not _MISS:
            return hit  # type: ignore[return-value]
        pool = await self._ensure_pool()
        async with pool.connection() as conn, conn.transaction():
            # The escape hatch, as in access.webhook_target: routing by key.
            await conn.execute("SELECT set_config('parley.cross_tenant', 'on', true)")
            cursor = await conn.execute(
                "SELECT workspace_id, id, phone_number_id, app_secret_enc, verify_token, status"
                " FROM whatsapp_channel WHERE webhook_key = %s",
                [key],
            )
            row = await cursor.fetchone()
        target = target_from_row(*row) if row is not None else None
        remember_target(key, target)
        return target


def _connection_params() -> dict[str, Any]:
    params = dict(connection.get_connection_params())
    for name in ("cursor_factory", "context", "prepare_threshold"):
        params.pop(name, None)
    return params


def _header(scope: Scope, name: bytes) -> str:
    for key, value in scope.get("headers", []):
        if key == name:
            return str(value.decode("latin-1"))
    return ""


async def _read(receive: Receive, limit: int | None = None) -> bytes | None:
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        chunk = message.get("body", b"")
        size += len(chunk)
        if limit is not None and size > limit:
            return None
        chunks.append(chunk)
        if not message.get("more_body"):
            return b"".join(chunks)


def _replay_body(body: bytes | None) -> Receive:
    """A ``receive`` that hands Django the body we already read."""
    sent = False

    async def receive() -> Message:
        nonlocal sent
        if sent:
            return {"type": "http.disconnect"}
        sent = True
        return {"type": "http.request", "body": body or b"", "more_body": False}

    return receive


async def _plain(send: Send, status: int, body: bytes, content_type: bytes = b"text/plain") -> None:
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", content_type),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _json(send: Send, status: int, message: str) -> None:
    await _plain(send, status, json.dumps({"error": message}).encode(), b"application/json")
