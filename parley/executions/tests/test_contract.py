"""The execution-log contract other apps call: start, steps, finish, one shot,
and the failure alert deduplicated per source per hour."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.executions import actions
from parley.executions.models import Execution, ExecutionStep
from parley.notifications.models import Notification
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _contact(tenant: Tenant) -> Contact:
    with workspace_context(tenant.workspace.pk):
        return Contact.objects.create(workspace=tenant.workspace, wa_id="15550001111", name="Ann")


def test_start_steps_finish_records_a_run_in_order_with_durations(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk
    contact = _contact(tenant_a)
    with workspace_context(ws):
        with CaptureQueriesContext(connection) as queries:
            run = actions.do_start_execution(
                workspace_id=ws,
                kind="workflow",
                source_id=42,
                source_label="Welcome flow",
                contact_id=contact.pk,
                trigger={"event": "message.received", "text": "hi"},
            )
            actions.do_record_step(
                workspace_id=ws,
                execution_id=run,
                key="s1",
                type="send_message",
                input={"text": "Hello"},
                outcome={"message_id": 7},
                status="ok",
                duration_ms=3.5,
            )
            actions.do_record_step(
                workspace_id=ws,
                execution_id=run,
                key="s2",
                type="wait",
                input={"minutes": 5},
                outcome={},
                status="waiting",
                duration_ms=0.1,
            )
            actions.do_finish_execution(workspace_id=ws, execution_id=run, status="waiting")
        # One statement per call: these run on hot paths.
        assert len(queries) == 4
        execution = Execution.objects.get(pk=run)
        assert execution.status == "waiting"
        assert execution.finished_at is None and execution.duration_ms is None
        actions.do_finish_execution(workspace_id=ws, execution_id=run, status="succeeded")
        execution.refresh_from_db()
        steps = list(ExecutionStep.objects.filter(execution_id=run).order_by("position"))
    assert execution.status == "succeeded"
    assert execution.contact_id == contact.pk
    assert execution.trigger == {"event": "message.received", "text": "hi"}
    assert execution.finished_at is not None and execution.duration_ms is not None
    assert execution.finished_at >= execution.started_at
    assert execution.duration_ms >= 0
    assert [(s.position, s.key, s.status) for s in steps] == [(1, "s1", "ok"), (2, "s2", "waiting")]
    assert steps[0].input == {"text": "Hello"} and steps[0].outcome == {"message_id": 7}
    assert steps[0].duration_ms == 3.5


def test_one_shot_records_run_and_steps_in_one_statement(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk
    with workspace_context(ws):
        with CaptureQueriesContext(connection) as queries:
            run = actions.do_record_execution(
                workspace_id=ws,
                kind="webhook",
                source_id=9,
                source_label="CRM endpoint",
                contact_id=None,
                trigger={"event": "contact.created", "delivery_id": "d-1"},
                status="succeeded",
                error="",
                duration_ms=120.0,
                steps=[
                    {
                        "key": "post",
                        "type": "http",
                        "input": {"url": "http://x"},
                        "outcome": {"status": 200},
                        "duration_ms": 118.5,
                    },
                    {"key": "log", "status": "skipped"},
                ],
            )
        assert len(queries) == 1
        execution = Execution.objects.get(pk=run)
        steps = list(ExecutionStep.objects.filter(execution_id=run).order_by("position"))
    assert execution.kind == "webhook" and execution.status == "succeeded"
    assert execution.duration_ms == 120.0
    assert execution.finished_at is not None
    assert execution.finished_at - execution.started_at >= timedelta(milliseconds=119)
    assert [(s.position, s.key, s.type, s.status) for s in steps] == [
        (1, "post", "http", "ok"),
        (2, "log", "", "skipped"),
    ]
    assert steps[0].outcome == {"status": 200} and steps[0].duration_ms == 118.5
    assert steps[1].input == {}


def test_bad_kind_or_status_is_refused(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk
    with workspace_context(ws):
        with pytest.raises(ValueError, match="kind must be one of"):
            actions.do_start_execution(
                workspace_id=ws,
                kind="cron",
                source_id=None,
                source_label="",
                contact_id=None,
                trigger={},
            )
        run = actions.do_start_execution(
            workspace_id=ws,
            kind="rule",
            source_id=None,
            source_label="",
            contact_id=None,
            trigger={},
        )
        with pytest.raises(ValueError, match="step status"):
            actions.do_record_step(
                workspace_id=ws,
                execution_id=run,
                key="",
                type="",
                input={},
                outcome={},
                status="done",
                duration_ms=0,
            )
        with pytest.raises(ValueError, match="status must be"):
            actions.do_finish_execution(workspace_id=ws, execution_id=run, status="ok")


def test_huge_payloads_are_kept_as_an_excerpt(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk
    with workspace_context(ws):
        run = actions.do_start_execution(
            workspace_id=ws,
            kind="webhook",
            source_id=1,
            source_label="big",
            contact_id=None,
            trigger={"body": "x" * 100_000},
        )
        trigger = Execution.objects.get(pk=run).trigger
    assert trigger["_truncated"] is True and trigger["_chars"] > 100_000
    assert len(trigger["excerpt"]) == actions.MAX_JSON_CHARS


def test_another_workspaces_run_is_not_touched(tenant_a: Tenant, tenant_b: Tenant) -> None:
    with workspace_context(tenant_a.workspace.pk):
        run = actions.do_start_execution(
            workspace_id=tenant_a.workspace.pk,
            kind="workflow",
            source_id=1,
            source_label="A's",
            contact_id=None,
            trigger={},
        )
    with workspace_context(tenant_b.workspace.pk):
        actions.do_record_step(
            workspace_id=tenant_b.workspace.pk,
            execution_id=run,
            key="x",
            type="x",
            input={},
            outcome={},
            status="ok",
            duration_ms=1,
        )
        actions.do_finish_execution(
            workspace_id=tenant_b.workspace.pk, execution_id=run, status="failed", error="boom"
        )
    with workspace_context(tenant_a.workspace.pk):
        execution = Execution.objects.get(pk=run)
        assert execution.status == "running"
        assert not ExecutionStep.objects.filter(execution_id=run).exists()
    with workspace_context(tenant_b.workspace.pk):
        assert not Notification.objects.exists()


def test_failure_alerts_admins_and_owners_once_per_source_per_hour(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk

    def fail(source_id: int) -> int:
        run = actions.do_start_execution(
            workspace_id=ws,
            kind="workflow",
            source_id=source_id,
            source_label="Onboarding",
            contact_id=None,
            trigger={},
        )
        actions.do_finish_execution(
            workspace_id=ws, execution_id=run, status="failed", error="HTTP 500"
        )
        return run

    with workspace_context(ws):
        first = fail(5)
        fail(5)
        fail(5)
        notes = list(Notification.objects.filter(workspace_id=ws).order_by("user_id"))
        assert sorted(n.user_id for n in notes) == sorted([tenant_a.owner.pk, tenant_a.admin.pk])
        assert all(n.url == f"/w/{tenant_a.workspace.slug}/automation/logs/{first}/" for n in notes)
        assert notes[0].title == "Workflow failed: Onboarding" and notes[0].body == "HTTP 500"
        # Another source alerts on its own; a one-shot failure alerts too.
        fail(6)
        assert Notification.objects.filter(workspace_id=ws).count() == 4
        actions.do_record_execution(
            workspace_id=ws,
            kind="webhook",
            source_id=5,
            source_label="Endpoint",
            contact_id=None,
            trigger={},
            status="failed",
            error="timeout",
            duration_ms=10_000,
            steps=[],
        )
        assert Notification.objects.filter(workspace_id=ws).count() == 6
        # The next hour, the same source alerts again.
        sent = actions.alert_failure(
            workspace_id=ws,
            execution_id=first,
            kind="workflow",
            source_id=5,
            source_label="Onboarding",
            error="again",
            now=timezone.now() + timedelta(hours=1),
        )
        assert sent == 2
        # Success and stops never alert.
        run = actions.do_start_execution(
            workspace_id=ws,
            kind="workflow",
            source_id=7,
            source_label="",
            contact_id=None,
            trigger={},
        )
        actions.do_finish_execution(
            workspace_id=ws, execution_id=run, status="stopped", error="loop"
        )
        assert Notification.objects.filter(workspace_id=ws).count() == 8
