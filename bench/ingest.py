"""Webhook ingest: acknowledgement latency at a fixed offered rate, and the
sustained rate, beside the limit measured in the same run (one INSERT and
COMMIT per body, straight through psycopg): the ratio.

Goal (issue 3): p99 <= 50 ms at 1,000 webhooks/s and a rate of at least half
the limit."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import psycopg

from bench.common import percentile, report
from bench.loadgen import closed_loop, open_loop
from parley.whatsapp.samples import text_webhook
from parley.whatsapp.signatures import sign

GOAL_P99_MS = 50.0


def body(phone_number_id: str, n: int) -> bytes:
    return text_webhook(
        phone_number_id,
        wamid=f"wamid.bench.{n}",
        wa_id=f"1555{n % 1_000_000:07d}",
        body=f"message number {n}",
        name=f"Customer {n}",
    )


def signed_request(payload: bytes, secret: str) -> tuple[bytes, dict[str, str]]:
    return payload, {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": sign(payload, secret),
    }


def insert_limit(db_url: str, bodies: list[bytes]) -> float:
    """Rows/s for one INSERT + COMMIT per body: what storing durably costs."""
    with psycopg.connect(db_url, autocommit=True) as conn:
        conn.execute("CREATE UNLOGGED TABLE IF NOT EXISTS bench_raw (id bigserial, body bytea)")
        conn.execute("ALTER TABLE bench_raw SET LOGGED")
        conn.execute("TRUNCATE bench_raw")
        start = time.perf_counter()
        for payload in bodies:
            conn.execute("INSERT INTO bench_raw (body) VALUES (%s)", [payload])
        elapsed = time.perf_counter() - start
    return len(bodies) / elapsed


def run(
    *,
    db_url: str,
    web_url: str,
    key: str,
    phone_number_id: str,
    secret: str,
    rate: float,
    seconds: float,
) -> dict[str, Any]:
    count = int(rate * seconds)
    payloads = [body(phone_number_id, n) for n in range(count)]
    signed = [signed_request(p, secret) for p in payloads]
    url = f"{web_url}/webhooks/whatsapp/{key}"
    # Warm up connections, caches and the server's pool.
    warm = [signed_request(body(phone_number_id, 10_000_000 + i), secret) for i in range(200)]
    asyncio.run(closed_loop(url, warm, 8))
    latencies, errors, elapsed = asyncio.run(open_loop(url, signed, rate))
    offered_rate = (count - errors) / elapsed
    more = [signed_request(body(phone_number_id, 20_000_000 + n), secret) for n in range(count)]
    done, busy = asyncio.run(closed_loop(url, more, 32))
    achieved = done / busy
    limit = insert_limit(db_url, payloads[: min(len(payloads), 5000)])
    p50, p99 = percentile(latencies, 50), percentile(latencies, 99)
    report(
        f"Webhook ingest at {rate:.0f}/s offered for {seconds:.0f}s ({count} webhooks)",
        [
            ("acknowledged", f"{count - errors} ok, {errors} errors"),
            (
                "ack latency p50 / p99",
                f"{p50:.1f} ms / {p99:.1f} ms (goal p99 <= {GOAL_P99_MS:.0f} ms: "
                f"{'met' if p99 <= GOAL_P99_MS else 'NOT met'})",
            ),
            ("rate at the offered load", f"{offered_rate:.0f}/s"),
            ("sustained rate, 32 in flight", f"{achieved:.0f}/s ({done} webhooks)"),
            ("limit: INSERT+COMMIT per body", f"{limit:.0f}/s"),
            (
                "ratio sustained / limit",
                f"{achieved / limit:.2f} (goal >= 0.5: {'met' if achieved / limit >= 0.5 else 'NOT met'})",
            ),
        ],
    )
    return {"p50": p50, "p99": p99, "rate": achieved, "limit": limit, "errors": errors}
