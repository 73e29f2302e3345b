"""Inbound lag: from the webhook POST to the message being visible to the
inbox (its commit, announced by the NOTIFY that wakes the browsers), at a
fixed offered rate with the worker processes doing the work.

Goal (issue 3): p99 <= 1 s at 500 messages/s."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from typing import Any

import psycopg

from bench.common import percentile, processes, report, worker_command
from bench.ingest import signed_request
from bench.loadgen import open_loop
from parley.whatsapp.samples import text_webhook

GOAL_P99_MS = 1000.0
WORKERS = 2


def lag_body(phone_number_id: str, n: int) -> bytes:
    # One customer per message: one conversation each, so its NOTIFY names it.
    return text_webhook(
        phone_number_id,
        wamid=f"wamid.lag.{n}",
        wa_id=f"1666{n:07d}",
        body=f"lag probe {n}",
        name=f"Lag {n}",
    )


class Listener(threading.Thread):
    def __init__(self, db_url: str, expected: int, deadline: float) -> None:
        super().__init__(daemon=True)
        self.db_url, self.expected, self.deadline = db_url, expected, deadline
        self.seen: dict[int, float] = {}
        self.ready = threading.Event()

    def run(self) -> None:
        with psycopg.connect(self.db_url, autocommit=True) as conn:
            conn.execute("LISTEN parley_events")
            self.ready.set()
            while len(self.seen) < self.expected and time.monotonic() < self.deadline:
                for notify in conn.notifies(timeout=0.5, stop_after=1000):
                    event = json.loads(notify.payload)
                    if event.get("k") == "conversation":
                        self.seen.setdefault(int(event["id"]), time.perf_counter())


def run(
    *,
    db_url: str,
    web_url: str,
    key: str,
    phone_number_id: str,
    secret: str,
    rate: float,
    seconds: float,
    env: dict[str, str],
) -> dict[str, Any]:
    with psycopg.connect(db_url, autocommit=True) as conn:
        # Start from an empty queue: the ingest bench left its events and
        # jobs behind (TRUNCATE is not subject to row-level security).
        conn.execute("TRUNCATE procrastinate_jobs CASCADE")
        conn.execute("TRUNCATE whatsapp_webhookevent")
    count = int(rate * seconds)
    bodies = [lag_body(phone_number_id, n) for n in range(count)]
    signed = [signed_request(b, secret) for b in bodies]
    listener = Listener(db_url, count, time.monotonic() + seconds + 120)
    listener.start()
    listener.ready.wait(10)
    with processes([(worker_command(8), env) for _ in range(WORKERS)]):
        time.sleep(3)  # workers connect
        start = time.perf_counter()
        latencies_ack, errors, elapsed = asyncio.run(
            open_loop(f"{web_url}/webhooks/whatsapp/{key}", signed, rate)
        )
        listener.join(timeout=seconds + 120)
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        rows = conn.execute(
            "SELECT c.id, ct.wa_id FROM inbox_conversation c JOIN crm_contact ct ON ct.id = c.contact_id"
            " WHERE ct.wa_id LIKE '1666%%'"
        ).fetchall()
    lags = []
    for conversation_id, wa_id in rows:
        n = int(wa_id[4:])
        seen = listener.seen.get(conversation_id)
        if seen is not None:
            lags.append((seen - (start + n / rate)) * 1000)
    p50, p99 = percentile(lags, 50), percentile(lags, 99)
    report(
        f"Inbound lag at {rate:.0f}/s offered for {seconds:.0f}s ({count} messages, {WORKERS} workers)",
        [
            ("visible", f"{len(lags)} of {count} ({errors} POST errors)"),
            (
                "lag p50 / p99",
                f"{p50:.0f} ms / {p99:.0f} ms (goal p99 <= {GOAL_P99_MS:.0f} ms: "
                f"{'met' if p99 <= GOAL_P99_MS and len(lags) == count else 'NOT met'})",
            ),
            ("ack p99 meanwhile", f"{percentile(latencies_ack, 99):.1f} ms"),
            ("offered for", f"{elapsed:.1f} s"),
        ],
    )
    return {"p50": p50, "p99": p99, "visible": len(lags)}
