"""Every change to workflows: create, edit the draft (the builder's
operations), publish a version, turn on and off, delete, start by API."""

from __future__ import annotations

import copy
from typing import Any

from django.db import transaction
from django.utils import timezone

from parley.core import interest
from parley.core.errors import ActionError
from parley.crm.models import Contact
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.workflows import definition as defn
from parley.workflows.models import Workflow, WorkflowVersion


def _name(name: str) -> str:
    name = " ".join(name.split())[:120]
    if not name:
        raise ActionError("Give the workflow a name.", code="required", field="name")
    return name


@transaction.atomic
def do_create_workflow(
    *, actor: Actor, name: str, description: str = "", draft: dict[str, Any] | None = None
) -> Workflow:
    actor.require(Cap.WORKSPACE_MANAGE)
    body = copy.deepcopy(draft) if draft is not None else defn.empty()
    _check_shape(body)
    _give_ids(body.get("steps") or [])
    workflow = Workflow.objects.create(
        workspace=actor.workspace,
        name=_name(name),
        description=description.strip()[:300],
        draft=body,
        created_by=actor.user,
    )
    record(actor, "workflow.created", workflow.name)
    return workflow


@transaction.atomic
def do_rename_workflow(
    *, actor: Actor, workflow: Workflow, name: str, description: str = ""
) -> Workflow:
    actor.require(Cap.WORKSPACE_MANAGE)
    workflow.name = _name(name)
    workflow.description = description.strip()[:300]
    workflow.updated_at = timezone.now()
    workflow.save(update_fields=["name", "description", "updated_at"])
    return workflow


def _check_shape(body: Any) -> None:
    if not isinstance(body, dict) or not isinstance(body.get("steps", []), list):
        raise ActionError(
            'A definition is {"trigger": {...}, "steps": [...]}.', code="invalid", field="draft"
        )
    if not isinstance(body.get("trigger", {}), dict):
        raise ActionError("The trigger must be an object.", code="invalid", field="trigger")


def _give_ids(steps: list[Any]) -> None:
    for step in steps:
        if not isinstance(step, dict):
            raise ActionError("Each step must be an object.", code="invalid", field="steps")
        step.setdefault("id", defn.new_id())
        branches = step.get("branches", {})
        if not isinstance(branches, dict) or not all(
            isinstance(nested, list) for nested in branches.values()
        ):
            raise ActionError(
                'A step\'s "branches" maps branch names to lists of steps.',
                code="invalid",
                field="steps",
            )
        for nested in branches.values():
            _give_ids(nested)


def _save_draft(workflow: Workflow) -> Workflow:
    workflow.updated_at = timezone.now()
    workflow.save(update_fields=["draft", "updated_at"])
    return workflow


@transaction.atomic
def do_replace_draft(*, actor: Actor, workflow: Workflow, draft: dict[str, Any]) -> Workflow:
    """Put a whole definition in the draft (the API's way of editing)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    body = copy.deepcopy(draft)
    _check_shape(body)
    body.setdefault("steps", [])
    body.setdefault("trigger", {})
    _give_ids(body["steps"])
    workflow.draft = body
    return _save_draft(workflow)


@transaction.atomic
def do_set_trigger(*, actor: Actor, workflow: Workflow, trigger: dict[str, Any]) -> Workflow:
    actor.require(Cap.WORKSPACE_MANAGE)
    problems = defn.trigger_problems(trigger)
    if problems:
        raise ActionError(" ".join(problems), code="invalid_trigger", field="trigger")
    workflow.draft["trigger"] = trigger
    return _save_draft(workflow)


def _path(text: str) -> defn.Path:
    try:
        return defn.parse_path(text)
    except ValueError as exc:
        raise ActionError(str(exc), code="invalid_path", field="path") from exc


@transaction.atomic
def do_insert_step(
    *, actor: Actor, workflow: Workflow, parent: str, index: int, step_type: str
) -> dict[str, Any]:
    """Add a new step of ``step_type`` at ``index`` of the list under ``parent``
    (a step path + branch, e.g. "2.then", or "" for the top level)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    if step_type not in defn.STEPS:
        raise ActionError(f"Unknown step type {step_type!r}.", code="invalid", field="type")
    parts = parent.split(".") if parent else []
    if len(parts) % 2:
        raise ActionError("Insert into a branch: path.branch.", code="invalid_path", field="path")
    parent_path: defn.Path = tuple(
        int(p) if i % 2 == 0 and p.isdigit() else p for i, p in enumerate(parts)
    )
    step: dict[str, Any] = {"id": defn.new_id(), "type": step_type, **_defaults(step_type)}
    try:
        defn.insert(workflow.draft, parent_path, index, step)
    except ValueError as exc:
        raise ActionError(str(exc), code="stale", field="path") from exc
    if len(defn.walk(workflow.draft.get("steps") or [])) > defn.MAX_STEPS:
        raise ActionError(
            f"A workflow holds at most {defn.MAX_STEPS} steps.", code="too_many", field="type"
        )
    _save_draft(workflow)
    return step


def _defaults(step_type: str) -> dict[str, Any]:
    defaults: dict[str, dict[str, Any]] = {
        "condition": {"match": "all", "rules": [], "branches": {"then": [], "else": []}},
        "ask_buttons": {"text": "", "buttons": ["Yes", "No"], "timeout_minutes": 60},
        "wait": {"minutes": 60},
        "http_request": {"method": "POST", "url": "", "body": "", "save_as": ""},
        "assign": {"mode": "user"},
        "set_status": {"status": "resolved"},
        "send_template": {"name": "", "language": "en_US", "params": []},
    }
    return dict(defaults.get(step_type, {}))


@transaction.atomic
def do_update_step(
    *, actor: Actor, workflow: Workflow, step_id: str, values: dict[str, Any]
) -> dict[str, Any]:
    """Change a step's settings (not its type, id or branches); refused with
    the step's problems if the new settings do not make sense."""
    actor.require(Cap.WORKSPACE_MANAGE)
    path = defn.find_by_id(workflow.draft, step_id)
    step = defn.step_at(workflow.draft, path) if path else None
    if step is None:
        raise ActionError("That step no longer exists; reload the page.", code="stale")
    candidate = {**step, **{k: v for k, v in values.items() if k not in ("id", "type", "branches")}}
    problems = defn.step_problems(candidate)
    if problems:
        raise ActionError(" ".join(problems), code="invalid_step", field="step")
    if candidate.get("type") == "ask_buttons":
        # Keep one branch per button (a removed button's branch goes with it).
        names = defn.branch_names(candidate)
        branches = candidate.get("branches") or {}
        candidate["branches"] = {n: branches.get(n, []) for n in names}
    step.clear()
    step.update(candidate)
    _save_draft(workflow)
    return step


@transaction.atomic
def do_delete_step(*, actor: Actor, workflow: Workflow, step_id: str) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    path = defn.find_by_id(workflow.draft, step_id)
    if path is None:
        raise ActionError("That step no longer exists; reload the page.", code="stale")
    defn.remove(workflow.draft, path)
    _save_draft(workflow)


@transaction.atomic
def do_move_step(*, actor: Actor, workflow: Workflow, step_id: str, by: int) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    path = defn.find_by_id(workflow.draft, step_id)
    if path is None:
        raise ActionError("That step no longer exists; reload the page.", code="stale")
    defn.move(workflow.draft, path, 1 if by > 0 else -1)
    _save_draft(workflow)


@transaction.atomic
def do_publish(*, actor: Actor, workflow: Workflow) -> WorkflowVersion:
    """Freeze the draft as the next version and make it the live one. Runs
    already going keep the version they started with."""
    from parley.workflows.scheduling import next_fire

    actor.require(Cap.WORKSPACE_MANAGE)
    problems = defn.problems(workflow.draft)
    if problems:
        raise ActionError(
            "Fix these first: " + " ".join(p.message for p in problems[:5]),
            code="invalid_workflow",
            field="draft",
        )
    last = workflow.versions.order_by("-number").values_list("number", flat=True).first() or 0
    version = WorkflowVersion.objects.create(
        workspace=actor.workspace,
        workflow=workflow,
        number=last + 1,
        definition=copy.deepcopy(workflow.draft),
        published_by=actor.user,
    )
    trigger = version.trigger
    workflow.live_version = version
    workflow.trigger_type = str(trigger.get("type") or "")
    workflow.trigger = trigger
    workflow.next_fire_at = (
        next_fire(str(trigger["cron"]), actor.workspace, timezone.now())
        if workflow.trigger_type == "schedule"
        else None
    )
    workflow.updated_at = timezone.now()
    workflow.save()
    interest.bump(actor.workspace.pk)
    record(actor, "workflow.published", workflow.name, version=version.number)
    return version


@transaction.atomic
def do_set_enabled(*, actor: Actor, workflow: Workflow, enabled: bool) -> Workflow:
    actor.require(Cap.WORKSPACE_MANAGE)
    if enabled and workflow.live_version_id is None:
        raise ActionError(
            "Publish the workflow before turning it on.", code="not_published", field="enabled"
        )
    workflow.enabled = enabled
    workflow.updated_at = timezone.now()
    workflow.save(update_fields=["enabled", "updated_at"])
    interest.bump(actor.workspace.pk)
    record(actor, "workflow.enabled" if enabled else "workflow.disabled", workflow.name)
    return workflow


@transaction.atomic
def do_delete_workflow(*, actor: Actor, workflow: Workflow) -> None:
    actor.require(Cap.WORKSPACE_MANAGE)
    record(actor, "workflow.deleted", workflow.name)
    workflow.delete()
    interest.bump(actor.workspace.pk)


@transaction.atomic
def do_trigger_by_api(
    *, actor: Actor, workflow: Workflow, contact: Contact, data: dict[str, Any]
) -> list[int]:
    """The "incoming API call" trigger: start a run for this contact now,
    with ``data`` available to its steps as ``vars.input``."""
    from parley.workflows.engine import start_runs

    actor.require(Cap.WORKSPACE_MANAGE)
    if workflow.trigger_type != "api" or not workflow.enabled:
        raise ActionError(
            "This workflow is not an enabled workflow started by API calls.",
            code="not_api_triggered",
        )
    subject = {"contact_id": contact.pk, "trigger": {"type": "api", "input": data}}
    ids = start_runs(workspace_id=actor.workspace.pk, workflow_id=workflow.pk, subjects=[subject])
    if not ids:
        raise ActionError(
            "The workspace's workflow run cap for this minute is reached; try again shortly.",
            code="rate_capped",
        )
    return ids
