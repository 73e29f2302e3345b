"""Workflow pages: the list and the builder (trigger, steps, publish, on/off,
dry run, versions, recent runs). Builder edits are htmx posts that answer
with the redrawn flow; without htmx they redirect back. Thin."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from parley.accounts.models import User
from parley.core.errors import ActionError
from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.deals.models import Stage
from parley.drips.models import Sequence
from parley.routing.models import Team
from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap
from parley.tenancy.web import flash_action, workspace_view
from parley.whatsapp.models import Channel
from parley.workflows import actions, builder
from parley.workflows import definition as defn
from parley.workflows.access import access_workflow, recent_runs, workflow_list
from parley.workflows.dryrun import dry_run
from parley.workflows.models import Workflow, WorkflowVersion


def _names(actor: Actor) -> dict[str, dict[int, str]]:
    """Display names for the ids steps and triggers refer to."""
    workspace = actor.workspace
    teams = dict(Team.objects.filter(workspace=workspace).values_list("id", "name"))
    member_ids = Membership.objects.filter(workspace=workspace).exclude(role="viewer")
    return {
        "tags": dict(Tag.objects.filter(workspace=workspace).values_list("id", "name")),
        "segments": dict(Segment.objects.filter(workspace=workspace).values_list("id", "name")),
        "sequences": dict(Sequence.objects.filter(workspace=workspace).values_list("id", "name")),
        "stages": {
            pk: f"{pipeline} → {name}"
            for pk, name, pipeline in Stage.objects.filter(workspace=workspace).values_list(
                "id", "name", "pipeline__name"
            )
        },
        "members": {
            u.pk: u.display_name
            for u in User.objects.filter(pk__in=member_ids.values("user_id")).order_by("pk")
        },
        "teams": teams,
        "channels": dict(Channel.objects.filter(workspace=workspace).values_list("id", "name")),
    }


def _builder_context(actor: Actor, workflow: Workflow, **extra: Any) -> dict[str, Any]:
    names = _names(actor)
    draft = workflow.draft
    live = workflow.live_version
    return {
        "workflow": workflow,
        "names": names,
        "trigger": draft.get("trigger") or {},
        "trigger_summary": builder.trigger_summary(draft.get("trigger") or {}, names),
        "trigger_problems": defn.trigger_problems(draft.get("trigger")),
        "nodes": builder.tree(draft.get("steps") or [], names),
        "problems": defn.problems(draft),
        "unpublished": live is None or live.definition != draft,
        "step_types": defn.STEPS,
        "trigger_types": defn.TRIGGERS,
        "condition_fields": defn.CONDITION_FIELDS,
        "operators": defn.OPERATORS,
        "attributes": list(
            AttributeDefinition.objects.filter(workspace=actor.workspace)
            .order_by("label")
            .values_list("key", "label")
        ),
        **extra,
    }


def _flow(request: HttpRequest, actor: Actor, workflow: Workflow, **extra: Any) -> HttpResponse:
    return render(request, "workflows/_flow.html", _builder_context(actor, workflow, **extra))


def _after_edit(
    request: HttpRequest, actor: Actor, workflow: Workflow, error: str = ""
) -> HttpResponseBase:
    if request.headers.get("HX-Request"):
        return _flow(request, actor, workflow, error=error)
    if error:
        messages.error(request, error)
    return redirect("workflows_builder", actor.workspace.slug, workflow.pk)


def _edit(
    request: HttpRequest, actor: Actor, workflow: Workflow, change: Callable[[], object]
) -> HttpResponseBase:
    """Apply one builder edit; a refusal is shown above the redrawn flow."""
    try:
        change()
    except ActionError as exc:
        return _after_edit(request, actor, workflow, exc.message)
    return _after_edit(request, actor, workflow)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def workflows_index(request: HttpRequest, actor: Actor) -> HttpResponseBase:
    error = ""
    if request.method == "POST":
        try:
            draft = defn.empty()
            kind = request.POST.get("trigger", "message_received")
            draft["trigger"] = {"type": kind if kind in defn.TRIGGERS else "message_received"}
            workflow = actions.do_create_workflow(
                actor=actor, name=request.POST.get("name", ""), draft=draft
            )
        except ActionError as exc:
            error = exc.message
        else:
            return redirect("workflows_builder", actor.workspace.slug, workflow.pk)
    names = _names(actor)
    rows = [
        (w, builder.trigger_summary(w.draft.get("trigger") or {}, names))
        for w in workflow_list(actor).select_related("live_version")
    ]
    return render(
        request,
        "workflows/index.html",
        {"rows": rows, "trigger_types": defn.TRIGGERS, "error": error},
        status=400 if error else 200,
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_GET
def workflows_builder(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponse:
    workflow = access_workflow(actor, workflow_id)
    versions = list(
        WorkflowVersion.objects.filter(workspace=actor.workspace, workflow=workflow)
        .select_related("published_by")
        .order_by("-number")[:20]
    )
    return render(
        request,
        "workflows/builder.html",
        _builder_context(
            actor,
            workflow,
            versions=versions,
            runs=recent_runs(actor, workflow),
            channels=list(Channel.objects.filter(workspace=actor.workspace).order_by("name")),
            segments=list(Segment.objects.filter(workspace=actor.workspace).order_by("name")),
            tags=list(Tag.objects.filter(workspace=actor.workspace).order_by("name")),
        ),
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_trigger(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    trigger = builder.trigger_values(request.POST)
    return _edit(
        request,
        actor,
        workflow,
        lambda: actions.do_set_trigger(actor=actor, workflow=workflow, trigger=trigger),
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_insert(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    try:
        index = int(request.POST.get("index", "0"))
        step = actions.do_insert_step(
            actor=actor,
            workflow=workflow,
            parent=request.POST.get("parent", ""),
            index=index,
            step_type=request.POST.get("type", ""),
        )
    except (ActionError, ValueError) as exc:
        message = exc.message if isinstance(exc, ActionError) else "Choose where to add the step."
        return _after_edit(request, actor, workflow, message)
    if request.headers.get("HX-Request"):
        return _flow(request, actor, workflow, editing=step["id"])
    return redirect(reverse("workflows_step", args=[actor.workspace.slug, workflow.pk, step["id"]]))


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_http_methods(["GET", "POST"])
def workflows_step(
    request: HttpRequest, actor: Actor, workflow_id: int, step_key: str
) -> HttpResponseBase:
    """GET: the step's edit form (the builder's side panel); POST: save it."""
    workflow = access_workflow(actor, workflow_id, for_update=request.method == "POST")
    path = defn.find_by_id(workflow.draft, step_key)
    step = defn.step_at(workflow.draft, path) if path else None
    if step is None:
        return HttpResponse("That step no longer exists; reload the page.", status=404)
    error = ""
    if request.method == "POST":
        values = builder.step_values(str(step.get("type")), request.POST)
        try:
            actions.do_update_step(actor=actor, workflow=workflow, step_id=step_key, values=values)
        except ActionError as exc:
            error = exc.message
            step = {**step, **values}  # show what was typed, with the reason
        else:
            return _after_edit(request, actor, workflow)
    context = _builder_context(actor, workflow, step=step, step_error=error)
    context["stages"] = list(
        Stage.objects.filter(workspace=actor.workspace)
        .select_related("pipeline")
        .order_by("pipeline__name", "position")
    )
    if not request.headers.get("HX-Request"):
        return render(request, "workflows/step_page.html", context, status=400 if error else 200)
    if error:
        # htmx swaps only 2xx answers: the flow comes back with the form open.
        return render(request, "workflows/_flow.html", context)
    return render(request, "workflows/_step_form.html", context)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_step_delete(
    request: HttpRequest, actor: Actor, workflow_id: int, step_key: str
) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    return _edit(
        request,
        actor,
        workflow,
        lambda: actions.do_delete_step(actor=actor, workflow=workflow, step_id=step_key),
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_step_move(
    request: HttpRequest, actor: Actor, workflow_id: int, step_key: str
) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    by = -1 if request.POST.get("by") == "-1" else 1
    return _edit(
        request,
        actor,
        workflow,
        lambda: actions.do_move_step(actor=actor, workflow=workflow, step_id=step_key, by=by),
    )


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_publish(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    version = flash_action(
        request, lambda: actions.do_publish(actor=actor, workflow=workflow), "Published."
    )
    if version is not None and request.POST.get("enable") == "1" and not workflow.enabled:
        flash_action(
            request,
            lambda: actions.do_set_enabled(actor=actor, workflow=workflow, enabled=True),
            f"Version {version.number} is live and the workflow is on.",
        )
    return redirect("workflows_builder", actor.workspace.slug, workflow.pk)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_toggle(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    enabled = request.POST.get("enabled") == "1"
    flash_action(
        request,
        lambda: actions.do_set_enabled(actor=actor, workflow=workflow, enabled=enabled),
        f"{workflow.name} is {'on' if enabled else 'off'}.",
    )
    if request.POST.get("next") == "index":
        return redirect("workflows_index", actor.workspace.slug)
    return redirect("workflows_builder", actor.workspace.slug, workflow.pk)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_rename(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    flash_action(
        request,
        lambda: actions.do_rename_workflow(
            actor=actor,
            workflow=workflow,
            name=request.POST.get("name", ""),
            description=request.POST.get("description", ""),
        ),
        "Saved.",
    )
    return redirect("workflows_builder", actor.workspace.slug, workflow.pk)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_delete(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponseBase:
    workflow = access_workflow(actor, workflow_id, for_update=True)
    actions.do_delete_workflow(actor=actor, workflow=workflow)
    messages.success(request, f"Deleted {workflow.name}.")
    return redirect("workflows_index", actor.workspace.slug)


@workspace_view(Cap.WORKSPACE_MANAGE)
@require_POST
def workflows_dry_run(request: HttpRequest, actor: Actor, workflow_id: int) -> HttpResponse:
    workflow = access_workflow(actor, workflow_id)
    query = request.POST.get("contact", "").strip()
    contact = None
    if query:
        digits = "".join(ch for ch in query if ch.isdigit())
        rows = Contact.objects.filter(workspace=actor.workspace)
        contact = (
            rows.filter(wa_id=digits).first() if digits else rows.filter(name__iexact=query).first()
        )
    text = request.POST.get("text", "")
    fires, lines = dry_run(
        workspace=actor.workspace, definition=workflow.draft, contact=contact, text=text
    )
    return render(
        request,
        "workflows/_dry_run.html",
        {"fires": fires, "lines": lines, "contact": contact, "query": query, "text": text},
    )
