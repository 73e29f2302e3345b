"""Meta-format webhook payloads, their signature, and their delivery with retries."""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import json
import logging
import time
from collections import deque
from dataclasses import dataclass
from typing import Any

import httpx

from .config import SimulatorConfig
from .state import Number

SIGNATURE_HEADER = "X-Hub-Signature-256"
log = logging.getLogger(__name__)


def messages_payload(
    number: Number, contacts: list[dict[str, Any]], messages: list[dict[str, Any]]
) -> dict[str, Any]:
    return _messages_field(number, {"contacts": contacts, "messages": messages})


def statuses_payload(number: Number, statuses: list[dict[str, Any]]) -> dict[str, Any]:
    return _messages_field(number, {"statuses": statuses})


def _messages_field(number: Number, content: dict[str, Any]) -> dict[str, Any]:
    value = {
        "messaging_product": "whatsapp",
        "metadata": {
            "display_phone_number": number.metadata_phone,
            "phone_number_id": number.phone_number_id,
        },
        **content,
    }
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": number.waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def template_status_payload(
    waba_id: str,
    *,
    template_id: str,
    name: str,
    language: str,
    category: str,
    event: str,
    reason: str,
    rejection_info: dict[str, str] | None,
) -> dict[str, Any]:
    value: dict[str, Any] = {
        "event": event,
        "message_template_id": int(template_id),
        "message_template_name": name,
        "message_template_language": language,
        "reason": reason,
        "message_template_category": category,
    }
    if rejection_info:
        value["rejection_info"] = rejection_info
    return {
        "entry": [
            {
                "id": waba_id,
                "time": int(time.time()),
                "changes": [{"value": value, "field": "message_template_status_update"}],
            }
        ],
        "object": "whatsapp_business_account",
    }


def encode(payload: dict[str, Any]) -> bytes:
    """Serialise like Meta: compact, non-ASCII as \\uXXXX and "/" as "\\/".

    The escaping is deliberate: a receiver that re-serialises the parsed JSON instead of
    verifying the raw bytes computes a different HMAC, exactly as it would against Meta.
    """
    text = json.dumps(payload, ensure_ascii=True, separators=(",", ":"))
    return text.replace("/", "\\/").encode("ascii")


def signature(app_secret: str, body: bytes) -> str:
    return "sha256=" + hmac.new(app_secret.encode(), body, hashlib.sha256).hexdigest()


def signature_headers(app_secret: str, body: bytes) -> dict[str, str]:
    # Meta still sends the legacy SHA-1 header beside the SHA-256 one.
    legacy = "sha1=" + hmac.new(app_secret.encode(), body, hashlib.sha1).hexdigest()
    return {SIGNATURE_HEADER: signature(app_secret, body), "X-Hub-Signature": legacy}


@dataclass(slots=True)
class Delivery:
    url: str
    secret: str
    body: bytes
    kind: str
    log: dict[str, Any]
    deadline: float = 0.0
    backoff: float = 0.0


class WebhookDispatcher:
    """Posts webhooks from a bounded queue with a few workers and one pooled client.

    A failed attempt is re-queued after a backoff delay instead of sleeping in its worker,
    so one dead receiver cannot hold up deliveries to the others.
    """

    def __init__(self, config: SimulatorConfig) -> None:
        self.config = config
        self.log: deque[dict[str, Any]] = deque(maxlen=config.webhook_log_size)
        self._queue: asyncio.Queue[Delivery] = asyncio.Queue(maxsize=config.webhook_queue_size)
        self._client: httpx.AsyncClient | None = None
        self._workers: list[asyncio.Task[None]] = []
        self._timers: set[asyncio.TimerHandle] = set()
        self._next_id = 0
        self._in_flight = 0

    async def start(self) -> None:
        workers = self.config.webhook_workers
        self._client = httpx.AsyncClient(
            # Never route loopback traffic through a proxy from the environment.
            trust_env=False,
            limits=httpx.Limits(max_connections=workers, max_keepalive_connections=workers),
            headers={"User-Agent": "facebookexternalua", "Content-Type": "application/json"},
        )
        self._workers = [asyncio.create_task(self._work()) for _ in range(workers)]

    async def stop(self) -> None:
        for timer in self._timers:
            timer.cancel()
        self._timers.clear()
        for task in self._workers:
            task.cancel()
        await asyncio.gather(*self._workers, return_exceptions=True)
        self._workers = []
        if self._client is not None:
            await self._client.aclose()
            self._client = None

    @property
    def pending(self) -> int:
        return self._queue.qsize() + self._in_flight + len(self._timers)

    def enqueue(self, url: str, secret: str, body: bytes, kind: str) -> None:
        self._put(self._new(url, secret, body, kind))

    async def deliver_now(self, url: str, secret: str, body: bytes, kind: str) -> dict[str, Any]:
        """Deliver in the caller's task, retries included, and report the outcome."""
        delivery = self._new(url, secret, body, kind)
        while not await self._attempt(delivery) and self._may_retry(delivery):
            await asyncio.sleep(self._next_backoff(delivery))
        return dict(delivery.log)

    def _new(self, url: str, secret: str, body: bytes, kind: str) -> Delivery:
        self._next_id += 1
        entry: dict[str, Any] = {
            "id": self._next_id,
            "kind": kind,
            "url": url,
            "bytes": len(body),
            "state": "queued",
            "status": None,
            "attempts": 0,
            "error": None,
            "queued_at": time.time(),
            "finished_at": None,
        }
        self.log.append(entry)
        cfg = self.config
        return Delivery(
            url=url,
            secret=secret,
            body=body,
            kind=kind,
            log=entry,
            deadline=time.monotonic() + cfg.webhook_retry_window_s,
            backoff=cfg.webhook_backoff_s,
        )

    def _put(self, delivery: Delivery) -> None:
        try:
            self._queue.put_nowait(delivery)
        except asyncio.QueueFull:
            delivery.log.update(
                state="dropped", error="webhook queue full", finished_at=time.time()
            )

    async def _work(self) -> None:
        while True:
            delivery = await self._queue.get()
            self._in_flight += 1
            try:
                if not await self._attempt(delivery) and self._may_retry(delivery):
                    self._retry_later(delivery)
            except Exception as exc:  # a worker must survive anything one delivery does
                delivery.log.update(state="failed", error=f"internal: {exc!r}")
            finally:
                self._in_flight -= 1
                self._queue.task_done()

    def _retry_later(self, delivery: Delivery) -> None:
        def requeue() -> None:
            self._timers.discard(timer)
            self._put(delivery)

        delay = self._next_backoff(delivery)
        timer = asyncio.get_running_loop().call_later(delay, requeue)
        self._timers.add(timer)

    def _next_backoff(self, delivery: Delivery) -> float:
        delay = delivery.backoff
        delivery.backoff = min(delivery.backoff * 2, self.config.webhook_backoff_max_s)
        return delay

    def _may_retry(self, delivery: Delivery) -> bool:
        entry = delivery.log
        exhausted = entry["attempts"] >= self.config.webhook_max_attempts
        if exhausted or time.monotonic() + delivery.backoff > delivery.deadline:
            entry.update(state="failed", finished_at=time.time())
            log.warning(
                "webhook %s to %s failed after %d attempts (last: %s)",
                delivery.kind,
                delivery.url,
                entry["attempts"],
                entry["error"] or entry["status"],
            )
            return False
        entry["state"] = "retrying"
        return True

    async def _attempt(self, delivery: Delivery) -> bool:
        """One POST; True once the receiver answered 2xx."""
        assert self._client is not None, "dispatcher not started"
        entry = delivery.log
        entry["state"] = "sending"
        entry["attempts"] += 1
        try:
            response = await self._client.post(
                delivery.url,
                content=delivery.body,
                headers=signature_headers(delivery.secret, delivery.body),
                timeout=self.config.webhook_timeout_s,
            )
        except httpx.HTTPError as exc:
            entry["error"] = f"{type(exc).__name__}: {exc}"
            return False
        entry["status"] = response.status_code
        entry["error"] = None
        if 200 <= response.status_code < 300:
            entry.update(state="delivered", finished_at=time.time())
            return True
        return False
