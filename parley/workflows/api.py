"""The workflows API: CRUD on drafts, publish, on/off, dry run, runs, and the
"incoming API call" trigger. Admins and owners only. Thin."""

from __future__ import annotations

from typing import Any

from django.http import Http404, HttpRequest
from ninja import Router, Status

from parley.core.errors import ActionError
from parley.core.pagination import paginate
from parley.crm.models import Contact
from parley.tenancy.actor import actor_of
from parley.workflows import actions
from parley.workflows import definition as defn
from parley.workflows.access import access_workflow, workflow_list
from parley.workflows.dryrun import dry_run
from parley.workflows.models import WorkflowRun
from parley.workflows.schemas import (
    DryRunIn,
    DryRunOut,
    ProblemOut,
    RunIn,
    RunOut,
    RunStartedOut,
    VersionOut,
    WorkflowIn,
    WorkflowOut,
    WorkflowPage,
    WorkflowUpdateIn,
)

router = Router(tags=["workflows"])


@router.get("/workflows", response=WorkflowPage, summary="List workflows")
def list_workflows(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    return paginate(
        workflow_list(actor_of(request)).select_related("live_version"), cursor=cursor, limit=limit
    )


@router.post("/workflows", response={201: WorkflowOut}, summary="Create a workflow")
def create_workflow(request: HttpRequest, payload: WorkflowIn) -> Any:
    """Created off, with the definition as its draft: publish it, then turn it on."""
    workflow = actions.do_create_workflow(
        actor=actor_of(request),
        name=payload.name,
        description=payload.description,
        draft=payload.definition,
    )
    return Status(201, workflow)


@router.get("/workflows/{workflow_id}", response=WorkflowOut, summary="Get a workflow")
def get_workflow(request: HttpRequest, workflow_id: int) -> Any:
    return access_workflow(actor_of(request), workflow_id)


@router.patch("/workflows/{workflow_id}", response=WorkflowOut, summary="Edit a workflow")
def update_workflow(request: HttpRequest, workflow_id: int, payload: WorkflowUpdateIn) -> Any:
    """A new definition replaces the draft (the live version is unchanged until
    you publish)."""
    actor = actor_of(request)
    workflow = access_workflow(actor, workflow_id, for_update=True)
    if payload.name is not None or payload.description is not None:
        actions.do_rename_workflow(
            actor=actor,
            workflow=workflow,
            name=payload.name if payload.name is not None else workflow.name,
            description=(
                payload.description if payload.description is not None else workflow.description
            ),
        )
    if payload.definition is not None:
        actions.do_replace_draft(actor=actor, workflow=workflow, draft=payload.definition)
    if payload.enabled is not None:
        actions.do_set_enabled(actor=actor, workflow=workflow, enabled=payload.enabled)
    return workflow


@router.delete("/workflows/{workflow_id}", response={204: None}, summary="Delete a workflow")
def delete_workflow(request: HttpRequest, workflow_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_workflow(actor=actor, workflow=access_workflow(actor, workflow_id))
    return Status(204, None)


@router.get(
    "/workflows/{workflow_id}/problems",
    response=list[ProblemOut],
    summary="What keeps the draft from being published",
)
def workflow_problems(request: HttpRequest, workflow_id: int) -> Any:
    workflow = access_workflow(actor_of(request), workflow_id)
    return [{"path": p.path, "message": p.message} for p in defn.problems(workflow.draft)]


@router.post(
    "/workflows/{workflow_id}/publish",
    response={201: VersionOut},
    summary="Publish the draft as the next version",
)
def publish_workflow(request: HttpRequest, workflow_id: int) -> Any:
    """Refused with the problems if the draft is not valid. Runs already going
    keep the version they started with."""
    actor = actor_of(request)
    workflow = access_workflow(actor, workflow_id, for_update=True)
    return Status(201, actions.do_publish(actor=actor, workflow=workflow))


@router.post("/workflows/{workflow_id}/dry-run", response=DryRunOut, summary="Dry run")
def dry_run_workflow(request: HttpRequest, workflow_id: int, payload: DryRunIn) -> Any:
    """Which steps of the draft would run for this contact and message:
    conditions decided for real, nothing sent or changed."""
    actor = actor_of(request)
    workflow = access_workflow(actor, workflow_id)
    contact = None
    if payload.contact_id is not None:
        contact = Contact.objects.filter(workspace=actor.workspace, pk=payload.contact_id).first()
        if contact is None:
            raise Http404("No such contact.")
    fires, lines = dry_run(
        workspace=actor.workspace, definition=workflow.draft, contact=contact, text=payload.text
    )
    return {"fires": fires, "steps": lines}


@router.post(
    "/workflows/{workflow_id}/runs",
    response={202: RunStartedOut},
    summary="Start a run (the incoming API call trigger)",
)
def start_run(request: HttpRequest, workflow_id: int, payload: RunIn) -> Any:
    """For an enabled workflow whose trigger is "Incoming API call". ``input``
    is available to its steps as ``vars.input`` (e.g. ``{{vars.input.order}}``)."""
    actor = actor_of(request)
    workflow = access_workflow(actor, workflow_id)
    if payload.contact_id is None:
        raise ActionError(
            "Name the contact to run for: contact_id.", code="required", field="contact_id"
        )
    contact = Contact.objects.filter(workspace=actor.workspace, pk=payload.contact_id).first()
    if contact is None:
        raise Http404("No such contact.")
    ids = actions.do_trigger_by_api(
        actor=actor, workflow=workflow, contact=contact, data=payload.input
    )
    return Status(202, {"run_ids": ids})


@router.get("/workflows/{workflow_id}/runs", response=list[RunOut], summary="Recent runs")
def list_runs(request: HttpRequest, workflow_id: int, limit: int = 50) -> Any:
    actor = actor_of(request)
    workflow = access_workflow(actor, workflow_id)
    return list(
        WorkflowRun.objects.select_related("version")
        .filter(workspace=actor.workspace, workflow=workflow)
        .order_by("-started_at")[: max(1, min(limit, 200))]
    )
