"""Workflows run end to end through the real ingest path: keyword trigger,
a question with buttons and a timeout branch, conditions, waits, versions,
loop protection, the rate cap, and exactly-once steps."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db.models import F
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact, ContactTag, Tag
from parley.executions.models import Execution, ExecutionStep
from parley.inbox.models import Message
from parley.workflows import engine
from parley.workflows.actions import do_publish, do_update_step
from parley.workflows.models import RunStatus, WorkflowRun
from parley.workflows.tests.helpers import (
    button,
    inbound,
    live_workflow,
    run_workflow_jobs,
    text,
)
from tests.factories import Tenant, actor_for, make_channel

pytestmark = pytest.mark.django_db

QUESTION: dict[str, Any] = {
    "trigger": {"type": "message_received", "match": "keywords", "keywords": ["pricing"]},
    "steps": [
        {"type": "add_tags", "tags": ["Lead"]},
        {
            "type": "ask_buttons",
            "text": "Hi {{contact.first_name}}, want a call?",
            "buttons": ["Yes", "No"],
            "timeout_minutes": 30,
            "branches": {
                "b1": [{"type": "add_tags", "tags": ["Wants call"]}],
                "b2": [{"type": "send_text", "text": "No problem!"}],
                "timeout": [{"type": "add_tags", "tags": ["No answer"]}],
            },
        },
        {"type": "add_note", "text": "Flow done"},
    ],
}


def _outbound(tenant: Tenant) -> list[str]:
    with workspace_context(tenant.workspace.pk):
        return list(
            Message.objects.filter(direction="out").order_by("id").values_list("text", flat=True)
        )


def _tags(tenant: Tenant, wa_id: str) -> set[str]:
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.get(wa_id=wa_id)
        return set(
            Tag.objects.filter(
                pk__in=ContactTag.objects.filter(contact=contact).values("tag_id")
            ).values_list("name", flat=True)
        )


def _run(tenant: Tenant) -> WorkflowRun:
    with workspace_context(tenant.workspace.pk):
        return WorkflowRun.objects.select_related("version").get()


def _time_passes(tenant: Tenant, minutes: int) -> None:
    """Move the waiting run's clock: its wait ends ``minutes`` earlier."""
    with workspace_context(tenant.workspace.pk):
        WorkflowRun.objects.filter(wait_until__isnull=False).update(
            wait_until=F("wait_until") - timedelta(minutes=minutes)
        )


def test_keyword_question_and_answer(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    live_workflow(tenant_a, QUESTION)
    inbound(tenant_a, channel, "15550008001", text("hello"))
    assert run_workflow_jobs() == []  # no keyword: nothing starts
    inbound(tenant_a, channel, "15550008001", text("What is your PRICING?"))
    run_workflow_jobs()
    run = _run(tenant_a)
    assert run.status == RunStatus.WAITING and run.awaiting_reply
    assert _outbound(tenant_a) == ["Hi Dee, want a call?"]
    assert _tags(tenant_a, "15550008001") == {"Lead"}
    inbound(tenant_a, channel, "15550008001", button("btn_1", "Yes"))
    run_workflow_jobs()
    run = _run(tenant_a)
    assert run.status == RunStatus.SUCCEEDED
    assert _tags(tenant_a, "15550008001") == {"Lead", "Wants call"}
    with workspace_context(tenant_a.workspace.pk):
        execution = Execution.objects.get(pk=int(run.execution_id or 0))
        steps = list(
            ExecutionStep.objects.filter(execution=execution)
            .order_by("id")
            .values_list("type", "status")
        )
    assert execution.status == "succeeded"
    assert steps == [
        ("add_tags", "ok"),
        ("ask_buttons", "waiting"),
        ("answer", "ok"),
        ("add_tags", "ok"),
        ("add_note", "ok"),
    ]


def test_no_answer_takes_the_timeout_branch(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    live_workflow(tenant_a, QUESTION)
    inbound(tenant_a, channel, "15550008002", text("pricing"))
    run_workflow_jobs()
    _time_passes(tenant_a, 29)
    assert run_workflow_jobs(until=timezone.now() + timedelta(minutes=31)) == ["workflows.wake"]
    assert _run(tenant_a).status == RunStatus.WAITING  # woken a minute early: waits on
    _time_passes(tenant_a, 2)
    engine.advance(workspace_id=tenant_a.workspace.pk, run_id=_run(tenant_a).pk)
    assert _run(tenant_a).status == RunStatus.SUCCEEDED
    assert _tags(tenant_a, "15550008002") == {"Lead", "No answer"}
    # A late tap on the button changes nothing.
    inbound(tenant_a, channel, "15550008002", button("btn_1", "Yes"))
    run_workflow_jobs()
    assert _tags(tenant_a, "15550008002") == {"Lead", "No answer"}


def test_a_running_execution_keeps_its_version(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    workflow = live_workflow(tenant_a, QUESTION)
    inbound(tenant_a, channel, "15550008003", text("pricing"))
    run_workflow_jobs()
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        workflow.refresh_from_db()
        step_id = workflow.draft["steps"][1]["branches"]["b1"][0]["id"]
        do_update_step(actor=actor, workflow=workflow, step_id=step_id, values={"tags": ["V2"]})
        do_publish(actor=actor, workflow=workflow)
    inbound(tenant_a, channel, "15550008003", button("btn_1", "Yes"))
    run_workflow_jobs()
    assert _tags(tenant_a, "15550008003") == {"Lead", "Wants call"}  # version 1's step
    assert _run(tenant_a).version.number == 1


def test_conditions_branch_on_message_and_tags(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    live_workflow(
        tenant_a,
        {
            "trigger": {"type": "message_received", "match": "any"},
            "steps": [
                {
                    "type": "condition",
                    "match": "all",
                    "rules": [{"field": "message.text", "op": "contains", "value": "refund"}],
                    "branches": {
                        "then": [{"type": "add_tags", "tags": ["Refund"]}, {"type": "stop"}],
                        "else": [{"type": "add_tags", "tags": ["Other"]}],
                    },
                },
                {"type": "add_tags", "tags": ["After"]},
            ],
        },
    )
    inbound(tenant_a, channel, "15550008004", text("I want a REFUND"))
    inbound(tenant_a, channel, "15550008005", text("hello"))
    run_workflow_jobs()
    assert _tags(tenant_a, "15550008004") == {"Refund"}
    assert _tags(tenant_a, "15550008005") == {"Other", "After"}
    with workspace_context(tenant_a.workspace.pk):
        statuses = sorted(WorkflowRun.objects.values_list("status", flat=True))
    assert statuses == ["stopped", "succeeded"]


def test_a_workflow_that_retriggers_itself_is_stopped_and_logged(tenant_a: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="15550008006")
        tag = Tag.objects.create(workspace=tenant_a.workspace, name="Ping")
    # Tag "Ping" added -> remove it and add it again -> tag added -> ...
    live_workflow(
        tenant_a,
        {
            "trigger": {"type": "tag_added", "tag_id": tag.pk},
            "steps": [
                {"type": "remove_tags", "tags": ["Ping"]},
                {"type": "add_tags", "tags": ["Ping"]},
            ],
        },
    )
    from parley.crm.actions import do_tag_contacts

    with workspace_context(tenant_a.workspace.pk):
        do_tag_contacts(
            actor=actor_for(tenant_a.workspace, tenant_a.owner),
            tag=tag,
            contact_ids=[contact.pk],
            add=True,
        )
    ran = run_workflow_jobs()
    assert ran.count("workflows.start") == 2  # the original, then the refused echo
    with workspace_context(tenant_a.workspace.pk):
        assert WorkflowRun.objects.count() == 1
        stopped = Execution.objects.get(status="stopped")
    assert "Loop stopped" in stopped.error


def test_the_per_minute_cap_refuses_and_logs(
    tenant_a: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(engine, "RUNS_PER_MINUTE", 2)
    channel = make_channel(tenant_a)
    live_workflow(
        tenant_a,
        {"trigger": {"type": "message_received"}, "steps": [{"type": "add_tags", "tags": ["X"]}]},
    )
    for i in range(3):
        inbound(tenant_a, channel, f"1555000810{i}", text("hi"))
    run_workflow_jobs()
    with workspace_context(tenant_a.workspace.pk):
        assert WorkflowRun.objects.count() == 2
        refused = Execution.objects.get(status="stopped")
    assert "Rate cap" in refused.error


def test_a_step_that_crashes_midway_is_redone_not_doubled(tenant_a: Tenant) -> None:
    """The step and the cursor move commit together: a step whose
    transaction dies (a killed worker) leaves the run where it was."""
    channel = make_channel(tenant_a)
    live_workflow(
        tenant_a,
        {
            "trigger": {"type": "message_received"},
            "steps": [
                {"type": "send_text", "text": "one"},
                {"type": "send_text", "text": "two"},
            ],
        },
    )
    inbound(tenant_a, channel, "15550008007", text("hi"))
    from parley.workflows import steps

    original = steps.EXECUTORS["send_text"]
    calls: list[str] = []

    def dies_after_sending_two(step: dict[str, Any], scope: steps.Scope) -> steps.Result:
        result = original(step, scope)
        calls.append(step["text"])
        if step["text"] == "two" and calls.count("two") == 1:
            raise SystemExit("worker killed")  # not an Exception: like a kill
        return result

    steps.EXECUTORS["send_text"] = dies_after_sending_two
    try:
        with pytest.raises(SystemExit):
            run_workflow_jobs()
        assert _outbound(tenant_a) == ["one"]  # "two" rolled back with its step
        assert _run(tenant_a).cursor == "1"
        with workspace_context(tenant_a.workspace.pk):
            engine.advance(workspace_id=tenant_a.workspace.pk, run_id=_run(tenant_a).pk)
    finally:
        steps.EXECUTORS["send_text"] = original
    assert _outbound(tenant_a) == ["one", "two"]
    assert _run(tenant_a).status == RunStatus.SUCCEEDED
