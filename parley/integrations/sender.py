"""Sending deliveries: claim a batch of due rows, POST them concurrently,
record every answer.

One round = three short steps, so no transaction stays open across the
network:

1. claim (one transaction): up to ``limit`` due pending rows, ``FOR UPDATE
   SKIP LOCKED`` (other senders take other rows), pushed ``LEASE`` into the
   future; a sender that dies leaves them to fall due again.
2. send: aiohttp on an event loop, at most ``WEBHOOKS_CONCURRENCY`` in flight
   (an aiohttp request costs a fraction of httpx's CPU, which is what lets
   one worker thread keep thousands of deliveries a second moving).
3. record (one transaction): attempt rows, delivery outcomes, endpoint
   failure bookkeeping, the execution log, and disabling endpoints that have
   failed for the whole window.

Order between deliveries of one endpoint is not kept (concurrent sends and
retries reorder them): receivers order by the event's ``created_at``.
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import socket
import time
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import aiohttp
import structlog
from aiohttp.abc import AbstractResolver, ResolveResult
from aiohttp.resolver import DefaultResolver
from django.conf import settings
from django.db import connection
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.integrations import retry, signing, ssrf
from parley.integrations.catalogue import PING
from parley.integrations.models import DeliveryStatus, Endpoint

log = structlog.get_logger(__name__)

# How long a claimed row stays invisible to other senders: past the timeout
# of every request in the batch, with room for recording.
LEASE = timedelta(seconds=120)
EXCERPT = 500
USER_AGENT = "Parley-Webhooks/1"


@dataclass
class Claimed:
    """A claimed delivery, as the sender needs it (no model instance: a batch
    of 500 is read and written with one statement each way)."""

    id: int
    endpoint_id: int
    event_id: str
    event_type: str
    # The stored payload as PostgreSQL prints it: signed and sent as is.
    body: str
    attempts: int
    window_start: datetime
    contact_id: int | None
    status: str = DeliveryStatus.PENDING
    next_attempt_at: datetime | None = None
    last_status_code: int | None = None
    last_latency_ms: float | None = None
    last_body_excerpt: str = ""
    error: str = ""
    finished_at: datetime | None = None

    @property
    def pk(self) -> int:
        return self.id


@dataclass
class Outgoing:
    delivery: Claimed
    endpoint: Endpoint
    body: bytes
    headers: dict[str, str]
    # Set before sending when the endpoint's address is refused or unresolvable.
    precheck_error: str = ""
    precheck_permanent: bool = False


@dataclass
class Answer:
    status: int | None = None
    latency_ms: float | None = None
    excerpt: str = ""
    error: str = ""
    # The request never left: the address is refused (permanent).
    refused: bool = False
    at: datetime = field(default_factory=timezone.now)


class GuardedResolver(AbstractResolver):
    """aiohttp's resolver, refusing names that resolve to non-public addresses:
    the check at delivery time is made on the very addresses aiohttp connects
    to, so a DNS answer that changed after the pre-check cannot slip through."""

    def __init__(self) -> None:
        self._inner = DefaultResolver()

    async def resolve(
        self, host: str, port: int = 0, family: socket.AddressFamily = socket.AF_INET
    ) -> list[ResolveResult]:
        results = await self._inner.resolve(host, port, family)
        for result in results:
            ssrf.check_address(ipaddress.ip_address(result["host"]), host)
        return results

    async def close(self) -> None:
        await self._inner.close()


# -- 1. claim -----------------------------------------------------------------------------


def claim(workspace_id: int, *, limit: int, ids: list[int] | None = None) -> list[Outgoing]:
    """Take up to ``limit`` due deliveries (or exactly ``ids``, due or not)."""
    with workspace_context(workspace_id), connection.cursor() as cursor:
        due = "AND d.next_attempt_at <= clock_timestamp()" if ids is None else "AND d.id = ANY(%s)"
        cursor.execute(
            f"""WITH due AS (
                    SELECT d.id FROM integrations_delivery d
                     WHERE d.workspace_id = %s AND d.status = 'pending' {due}
                     ORDER BY d.next_attempt_at, d.id
                     LIMIT %s FOR UPDATE SKIP LOCKED)
                UPDATE integrations_delivery d
                   SET next_attempt_at = clock_timestamp() + make_interval(secs => %s)
                  FROM due WHERE d.id = due.id
                RETURNING d.id, d.endpoint_id, d.event_id::text, d.event_type, d.payload::text,
                          d.attempts, d.window_start, d.next_attempt_at,
                          (d.payload #>> '{{data,contact,id}}')::bigint""",
            [workspace_id, *([] if ids is None else [ids]), limit, LEASE.total_seconds()],
        )
        deliveries = sorted(
            (
                Claimed(
                    id=r[0],
                    endpoint_id=r[1],
                    event_id=r[2],
                    event_type=r[3],
                    body=r[4],
                    attempts=r[5],
                    window_start=r[6],
                    next_attempt_at=r[7],
                    contact_id=r[8],
                )
                for r in cursor.fetchall()
            ),
            key=lambda c: c.id,
        )
        if not deliveries:
            return []
        endpoints = {
            e.pk: e
            for e in Endpoint.objects.filter(
                workspace_id=workspace_id, pk__in={d.endpoint_id for d in deliveries}
            )
        }
    now = timezone.now()
    timestamp = int(time.time())
    secrets = {pk: e.secrets(now) for pk, e in endpoints.items()}
    checks: dict[int, tuple[str, bool]] = {pk: _precheck(e) for pk, e in endpoints.items()}
    out = []
    for delivery in deliveries:
        endpoint = endpoints[delivery.endpoint_id]
        body = delivery.body.encode()
        headers = {
            "Content-Type": "application/json",
            "User-Agent": USER_AGENT,
            signing.SIGNATURE_HEADER: signing.sign(secrets[endpoint.pk], body, timestamp),
            signing.DELIVERY_HEADER: str(delivery.pk),
            signing.EVENT_HEADER: delivery.event_type,
            "X-Parley-Event-Id": str(delivery.event_id),
        }
        error, permanent = checks[endpoint.pk]
        if not endpoint.enabled and delivery.event_type != PING:
            error, permanent = "The endpoint is disabled.", True
        out.append(Outgoing(delivery, endpoint, body, headers, error, permanent))
    return out


def _precheck(endpoint: Endpoint) -> tuple[str, bool]:
    """(why not to send, whether that is permanent); ("", False) to go ahead.
    IP-literal URLs are only checked here (aiohttp does not resolve them)."""
    try:
        ssrf.check_url(endpoint.url)
    except ssrf.RefusedAddress as exc:
        return f"Refused: {exc}", True
    except ssrf.Unresolvable as exc:
        return str(exc), False
    return "", False


# -- 2. send ------------------------------------------------------------------------------


async def _post(session: aiohttp.ClientSession, item: Outgoing, slots: asyncio.Semaphore) -> Answer:
    if item.precheck_error:
        return Answer(error=item.precheck_error, refused=item.precheck_permanent)
    async with slots:
        started = time.perf_counter()
        try:
            async with session.post(
                item.endpoint.url, data=item.body, headers=item.headers, allow_redirects=False
            ) as response:
                raw = await response.content.read(EXCERPT)
                answer = Answer(
                    status=response.status,
                    excerpt=raw.decode("utf-8", errors="replace"),
                )
        except ssrf.RefusedAddress as exc:
            return Answer(error=f"Refused: {exc}", refused=True)
        except TimeoutError:
            answer = Answer(error=f"Timed out after {settings.WEBHOOKS_TIMEOUT_SECONDS:g} s.")
        except aiohttp.ClientError as exc:
            answer = Answer(error=_describe(exc))
        except OSError as exc:
            answer = Answer(error=f"Connection failed: {exc}")
        answer.latency_ms = (time.perf_counter() - started) * 1000
        answer.at = timezone.now()
        return answer


def _describe(exc: aiohttp.ClientError) -> str:
    if isinstance(exc, aiohttp.ServerDisconnectedError):
        return "The receiver closed the connection without answering."
    if isinstance(exc, aiohttp.ClientConnectorError):
        cause = exc.os_error
        if isinstance(cause, ssrf.RefusedAddress):
            return f"Refused: {cause}"
        return f"Could not connect: {cause.strerror or cause}"
    return f"{type(exc).__name__}: {exc}"[:EXCERPT]


async def _send_all(items: list[Outgoing]) -> list[Answer]:
    slots = asyncio.Semaphore(max(1, settings.WEBHOOKS_CONCURRENCY))
    connector = aiohttp.TCPConnector(
        resolver=GuardedResolver(), limit=settings.WEBHOOKS_CONCURRENCY, limit_per_host=0
    )
    timeout = aiohttp.ClientTimeout(total=settings.WEBHOOKS_TIMEOUT_SECONDS)
    async with aiohttp.ClientSession(
        connector=connector, timeout=timeout, auto_decompress=False
    ) as session:
        return list(await asyncio.gather(*(_post(session, item, slots) for item in items)))


def send(items: list[Outgoing]) -> list[Answer]:
    """Send every item (in a private event loop: jobs and views are sync)."""
    if not items:
        return []
    return asyncio.run(_send_all(items))


# -- 3. record ----------------------------------------------------------------------------


def record(workspace_id: int, items: list[Outgoing], answers: list[Answer]) -> list[Claimed]:
    """Store the answers; returns the deliveries that reached a final status."""
    now = timezone.now()
    attempts: list[tuple[Any, ...]] = []
    finished: list[Claimed] = []
    touched: dict[int, Endpoint] = {}
    # Per endpoint, its outcomes in this batch in the order they were answered.
    outcomes: dict[int, list[tuple[datetime, bool]]] = {}
    for item, answer in zip(items, answers, strict=True):
        delivery, endpoint = item.delivery, item.endpoint
        touched[endpoint.pk] = endpoint
        delivery.attempts += 1
        delivery.last_status_code = answer.status
        delivery.last_latency_ms = answer.latency_ms
        delivery.last_body_excerpt = answer.excerpt[:EXCERPT]
        verdict = retry.classify(answer.status, refused=answer.refused)
        delivery.error = (answer.error or retry.describe(answer.status))[:EXCERPT]
        will_retry = False
        outcomes.setdefault(endpoint.pk, []).append((answer.at, verdict == retry.SUCCESS))
        if verdict == retry.SUCCESS:
            delivery.status = DeliveryStatus.SUCCEEDED
            delivery.error = ""
            delivery.finished_at = now
        else:
            if verdict == retry.RETRY:
                wait = retry.backoff(delivery.attempts)
                if now + wait - delivery.window_start <= retry.window():
                    delivery.next_attempt_at = now + wait
                    will_retry = True
                else:
                    delivery.status = DeliveryStatus.DEAD
                    delivery.error = (
                        f"Gave up after {delivery.attempts} attempts: {delivery.error}"
                    )[:EXCERPT]
            else:
                delivery.status = DeliveryStatus.FAILED
        if not will_retry:
            delivery.finished_at = now
            finished.append(delivery)
        attempts.append(
            (
                delivery.id,
                delivery.attempts,
                endpoint.url,
                json.dumps(item.headers),
                delivery.body,
                answer.status,
                answer.excerpt[:EXCERPT],
                answer.latency_ms,
                delivery.error if verdict != retry.SUCCESS else "",
                will_retry,
                answer.at,
            )
        )
    with workspace_context(workspace_id):
        _insert_attempts(workspace_id, attempts)
        _update_deliveries(workspace_id, [i.delivery for i in items])
        for endpoint in touched.values():
            _account(workspace_id, endpoint, sorted(outcomes[endpoint.pk]))
        from parley.integrations.health import disable_if_failing, record_executions

        done = {d.pk for d in finished}
        record_executions(workspace_id, [i for i in items if i.delivery.pk in done])
        for endpoint in touched.values():
            disable_if_failing(workspace_id, endpoint, now)
    return finished


def _account(workspace_id: int, endpoint: Endpoint, outcomes: list[tuple[datetime, bool]]) -> None:
    """Fold a batch's outcomes into the endpoint's failure bookkeeping, in SQL
    (several senders may answer for one endpoint at once: each adds to what
    is stored rather than writing back what it read), and refresh
    ``endpoint`` with the result."""
    successes = [at for at, ok in outcomes if ok]
    last_ok = successes[-1] if successes else None
    trailing = [at for at, ok in outcomes if not ok and (last_ok is None or at > last_ok)]
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE integrations_endpoint
                  SET last_success_at = coalesce(%(last_ok)s, last_success_at),
                      last_failure_at = coalesce(%(last_failed)s, last_failure_at),
                      consecutive_failures = CASE WHEN %(last_ok)s::timestamptz IS NULL
                          THEN consecutive_failures + %(failed)s ELSE %(failed)s END,
                      failing_since = CASE
                          WHEN %(failed)s = 0 THEN NULL
                          WHEN %(last_ok)s::timestamptz IS NULL
                              THEN coalesce(failing_since, %(first_failed)s)
                          ELSE %(first_failed)s END
                WHERE workspace_id = %(ws)s AND id = %(id)s
            RETURNING enabled, failing_since, consecutive_failures, last_success_at,
                      last_failure_at""",
            {
                "ws": workspace_id,
                "id": endpoint.pk,
                "last_ok": last_ok,
                "last_failed": max((at for at, ok in outcomes if not ok), default=None),
                "failed": len(trailing),
                "first_failed": trailing[0] if trailing else None,
            },
        )
        row = cursor.fetchone()
    if row is not None:
        (
            endpoint.enabled,
            endpoint.failing_since,
            endpoint.consecutive_failures,
            endpoint.last_success_at,
            endpoint.last_failure_at,
        ) = row


def _insert_attempts(workspace_id: int, rows: list[tuple[Any, ...]]) -> None:
    columns = list(zip(*rows, strict=True))
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO integrations_attempt (workspace_id, delivery_id, number, url,
                   request_headers, request_body, response_status, response_excerpt,
                   latency_ms, error, will_retry, at)
               SELECT %s, v.delivery_id, v.number, v.url, v.headers::jsonb, v.body, v.status,
                      v.excerpt, v.latency, v.error, v.will_retry, v.at
                 FROM unnest(%s::bigint[], %s::int[], %s::text[], %s::text[], %s::text[],
                             %s::int[], %s::text[], %s::float8[], %s::text[], %s::bool[],
                             %s::timestamptz[])
                      AS v(delivery_id, number, url, headers, body, status, excerpt, latency,
                           error, will_retry, at)""",
            [workspace_id, *(list(c) for c in columns)],
        )


def _update_deliveries(workspace_id: int, rows: list[Claimed]) -> None:
    """One UPDATE for the whole batch (bulk_update's CASE per column and row
    cost seconds for 500 rows; arrays through unnest cost milliseconds)."""
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE integrations_delivery d
                  SET status = v.status, attempts = v.attempts, next_attempt_at = v.next_at,
                      last_status_code = v.code, last_latency_ms = v.latency,
                      last_body_excerpt = v.excerpt, error = v.error, finished_at = v.finished
                 FROM unnest(%s::bigint[], %s::text[], %s::int[], %s::timestamptz[], %s::int[],
                             %s::float8[], %s::text[], %s::text[], %s::timestamptz[])
                      AS v(id, status, attempts, next_at, code, latency, excerpt, error, finished)
                WHERE d.workspace_id = %s AND d.id = v.id""",
            [
                [d.pk for d in rows],
                [d.status for d in rows],
                [d.attempts for d in rows],
                [d.next_attempt_at for d in rows],
                [d.last_status_code for d in rows],
                [d.last_latency_ms for d in rows],
                [d.last_body_excerpt for d in rows],
                [d.error for d in rows],
                [d.finished_at for d in rows],
                workspace_id,
            ],
        )


def deliver(workspace_id: int, *, limit: int = 500, ids: list[int] | None = None) -> int:
    """One round (claim, send, record); returns how many were attempted."""
    items = claim(workspace_id, limit=limit, ids=ids)
    if not items:
        return 0
    answers = send(items)
    record(workspace_id, items, answers)
    return len(items)


def deliver_due(workspace_id: int, *, limit: int = 500, max_seconds: float = 20.0) -> bool:
    """Rounds until nothing is due or the time is up; True if more may be due."""
    deadline = time.monotonic() + max_seconds
    while time.monotonic() < deadline:
        if deliver(workspace_id, limit=limit) < limit:
            return False
    return True
