"""Triggers besides messages: conversations, tags, attributes, schedules,
and what the handlers cost on the hot path when nothing is interested."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from parley.core import domain_events
from parley.core.tenant import workspace_context
from parley.crm.actions import do_set_attributes
from parley.crm.models import AttributeDefinition, Contact
from parley.inbox.actions import do_change_status
from parley.inbox.models import Conversation
from parley.segments.models import Segment
from parley.workflows import scheduling, triggers
from parley.workflows.actions import do_set_enabled
from parley.workflows.models import Workflow, WorkflowRun
from parley.workflows.tests.helpers import live_workflow, run_workflow_jobs
from tests.factories import Tenant, actor_for, seed_inbox

pytestmark = pytest.mark.django_db

TAG_STEP = [{"type": "add_tags", "tags": ["Touched"]}]


def _runs(tenant: Tenant) -> list[tuple[str, int | None]]:
    with workspace_context(tenant.workspace.pk):
        return list(WorkflowRun.objects.order_by("id").values_list("workflow__name", "contact_id"))


def test_resolving_and_reopening_conversations(tenant_a: Tenant) -> None:
    seeded = seed_inbox(tenant_a)
    live_workflow(tenant_a, {"trigger": {"type": "conversation_resolved"}, "steps": TAG_STEP}, "R")
    live_workflow(tenant_a, {"trigger": {"type": "conversation_opened"}, "steps": TAG_STEP}, "O")
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get(pk=int(seeded["conversation_id"]))
        do_change_status(actor=actor, conversation=conversation, status="resolved")
        do_change_status(actor=actor, conversation=conversation, status="open")
    run_workflow_jobs()
    contact_id = int(seeded["contact_id"])
    assert _runs(tenant_a) == [("R", contact_id), ("O", contact_id)]


def test_an_attribute_change_starts_only_the_workflow_watching_it(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        for key in ("plan", "city"):
            AttributeDefinition.objects.create(
                workspace=tenant_a.workspace, key=key, label=key, type="text"
            )
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="15550008901")
    live_workflow(
        tenant_a,
        {"trigger": {"type": "attribute_changed", "key": "plan"}, "steps": TAG_STEP},
        "Plan",
    )
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        do_set_attributes(actor=actor, contact=contact, values={"city": "Oslo"})
        do_set_attributes(actor=actor, contact=contact, values={"plan": "gold"})
    run_workflow_jobs()
    assert _runs(tenant_a) == [("Plan", contact.pk)]


def test_a_schedule_fires_for_its_segment_at_its_minute(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        ids = [
            Contact.objects.create(workspace=tenant_a.workspace, wa_id=f"155500089{i:02d}").pk
            for i in range(3)
        ]
        segment = Segment.objects.create(
            workspace=tenant_a.workspace, name="Everyone", definition={"conditions": []}
        )
    workflow = live_workflow(
        tenant_a,
        {
            "trigger": {"type": "schedule", "cron": "0 9 * * *", "segment_id": segment.pk},
            "steps": TAG_STEP,
        },
        "Daily",
    )
    with workspace_context(tenant_a.workspace.pk):
        workflow = Workflow.objects.get(pk=workflow.pk)
    assert workflow.next_fire_at is not None
    assert scheduling.fire_due(now=workflow.next_fire_at - timedelta(seconds=1)) == 0
    assert scheduling.fire_due(now=workflow.next_fire_at) == 3
    # Fired once: the next firing is a day later.
    assert scheduling.fire_due(now=workflow.next_fire_at) == 0
    run_workflow_jobs()
    assert sorted(int(c or 0) for _n, c in _runs(tenant_a)) == ids
    with workspace_context(tenant_a.workspace.pk):
        later = Workflow.objects.get(pk=workflow.pk).next_fire_at
    assert later is not None and later - workflow.next_fire_at == timedelta(days=1)


def test_the_message_handler_costs_one_query_when_warm(
    tenant_a: Tenant, django_assert_num_queries: Any
) -> None:
    live_workflow(
        tenant_a,
        {
            "trigger": {"type": "message_received", "match": "keywords", "keywords": ["zz"]},
            "steps": TAG_STEP,
        },
    )
    batch = [
        domain_events.ReceivedMessage(
            message_id=i, contact_id=1, conversation_id=1, text="hello", received_at=timezone.now()
        )
        for i in range(100)
    ]
    with workspace_context(tenant_a.workspace.pk):
        triggers.on_message_received(tenant_a.workspace.pk, {"messages": batch})  # warms
        with django_assert_num_queries(1):  # the interest version only
            triggers.on_message_received(tenant_a.workspace.pk, {"messages": batch})
    assert run_workflow_jobs() == []
    # Turning a workflow off moves the version: the cached list is not used.
    with workspace_context(tenant_a.workspace.pk):
        workflow = Workflow.objects.get()
        do_set_enabled(
            actor=actor_for(tenant_a.workspace, tenant_a.owner), workflow=workflow, enabled=False
        )
        assert triggers._enabled(tenant_a.workspace.pk, "message_received") == []
