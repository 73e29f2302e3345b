"""Automation on the inbound path: what 200 active auto-tag rules and 50
active workflows add to each inbound message.

Two workspaces on the bench database: one with no automation, one with the
auto-tag bench's 200 rules and 50 enabled workflows (keywords, patterns,
button replies, conversation opened; a few in ten messages start a run).
Each message is one webhook stored as the webhook view stores it, then
processed by the ingest job's batch code in its own transaction, one message
per batch (the worst case: nothing is shared across messages). The two
workspaces alternate so both see the same database over time.

Reported: the time spent in domain-event subscribers per message in the
automated workspace (rules, workflows, routing, webhooks, drips: everything
an inbound message sets off, timed around ``domain_events._dispatch``, which
tells a whole ingest batch's events at its end; the ingest job runs them
without a savepoint), and the whole-batch ingest times of both workspaces.

Goal (issue 6): p99 <= 5 ms added per inbound message."""

from __future__ import annotations

import random
import time
from typing import Any

from bench.autotag import TEXTS, _rules
from bench.common import percentile, report

GOAL_P99_MS = 5.0
WORKFLOWS = 50


def _workflows(workspace_id: int, owner_id: int) -> None:
    from parley.accounts.models import User
    from parley.core.tenant import workspace_context
    from parley.tenancy.actor import Actor
    from parley.tenancy.models import Workspace
    from parley.workflows.actions import do_create_workflow, do_publish, do_set_enabled

    workspace = Workspace.objects.get(pk=workspace_id)
    actor = Actor(workspace=workspace, role="owner", user=User.objects.get(pk=owner_id))
    steps = [{"type": "add_tags", "tags": ["Automated"]}]
    with workspace_context(workspace_id):
        for i in range(WORKFLOWS):
            kind = i % 10
            if kind < 6:
                trigger: dict[str, Any] = {
                    "type": "message_received",
                    "match": "keywords",
                    "keywords": [f"wfword{i}", f"wf phrase {i}"],
                }
            elif kind < 8:
                trigger = {
                    "type": "message_received",
                    "match": "pattern",
                    "pattern": rf"case[- ]?{i}\d{{4}}",
                }
            elif kind < 9:
                trigger = {"type": "button_reply", "reply_ids": [f"wf-btn-{i}"]}
            else:
                trigger = {"type": "conversation_opened"}
            if i == 0:  # one that the bench's messages hit (about one in twelve)
                trigger = {"type": "message_received", "match": "keywords", "keywords": ["refund"]}
            workflow = do_create_workflow(
                actor=actor, name=f"bench {i}", draft={"trigger": trigger, "steps": steps}
            )
            do_publish(actor=actor, workflow=workflow)
            do_set_enabled(actor=actor, workflow=workflow, enabled=True)


def run(*, db_url: str, messages: int = 1500, seconds: float = 60.0) -> dict[str, Any]:
    from django.db import transaction

    from bench.setup_django import make_channel_tenant
    from parley.core import domain_events
    from parley.core.tenant import workspace_context
    from parley.inbox.ingest import process_batch
    from parley.tenancy.models import Membership
    from parley.whatsapp.access import webhook_target
    from parley.whatsapp.samples import text_webhook
    from parley.whatsapp.views_webhook import store

    bare = make_channel_tenant("AutomationNone")
    full = make_channel_tenant("AutomationFull")
    with workspace_context(full[0]):
        owner_id = Membership.objects.get(workspace_id=full[0], role="owner").user_id
    _rules(full[0], owner_id)
    _workflows(full[0], owner_id)

    emitted_ms: list[float] = []
    per_message = [0.0]
    depth = [0]
    original = domain_events._dispatch

    def timed(events: list[tuple[int, str, Any]], **options: Any) -> None:
        # Only the outermost dispatch: a handler's own events (a rule tagging
        # a contact) are told inside it.
        depth[0] += 1
        start = time.perf_counter()
        try:
            original(events, **options)
        finally:
            depth[0] -= 1
            if depth[0] == 0 and events and events[0][0] == full[0]:
                per_message[0] += (time.perf_counter() - start) * 1000

    domain_events._dispatch = timed
    rng = random.Random(6)
    batch_ms: dict[int, list[float]] = {bare[0]: [], full[0]: []}
    deadline = time.monotonic() + seconds
    done = 0
    try:
        for n in range(messages + 100):
            if time.monotonic() > deadline:
                break
            text = rng.choice(TEXTS).format(n=n)
            wa_id = f"1777{rng.randrange(400):07d}"  # returning customers and new ones
            for workspace_id, key, phone_number_id, _secret in (bare, full):
                body = text_webhook(
                    phone_number_id,
                    wamid=f"wamid.automation.{workspace_id}.{n}",
                    wa_id=wa_id,
                    body=text,
                )
                target = webhook_target(key)
                assert target is not None
                with transaction.atomic():
                    store(target, key, body)
                per_message[0] = 0.0
                start = time.perf_counter()
                with workspace_context(workspace_id):
                    # As the ingest job's drain does: subscribers without a
                    # savepoint (the batch is redone if one fails).
                    process_batch(workspace_id, savepoint=False)
                elapsed = (time.perf_counter() - start) * 1000
                if n >= 100:  # the first hundred warm caches and connections
                    batch_ms[workspace_id].append(elapsed)
                    if workspace_id == full[0]:
                        emitted_ms.append(per_message[0])
            if n >= 100:
                done += 1
    finally:
        domain_events._dispatch = original
    p50, p99 = percentile(emitted_ms, 50), percentile(emitted_ms, 99)
    base50, base99 = percentile(batch_ms[bare[0]], 50), percentile(batch_ms[bare[0]], 99)
    full50, full99 = percentile(batch_ms[full[0]], 50), percentile(batch_ms[full[0]], 99)
    report(
        f"Automation on inbound messages ({done} messages each, 1 per batch, "
        f"200 rules + {WORKFLOWS} workflows)",
        [
            ("subscribers' time per message p50", f"{p50:.2f} ms"),
            ("subscribers' time per message p99", f"{p99:.2f} ms (goal <= {GOAL_P99_MS:.0f} ms)"),
            ("ratio p99 / goal", f"{p99 / GOAL_P99_MS:.2f}"),
            ("ingest, no automation p50 / p99", f"{base50:.2f} / {base99:.2f} ms"),
            ("ingest, automated p50 / p99", f"{full50:.2f} / {full99:.2f} ms"),
            ("difference p50 / p99", f"{full50 - base50:.2f} / {full99 - base99:.2f} ms"),
            ("verdict", "PASS" if p99 <= GOAL_P99_MS else "FAIL"),
        ],
    )
    return {"subscribers_p50_ms": p50, "subscribers_p99_ms": p99, "messages": done}
