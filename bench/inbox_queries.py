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
    """Workspaces, channels, contacts, conversations and messages, generated
    by the server itself (COPY is refused on tables with row-level security)."""
    per_ws = max(1, messages // WORKSPACES)
    conversations_per_ws = max(1, per_ws // 20)
    per_conversation = max(1, per_ws // conversations_per_ws)
    with psycopg.connect(db_url) as conn:
        conn.execute("SELECT set_config('parley.cross_tenant', 'on', false)")
        conn.execute(
            "INSERT INTO tenancy_workspace (name, slug, timezone, default_country, plan,"
            " monthly_message_quota, mark_read_on_open, created_at)"
            " SELECT 'Gen ' || g, 'gen-' || g, 'UTC', 'US', 'trial', 10000, true, now()"
            " FROM generate_series(1, %s) g",
            [WORKSPACES],
        )
        conn.execute(
            "INSERT INTO whatsapp_channel (workspace_id, name, phone_number_id, waba_id,"
            " display_phone_number, verified_name, access_token_enc, access_token_hint,"
            " app_secret_enc, app_secret_hint, webhook_key, verify_token, throughput_cap, status,"
            " created_at, last_test_detail)"
            " SELECT id, 'Gen', '7' || id, '6' || id, '', '', 'x', '', 'x', '', 'gen-' || id, 'v', 80,"
            " 'active', now(), '' FROM tenancy_workspace WHERE slug LIKE 'gen-%%'"
        )
        conn.execute(
            "INSERT INTO crm_contact (workspace_id, wa_id, phone_e164, name, profile_name, email,"
            " created_at, updated_at, consent, consent_source, attributes)"
            " SELECT w.id, '1777' || lpad(c::text, 7, '0'), '', 'Customer ' || c, '', '', now(),"
            " now(), 'unknown', '', '{}'"
            " FROM tenancy_workspace w, generate_series(1, %s) c WHERE w.slug LIKE 'gen-%%'",
            [conversations_per_ws],
        )
        conn.execute(
            "INSERT INTO inbox_conversation (workspace_id, contact_id, channel_id, status, created_at,"
            " last_message_at, last_message_preview, unread_count)"
            " SELECT ct.workspace_id, ct.id, ch.id,"
            " (ARRAY['open','open','open','pending','resolved'])[1 + floor(random() * 5)::int],"
            " now(), timestamptz '2026-01-01' + random() * interval '300 days', 'hello', 0"
            " FROM crm_contact ct JOIN whatsapp_channel ch ON ch.workspace_id = ct.workspace_id"
            " WHERE ct.wa_id LIKE '1777%%'"
        )
        conn.execute(
            "INSERT INTO inbox_message (workspace_id, conversation_id, direction, wamid, type, text,"
            " payload, status, error_reason, idempotency_key, attempts, created_at)"
            " SELECT c.workspace_id, c.id, CASE WHEN m %% 2 = 0 THEN 'in' ELSE 'out' END,"
            " 'wamid.gen.' || c.id || '.' || m, 'text', 'generated message ' || m, '{}', 'received', '',"
            " gen_random_uuid(), 0, c.last_message_at - m * interval '1 minute'"
            " FROM inbox_conversation c JOIN whatsapp_channel ch ON ch.id = c.channel_id,"
            " generate_series(1, %s) m WHERE ch.webhook_key LIKE 'gen-%%'",
            [per_conversation],
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
            total = cursor.fetchone()[0]
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
