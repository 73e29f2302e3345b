"""Outbound webhooks: 10,000 deliveries to a local receiver.

A workspace with one endpoint subscribed to ``message.received``, whose URL
is a receiver on 127.0.0.1 (an aiohttp server in a process of its own: it
answers 200 at once and notes when each delivery arrived). The bench
commits ``message.received`` domain events (batches of 100 messages, as
ingest emits them) as fast as it can; worker processes run the fan-out jobs
and the senders. Measured:

- throughput: deliveries / (last arrival - first commit);
- delivery lag per delivery: arrival at the receiver - commit of its event.

Every loop is bounded (count and time); everything listens on 127.0.0.1."""

from __future__ import annotations

import asyncio
import json
import multiprocessing
import time
from typing import Any

from bench import common

BATCH = 100
# Goals of our own (the issue names none): a backlog of 10,000 drains at
# >= 1,000 deliveries/s, and no delivery waits more than 10 s.
GOAL_RATE = 1000.0
GOAL_LAG_P99 = 10.0


def _receive(port: int, ready: Any, stop: Any, results: Any) -> None:
    """The receiver process: aiohttp, 200 at once, notes (message id, arrival)."""
    from aiohttp import web

    arrivals: dict[int, float] = {}
    requests = 0

    async def hook(request: web.Request) -> web.Response:
        nonlocal requests
        body = await request.read()
        now = time.time()
        requests += 1
        arrivals.setdefault(int(json.loads(body)["data"]["message"]["id"]), now)
        return web.Response(text="ok")

    async def main() -> None:
        app = web.Application()
        app.router.add_post("/hooks", hook)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        ready.set()
        while not stop.is_set():
            await asyncio.sleep(0.1)
        await runner.cleanup()

    asyncio.run(main())
    results.put((arrivals, requests))


class Receiver:
    """A receiver in a process of its own (in this one it would fight the
    bench's own commits for the GIL)."""

    def __init__(self) -> None:
        self.port = common.free_port()
        self.arrivals: dict[int, float] = {}
        self.requests = 0
        context = multiprocessing.get_context("spawn")
        self._ready, self._stop, self._results = context.Event(), context.Event(), context.Queue()
        self._process = context.Process(
            target=_receive, args=(self.port, self._ready, self._stop, self._results), daemon=True
        )

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks"

    def __enter__(self) -> Receiver:
        self._process.start()
        if not self._ready.wait(20):
            raise RuntimeError("receiver did not start")
        return self

    def collect(self) -> None:
        self._stop.set()
        self.arrivals, self.requests = self._results.get(timeout=30)

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._process.join(10)
        if self._process.is_alive():
            self._process.kill()


def _setup(
    count: int, url: str, name: str = "Webhooks"
) -> tuple[int, list[tuple[int, int, int, int]]]:
    """The workspace, its endpoint, and ``count`` inbound messages (one
    conversation per contact, 5,000 contacts at most) to announce:
    (message, contact, conversation, channel) each."""
    from django.conf import settings
    from django.db import connection

    from bench.setup_django import make_channel_tenant
    from parley.core.tenant import workspace_context
    from parley.integrations import actions
    from parley.tenancy.actor import Actor
    from parley.tenancy.models import Workspace
    from parley.whatsapp.models import Channel

    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    ws, _key, pnid, _secret = make_channel_tenant(name)
    workspace = Workspace.objects.get(pk=ws)
    with workspace_context(ws):
        channel = Channel.objects.get(phone_number_id=pnid).pk
        actions.do_create_endpoint(
            actor=Actor(workspace=workspace, role="owner"),
            fields=actions.EndpointFields(url=url, events=["message.received"]),
        )
        with connection.cursor() as cursor:
            cursor.execute(
                """WITH c AS (
                     INSERT INTO crm_contact (workspace_id, wa_id, phone_e164, name,
                            profile_name, email, created_at, updated_at, consent,
                            consent_source, attributes)
                     SELECT %s, '1650' || lpad(n::text, 7, '0'), '+1650' || lpad(n::text, 7, '0'),
                            'Customer ' || n, '', '', now(), now(), 'unknown', '', '{}'::jsonb
                       FROM generate_series(1, %s) AS n
                     RETURNING id)
                   INSERT INTO inbox_conversation (workspace_id, contact_id, channel_id, status,
                          created_at, last_message_at, last_message_preview, unread_count)
                   SELECT %s, id, %s, 'open', now(), now(), '', 0 FROM c
                   RETURNING id, contact_id""",
                [ws, min(count, 5000), ws, channel],
            )
            conversations = sorted(cursor.fetchall())
            cursor.execute(
                """INSERT INTO inbox_message (workspace_id, conversation_id, direction, type,
                       text, payload, status, error_reason, idempotency_key, attempts, created_at)
                   SELECT %s, (%s::bigint[])[1 + (n - 1) %% %s], 'in', 'text',
                          'Bench message ' || n, '{}'::jsonb, 'received', '', gen_random_uuid(),
                          0, now()
                     FROM generate_series(1, %s) AS n
                   RETURNING id, conversation_id""",
                [ws, [c for c, _ in conversations], len(conversations), count],
            )
            contact_of = dict(conversations)
            messages = sorted(
                (int(m), int(contact_of[c]), int(c), channel) for m, c in cursor.fetchall()
            )
    return ws, messages


def _emit(
    ws: int, messages: list[tuple[int, int, int, int]], batch: int = BATCH, rate: float = 0.0
) -> dict[int, float]:
    """Commit message.received events in batches, as ingest emits them (as
    fast as possible, or ``rate`` messages a second); message id -> commit time."""
    from django.utils import timezone

    from parley.core import domain_events
    from parley.core.tenant import workspace_context

    committed: dict[int, float] = {}
    began = time.monotonic()
    for start in range(0, len(messages), batch):
        if rate:
            time.sleep(max(0.0, began + start / rate - time.monotonic()))
        chunk = messages[start : start + batch]
        now = timezone.now()
        with workspace_context(ws):
            domain_events.emit(
                ws,
                domain_events.MESSAGE_RECEIVED,
                messages=[
                    domain_events.ReceivedMessage(
                        message_id=m,
                        contact_id=contact,
                        conversation_id=conversation,
                        text=f"Bench message {m}",
                        received_at=now,
                        channel_id=channel,
                    )
                    for m, contact, conversation, channel in chunk
                ],
            )
        at = time.time()
        committed.update(dict.fromkeys((m for m, *_ in chunk), at))
    return committed


def _succeeded(db_url: str, ws: int) -> int:
    return _outcomes(db_url, ws).get("succeeded", 0)


def _outcomes(db_url: str, ws: int) -> dict[str, int]:
    import psycopg

    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        rows = conn.execute(
            "SELECT status, count(*), sum(attempts) FROM integrations_delivery "
            "WHERE workspace_id = %s GROUP BY status",
            [ws],
        ).fetchall()
    out = {str(status): int(n) for status, n, _a in rows}
    out["attempts"] = sum(int(a or 0) for _s, _n, a in rows)
    return out


def _phase(
    db_url: str,
    env: dict[str, str],
    *,
    name: str,
    count: int,
    workers: int,
    rate: float,
    timeout: float,
) -> tuple[Receiver, dict[int, float], dict[str, int], float]:
    with Receiver() as receiver:
        ws, messages = _setup(count, receiver.url, name)
        commands = [(common.worker_command(4), env) for _ in range(workers)]
        with common.processes(commands):
            time.sleep(3)  # the workers connect and start listening
            committed = _emit(ws, messages, batch=BATCH if not rate else 10, rate=rate)
            emitted = time.time()
            deadline = time.monotonic() + timeout
            while _succeeded(db_url, ws) < count and time.monotonic() < deadline:
                time.sleep(0.2)
            outcomes = _outcomes(db_url, ws)
        receiver.collect()
    return receiver, committed, outcomes, emitted


def _report(
    title: str,
    count: int,
    receiver: Receiver,
    committed: dict[int, float],
    outcomes: dict[str, int],
    emitted: float,
    paced: bool = False,
) -> None:
    arrived = receiver.arrivals
    lags = [arrived[i] - committed[i] for i in arrived if i in committed]
    first, last = min(committed.values()), max(arrived.values(), default=float("nan"))
    span = last - first
    rate = len(arrived) / span if span > 0 else float("nan")
    p99 = common.percentile(lags, 99)
    common.report(
        title,
        [
            ("delivered / expected", f"{len(arrived):,} / {count:,}"),
            ("requests received (incl. repeats)", f"{receiver.requests:,}"),
            (
                "deliveries by status",
                ", ".join(f"{k} {v:,}" for k, v in sorted(outcomes.items()) if k != "attempts"),
            ),
            ("attempts made", f"{outcomes.get('attempts', 0):,}"),
            ("events committed in", f"{emitted - first:.2f} s"),
            ("first commit to last arrival", f"{span:.2f} s"),
            (
                "throughput",
                f"{rate:,.0f} deliveries/s  "
                + (
                    f"({rate / GOAL_RATE:.2f} of our goal {GOAL_RATE:,.0f}/s)"
                    if not paced
                    else "(the pace it was given)"
                ),
            ),
            ("delivery lag p50", f"{common.percentile(lags, 50) * 1000:,.0f} ms"),
            (
                "delivery lag p99",
                f"{p99 * 1000:,.0f} ms  ({p99 / GOAL_LAG_P99:.2f} of our limit "
                f"{GOAL_LAG_P99 * 1000:,.0f} ms)",
            ),
            ("delivery lag max", f"{max(lags, default=float('nan')) * 1000:,.0f} ms"),
        ],
    )


def run(
    *,
    db_url: str,
    deliveries: int = 10_000,
    workers: int = 2,
    paced: int = 3000,
    paced_rate: float = 300.0,
    timeout: float = 300.0,
) -> None:
    env = common.env_for(db_url, WEBHOOKS_ALLOW_LOOPBACK="1")
    # 1. A burst: 10,000 events committed as fast as the bench can (batches of 100).
    receiver, committed, outcomes, emitted = _phase(
        db_url,
        env,
        name="Webhooks",
        count=deliveries,
        workers=workers,
        rate=0.0,
        timeout=timeout,
    )
    _report(
        f"webhooks burst: {deliveries:,} message.received deliveries to a receiver on "
        f"127.0.0.1, {workers} worker processes  [python -m bench --only webhooks]",
        deliveries,
        receiver,
        committed,
        outcomes,
        emitted,
    )
    # 2. A steady stream below capacity: lag without a backlog.
    receiver, committed, outcomes, emitted = _phase(
        db_url,
        env,
        name="WebhooksPaced",
        count=paced,
        workers=workers,
        rate=paced_rate,
        timeout=timeout,
    )
    _report(
        f"webhooks steady: {paced:,} deliveries at {paced_rate:,.0f} events/s (batches of 10)",
        paced,
        receiver,
        committed,
        outcomes,
        emitted,
        paced=True,
    )
