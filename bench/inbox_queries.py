"""Inbox list and thread queries with many messages across many workspaces,
through the same access helpers as the views, with row-level security on.

Goal (issue 3): p95 <= 50 ms with 1M messages across 1,000 workspaces."""

from __future__ import annotations

import random
import time
from typing import Any

import psycopg

from bench.common import percentile, report

GOAL_P95_MS = 50.0
WORKSPACES = 1000


def generate(db_url: str, messages: int) -> None:
    """Workspaces, channels, contacts, conversations and messages, by COPY."""
    per_ws = max(1, messages // WORKSPACES)
    conversations_per_ws = max(1, per_ws // 20)
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        first_ws = conn.execute(
            "INSERT INTO tenancy_workspace (name, slug, timezone, default_country, plan,"
            " monthly_message_quota, mark_read_on_open, created_at)"
            " SELECT 'Gen ' || g, 'gen-' || g || '-' || md5(random()::text), 'UTC', 'US', 'trial', 10000, true, now()"
            " FROM generate_series(1, %s) g RETURNING id",
            [WORKSPACES],
        ).fetchall()
        ws_ids = [r[0] for r in first_ws]
        with conn.cursor().copy(
            "COPY whatsapp_channel (workspace_id, name, phone_number_id, waba_id, display_phone_number,"
            " verified_name, access_token_enc, access_token_hint, app_secret_enc, app_secret_hint,"
            " webhook_key, verify_token, throughput_cap, status, created_at, last_test_detail)"
            " FROM STDIN"
        ) as copy:
            for ws in ws_ids:
                copy.write_row(
                    (
                        ws,
                        "Gen",
                        f"7{ws:012d}",
                        f"6{ws:012d}",
                        "",
                        "",
                        "x",
                        "",
                        "x",
                        "",
                        f"gen-{ws}",
                        "v",
                        80,
                        "active",
                        "2026-01-01",
                        "",
                    )
                )
        channel = dict(
            conn.execute(
                "SELECT workspace_id, id FROM whatsapp_channel WHERE webhook_key LIKE 'gen-%%'"
            ).fetchall()
        )
        with conn.cursor().copy(
            "COPY crm_contact (workspace_id, wa_id, phone_e164, name, profile_name, email, created_at, updated_at)"
            " FROM STDIN"
        ) as copy:
            for ws in ws_ids:
                for c in range(conversations_per_ws):
                    copy.write_row(
                        (
                            ws,
                            f"1777{c:07d}",
                            "",
                            f"Customer {c}",
                            "",
                            "",
                            "2026-01-01",
                            "2026-01-01",
                        )
                    )
        contacts = conn.execute(
            "SELECT id, workspace_id FROM crm_contact WHERE wa_id LIKE '1777%%'"
        ).fetchall()
        with conn.cursor().copy(
            "COPY inbox_conversation (workspace_id, contact_id, channel_id, status, created_at, last_message_at,"
            " last_message_preview, unread_count) FROM STDIN"
        ) as copy:
            for contact_id, ws in contacts:
                status = random.choice(["open", "open", "open", "pending", "resolved"])
                stamp = f"2026-{random.randint(1, 11):02d}-{random.randint(1, 28):02d} {random.randint(0, 23):02d}:00:00+00"
                copy.write_row(
                    (ws, contact_id, channel[ws], status, "2026-01-01", stamp, "hello", 0)
                )
        conversations = conn.execute("SELECT id, workspace_id FROM inbox_conversation").fetchall()
        per_conv = max(1, messages // max(1, len(conversations)))
        with conn.cursor().copy(
            "COPY inbox_message (workspace_id, conversation_id, direction, wamid, type, text, payload, status,"
            " error_reason, idempotency_key, attempts, created_at) FROM STDIN"
        ) as copy:
            n = 0
            for conv_id, ws in conversations:
                for i in range(per_conv):
                    n += 1
                    copy.write_row(
                        (
                            ws,
                            conv_id,
                            "in" if i % 2 else "out",
                            f"wamid.gen.{n}",
                            "text",
                            f"generated message {n}",
                            "{}",
                            "received",
                            "",
                            f"00000000-0000-4000-8000-{n:012d}",
                            0,
                            "2026-01-01",
                        )
                    )
        conn.commit()
        conn.execute("ANALYZE")


def run(*, db_url: str, messages: int) -> dict[str, Any]:
    from django.db import connection, transaction

    from parley.core.tenant import activate_workspace
    from parley.inbox.access import conversation_list
    from parley.inbox.models import Conversation, Message
    from parley.tenancy.actor import Actor
    from parley.tenancy.models import Workspace

    t0 = time.perf_counter()
    generate(db_url, messages)
    generated = time.perf_counter() - t0
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT set_config('parley.cross_tenant', 'on', true)")
            cursor.execute("SELECT count(*) FROM inbox_message")
            total = cursor.fetchone()[0]  # type: ignore[index]
            cursor.execute("SELECT set_config('parley.cross_tenant', 'off', true)")
        workspaces = list(
            Workspace.objects.filter(slug__startswith="gen-").values_list("id", flat=True)
        )
    rng = random.Random(7)
    list_ms: list[float] = []
    thread_ms: list[float] = []
    search_ms: list[float] = []
    for _ in range(300):
        ws_id = rng.choice(workspaces)
        with transaction.atomic():
            activate_workspace(ws_id)
            actor = Actor(workspace=Workspace(pk=ws_id), role="agent")
            start = time.perf_counter()
            rows = list(conversation_list(actor, view="all", status="open")[:50])
            list_ms.append((time.perf_counter() - start) * 1000)
            start = time.perf_counter()
            list(conversation_list(actor, view="all", status=None, q="Customer 1")[:50])
            search_ms.append((time.perf_counter() - start) * 1000)
            if rows:
                conversation: Conversation = rows[0]
                start = time.perf_counter()
                list(
                    Message.objects.filter(workspace_id=ws_id, conversation=conversation).order_by(
                        "-id"
                    )[:100]
                )
                thread_ms.append((time.perf_counter() - start) * 1000)
    rows_out = [
        (
            "data",
            f"{total:,} messages in {len(workspaces):,} workspaces (generated in {generated:.0f} s)",
        ),
        (
            "conversation list p50 / p95",
            f"{percentile(list_ms, 50):.1f} / {percentile(list_ms, 95):.1f} ms",
        ),
        ("list with a name search p95", f"{percentile(search_ms, 95):.1f} ms"),
        (
            "thread (100 newest) p50 / p95",
            f"{percentile(thread_ms, 50):.1f} / {percentile(thread_ms, 95):.1f} ms",
        ),
        (
            "goal p95 <= 50 ms",
            "met"
            if max(percentile(list_ms, 95), percentile(thread_ms, 95)) <= GOAL_P95_MS
            else "NOT met",
        ),
    ]
    report("Inbox queries (through the access helpers, RLS on)", rows_out)
    return {"list_p95": percentile(list_ms, 95), "thread_p95": percentile(thread_ms, 95)}
