"""Running workflows: start runs, move them step by step, park them on waits
and questions, wake them on answers and timeouts.

Exactly once per step: each step runs in one transaction that holds the run
row locked and also moves the run's cursor past the step. A worker killed
mid-step rolls the step back with the cursor, and the job (retried after the
stall) redoes it from the same place; a finished step is never run again.
The one exception is an HTTP call, which leaves the building before the
commit: it carries an Idempotency-Key so its receiver can tell a repeat.
"""

from __future__ import annotations

import contextlib
import contextvars
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from typing import Any

import structlog
from django.db import transaction
from django.db.models import F
from django.utils import timezone

from parley.core import domain_events
from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.todos.actions import workspace_tz
from parley.workflows import definition as defn
from parley.workflows.context import load_facts
from parley.workflows.models import FINISHED, RunMinute, RunStatus, Workflow, WorkflowRun
from parley.workflows.steps import Scope, StepError, execute

log = structlog.get_logger(__name__)

# Runs started per workspace per minute before further starts are refused (logged).
RUNS_PER_MINUTE = 600
# A run started by a step of another run carries that run's chain of
# workflows; a workflow already in the chain, or a chain this long, is a loop.
MAX_CHAIN = 5
# The cursor of a run waiting after its last step.
END = "end"
SLACK = timedelta(seconds=1)

# The chain of workflow ids whose step is executing right now (in this thread).
current_chain: contextvars.ContextVar[tuple[int, ...]] = contextvars.ContextVar(
    "parley_workflow_chain", default=()
)


@contextlib.contextmanager
def _running(chain: tuple[int, ...]) -> Iterator[None]:
    token = current_chain.set(chain)
    try:
        yield
    finally:
        current_chain.reset(token)


def system_actor(workspace: Workspace) -> Actor:
    return Actor(workspace=workspace, role="admin")


# --- execution log (parley.executions), kept optional for import order -------


def _log_start(run: WorkflowRun, workflow: Workflow, trigger: dict[str, Any]) -> int | None:
    from parley.executions.actions import do_start_execution

    return do_start_execution(
        workspace_id=run.workspace_id,
        kind="workflow",
        source_id=workflow.pk,
        source_label=workflow.name,
        contact_id=run.contact_id,
        trigger=trigger,
    )


def _log_step(
    run: WorkflowRun,
    path: str,
    step: dict[str, Any],
    outcome: dict[str, Any],
    *,
    status: str,
    started: float,
    error: str = "",
) -> None:
    if run.execution_id is None:
        return
    from parley.executions.actions import do_record_step

    do_record_step(
        workspace_id=run.workspace_id,
        execution_id=run.execution_id,
        key=path,
        type=str(step.get("type") or ""),
        input={k: v for k, v in step.items() if k not in ("branches", "id")},
        outcome=outcome,
        status=status,
        duration_ms=(time.perf_counter() - started) * 1000,
        error=error,
    )


def _log_finish(run: WorkflowRun, status: str, error: str = "") -> None:
    if run.execution_id is None:
        return
    from parley.executions.actions import do_finish_execution

    do_finish_execution(
        workspace_id=run.workspace_id, execution_id=run.execution_id, status=status, error=error
    )


# --- starting ----------------------------------------------------------------


def _take_slots(workspace_id: int, wanted: int, now: datetime) -> int:
    """How many of ``wanted`` runs the per-minute cap still allows."""
    minute = now.replace(second=0, microsecond=0)
    counter, _ = RunMinute.objects.select_for_update().get_or_create(
        workspace_id=workspace_id, minute=minute
    )
    allowed = max(0, min(wanted, RUNS_PER_MINUTE - counter.started))
    if allowed:
        RunMinute.objects.filter(pk=counter.pk).update(started=F("started") + allowed)
    return allowed


def _record_refusal(
    workflow: Workflow, contact_id: int | None, trigger: dict[str, Any], reason: str
) -> None:
    from parley.executions.actions import do_record_execution

    do_record_execution(
        workspace_id=workflow.workspace_id,
        kind="workflow",
        source_id=workflow.pk,
        source_label=workflow.name,
        contact_id=contact_id,
        trigger=trigger,
        status="stopped",
        error=reason,
        duration_ms=0.0,
        steps=[],
    )


def _contacts_of_conversations(workspace_id: int, subjects: list[dict[str, Any]]) -> dict[int, int]:
    wanted = [
        int(s["conversation_id"])
        for s in subjects
        if s.get("contact_id") is None and s.get("conversation_id")
    ]
    if not wanted:
        return {}
    return dict(
        Conversation.objects.filter(workspace_id=workspace_id, pk__in=wanted).values_list(
            "id", "contact_id"
        )
    )


def start_runs(
    *,
    workspace_id: int,
    workflow_id: int,
    subjects: list[dict[str, Any]],
    chain: list[int] | tuple[int, ...] = (),
) -> list[int]:
    """Start one run per subject ({"contact_id", "conversation_id", "trigger"})
    on the workflow's live version, then run them. Returns the run ids."""
    from parley.workflows.tasks import advance_run

    workflow = Workflow.objects.filter(workspace_id=workspace_id, pk=workflow_id).first()
    if workflow is None or not workflow.enabled or workflow.live_version_id is None:
        return []
    chain = tuple(int(c) for c in chain)
    if workflow.pk in chain or len(chain) >= MAX_CHAIN:
        reason = (
            "Loop stopped: this workflow was triggered by its own steps"
            if workflow.pk in chain
            else f"Loop stopped: {len(chain)} workflows triggered each other in a row"
        )
        for subject in subjects[:1]:  # one log line, not one per contact
            _record_refusal(
                workflow, subject.get("contact_id"), subject.get("trigger") or {}, reason
            )
        log.warning("workflow_loop_stopped", workflow_id=workflow.pk, chain=list(chain))
        return []
    now = timezone.now()
    allowed = _take_slots(workspace_id, len(subjects), now)
    if allowed < len(subjects):
        dropped = subjects[allowed:]
        _record_refusal(
            workflow,
            dropped[0].get("contact_id"),
            {"refused": len(dropped), **(dropped[0].get("trigger") or {})},
            f"Rate cap: more than {RUNS_PER_MINUTE} workflow runs in a minute in this "
            f"workspace; {len(dropped)} run(s) not started.",
        )
    ids: list[int] = []
    contact_of = _contacts_of_conversations(workspace_id, subjects[:allowed])
    for subject in subjects[:allowed]:
        if subject.get("contact_id") is None and subject.get("conversation_id"):
            subject = {**subject, "contact_id": contact_of.get(int(subject["conversation_id"]))}
        trigger = dict(subject.get("trigger") or {})
        run = WorkflowRun.objects.create(
            workspace_id=workspace_id,
            workflow=workflow,
            version_id=workflow.live_version_id,
            contact_id=subject.get("contact_id"),
            conversation_id=subject.get("conversation_id"),
            cursor="0",
            context={
                "trigger": trigger,
                "message": trigger.get("message") or {},
                "vars": {"input": trigger["input"]} if "input" in trigger else {},
            },
            chain=[*chain, workflow.pk],
        )
        run.execution_id = _log_start(run, workflow, trigger)
        run.save(update_fields=["execution_id"])
        advance_run.defer(workspace_id=workspace_id, run_id=run.pk)
        ids.append(run.pk)
    return ids


# --- running -----------------------------------------------------------------


def _conversation_for(run: WorkflowRun) -> Conversation | None:
    if run.conversation_id:
        found = Conversation.objects.filter(
            workspace_id=run.workspace_id, pk=run.conversation_id
        ).first()
        if found is not None:
            return found
    if run.contact_id is None:
        return None
    return (
        Conversation.objects.filter(workspace_id=run.workspace_id, contact_id=run.contact_id)
        .order_by("-last_message_at")
        .first()
    )


def _finish(run: WorkflowRun, status: str, error: str = "") -> None:
    run.status = status
    run.cursor = ""
    run.error = error[:2000]
    run.wait_until = None
    run.awaiting_reply = False
    run.finished_at = run.updated_at = timezone.now()
    run.save()
    _log_finish(run, status, error)
    if status == RunStatus.FAILED:
        domain_events.emit(
            run.workspace_id,
            domain_events.WORKFLOW_FAILED,
            workflow_id=run.workflow_id,
            execution_id=run.execution_id or 0,
            error=error[:500],
        )


def _resume_path(
    run: WorkflowRun, definition: dict[str, Any], reply_id: str | None, now: datetime
) -> defn.Path | bool | None:
    """Where a waiting run goes on: a path, None (the end), or False (keep waiting)."""
    # A wake-up job may run a moment before the time it was scheduled for.
    now = now + SLACK
    if run.cursor == END:
        return None if run.wait_until is None or run.wait_until <= now else False
    path = defn.parse_path(run.cursor)
    if run.awaiting_reply:
        step = defn.step_at(definition, path) or {}
        if reply_id is not None:
            index = reply_id.removeprefix("btn_")
            names = defn.branch_names(step)
            branch = f"b{index}" if f"b{index}" in names else ""
            if not branch:
                return False  # not one of our buttons: keep waiting
            run.context.setdefault("vars", {})["answer"] = {"button": int(index)}
            return defn.first_of_branch(definition, path, branch)
        if run.wait_until is not None and run.wait_until <= now:
            return defn.first_of_branch(definition, path, "timeout")
        return False
    if run.wait_until is not None and run.wait_until > now:
        return False
    return path


def step_once(*, workspace_id: int, run_id: int, reply_id: str | None = None) -> bool:
    """Run (or resume) one step of a run in its own transaction. Returns
    whether there is more to do right now."""
    from parley.workflows.tasks import wake_run

    # One transaction per step: the step's changes and the cursor moving past
    # it commit together (see the module's docstring).
    with workspace_context(workspace_id):
        run = (
            WorkflowRun.objects.select_for_update()
            .select_related("version", "workflow")
            .filter(workspace_id=workspace_id, pk=run_id)
            .first()
        )
        if run is None or run.status in FINISHED:
            return False
        definition = run.version.definition
        now = timezone.now()
        if run.status == RunStatus.WAITING:
            resumed = _resume_path(run, definition, reply_id, now)
            if resumed is False:
                return False
            run.status = RunStatus.RUNNING
            run.wait_until = None
            if run.awaiting_reply:
                run.awaiting_reply = False
                answered = "reply" if reply_id is not None else "timeout"
                _log_step(
                    run,
                    run.cursor,
                    {"type": "answer"},
                    {"answer": answered},
                    status="ok",
                    started=time.perf_counter(),
                )
            if resumed is None:
                _finish(run, RunStatus.SUCCEEDED)
                return False
            assert isinstance(resumed, tuple)
            run.cursor = defn.format_path(resumed)
        elif reply_id is not None:
            return False  # an answer for a run that is not asking
        path = defn.parse_path(run.cursor)
        step = defn.step_at(definition, path)
        if step is None:
            _finish(run, RunStatus.SUCCEEDED)
            return False
        workspace = Workspace.objects.get(pk=workspace_id)
        facts = load_facts(
            workspace_id=workspace_id,
            zone=workspace_tz(workspace),
            now=now,
            contact_id=run.contact_id,
            context=run.context,
        )
        scope = Scope(
            workspace=workspace,
            actor=system_actor(workspace),
            facts=facts,
            contact=facts.contact,
            conversation=_conversation_for(run),
            run_id=run.pk,
            path=run.cursor,
        )
        started = time.perf_counter()
        try:
            with _running(tuple(run.chain)), transaction.atomic():
                result = execute(step, scope)
        except StepError as exc:
            _log_step(run, run.cursor, step, {}, status="failed", started=started, error=str(exc))
            _finish(run, RunStatus.FAILED, f"Step {run.cursor} ({step.get('type')}): {exc}")
            return False
        except Exception as exc:  # a bug in a step must fail the run, visibly, not loop
            log.exception("workflow_step_crashed", run_id=run.pk, path=run.cursor)
            _log_step(run, run.cursor, step, {}, status="failed", started=started, error=repr(exc))
            _finish(
                run, RunStatus.FAILED, f"Step {run.cursor} ({step.get('type')}): internal error"
            )
            return False
        run.steps_done += 1
        if result.variables:
            run.context.setdefault("vars", {}).update(result.variables)
        waiting = result.wait_until is not None
        _log_step(
            run,
            run.cursor,
            step,
            result.outcome,
            status="waiting" if waiting else "ok",
            started=started,
        )
        if result.stop:
            _finish(run, RunStatus.STOPPED, "Stopped by a stop step.")
            return False
        if result.branch:
            following = defn.first_of_branch(definition, path, result.branch)
        elif result.awaiting_reply:
            following = path  # stays on the question until the answer or timeout
        else:
            following = defn.next_path(definition, path)
        if waiting:
            assert result.wait_until is not None
            run.status = RunStatus.WAITING
            run.wait_until = result.wait_until
            run.awaiting_reply = result.awaiting_reply
            # A wait at the very end still waits, then finishes.
            run.cursor = END if following is None else defn.format_path(following)
            run.updated_at = now
            run.save()
            wake_run.configure(schedule_at=result.wait_until).defer(
                workspace_id=workspace_id, run_id=run.pk
            )
            return False
        if following is None:
            _finish(run, RunStatus.SUCCEEDED)
            return False
        run.cursor = defn.format_path(following)
        run.updated_at = now
        run.save()
        return True


def advance(*, workspace_id: int, run_id: int, reply_id: str | None = None) -> int:
    """Run steps until the run waits or ends; returns how many steps ran."""
    ran = 0
    more = step_once(workspace_id=workspace_id, run_id=run_id, reply_id=reply_id)
    # A tree has at most MAX_STEPS steps on any path: the bound is a safety net.
    while more and ran < defn.MAX_STEPS * 2:
        ran += 1
        more = step_once(workspace_id=workspace_id, run_id=run_id)
    return ran
