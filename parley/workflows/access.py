"""Every fetch of workflow rows by id, scoped to the actor's workspace.
Workflows act with an admin's powers, so only admins and owners see them."""

from __future__ import annotations

from django.db.models import QuerySet
from django.http import Http404

from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.workflows.models import Workflow, WorkflowRun, WorkflowVersion


def access_workflow(actor: Actor, workflow_id: int, *, for_update: bool = False) -> Workflow:
    actor.require(Cap.WORKSPACE_MANAGE)
    rows = Workflow.objects.select_related("live_version").filter(
        workspace=actor.workspace, id=workflow_id
    )
    if for_update:
        rows = rows.select_for_update(of=("self",))
    workflow = rows.first()
    if workflow is None:
        raise Http404("No such workflow.")
    return workflow


def access_version(actor: Actor, workflow: Workflow, number: int) -> WorkflowVersion:
    actor.require(Cap.WORKSPACE_MANAGE)
    version = WorkflowVersion.objects.filter(
        workspace=actor.workspace, workflow=workflow, number=number
    ).first()
    if version is None:
        raise Http404("No such version.")
    return version


def workflow_list(actor: Actor) -> QuerySet[Workflow]:
    actor.require(Cap.WORKSPACE_MANAGE)
    return Workflow.objects.filter(workspace=actor.workspace).order_by("name", "id")


def recent_runs(actor: Actor, workflow: Workflow, limit: int = 20) -> list[WorkflowRun]:
    actor.require(Cap.WORKSPACE_MANAGE)
    return list(
        WorkflowRun.objects.select_related("contact", "version")
        .filter(workspace=actor.workspace, workflow=workflow)
        .order_by("-started_at")[:limit]
    )
