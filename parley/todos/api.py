"""Tasks over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import Router, Status

from parley.core.errors import ActionError
from parley.core.pagination import paginate
from parley.crm.access import access_contact
from parley.deals.access import access_deal
from parley.tenancy.actor import actor_of
from parley.todos import access, actions
from parley.todos.schemas import TaskIn, TaskOut, TaskPage, TaskUpdateIn

router = Router(tags=["tasks"])


def _assignee(raw: str | None) -> str | int | None:
    if raw is None or raw in ("", "all", "me", "none"):
        return raw or None
    if raw.isdigit():
        return int(raw)
    raise ActionError(
        "assignee is 'me', 'none', 'all' or a user id.", code="invalid_assignee", field="assignee"
    )


@router.get("/tasks", response=TaskPage, summary="List tasks")
def list_tasks(
    request: HttpRequest,
    assignee: str | None = None,
    due: str | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    deal_id: int | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    """`assignee`: me, none, all or a user id. `due`: overdue, today (later
    today), upcoming or none (no due time); a due filter lists open tasks
    unless `status` (open or done) says otherwise."""
    qs = access.task_list(
        actor_of(request),
        assignee=_assignee(assignee),
        due=due,
        status=status,
        contact_id=contact_id,
        deal_id=deal_id,
    )
    return paginate(qs, cursor=cursor, limit=limit)


@router.post("/tasks", response={201: TaskOut}, summary="Create a task")
def create_task(request: HttpRequest, payload: TaskIn) -> Any:
    actor = actor_of(request)
    contact = access_contact(actor, payload.contact_id) if payload.contact_id else None
    deal = access_deal(actor, payload.deal_id) if payload.deal_id else None
    task = actions.do_create_task(
        actor=actor,
        title=payload.title,
        notes=payload.notes,
        due_at=payload.due_at,
        assignee_id=payload.assignee_id
        if "assignee_id" in payload.model_fields_set
        else actions.KEEP,
        contact=contact,
        deal=deal,
    )
    return Status(201, task)


@router.get("/tasks/{task_id}", response=TaskOut, summary="Get a task")
def get_task(request: HttpRequest, task_id: int) -> Any:
    return access.access_task(actor_of(request), task_id)


@router.patch("/tasks/{task_id}", response=TaskOut, summary="Edit a task")
def update_task(request: HttpRequest, task_id: int, payload: TaskUpdateIn) -> Any:
    actor = actor_of(request)
    task = access.access_task(actor, task_id)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {}
    if "title" in sent and payload.title is not None:
        changes["title"] = payload.title
    if "notes" in sent and payload.notes is not None:
        changes["notes"] = payload.notes
    if "due_at" in sent:
        changes["due_at"] = payload.due_at
    if "assignee_id" in sent:
        changes["assignee_id"] = payload.assignee_id
    if "contact_id" in sent:
        changes["contact"] = (
            access_contact(actor, payload.contact_id) if payload.contact_id else None
        )
    if "deal_id" in sent:
        changes["deal"] = access_deal(actor, payload.deal_id) if payload.deal_id else None
    return actions.do_update_task(actor=actor, task=task, **changes)


@router.delete("/tasks/{task_id}", response={204: None}, summary="Delete a task")
def delete_task(request: HttpRequest, task_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_task(actor=actor, task=access.access_task(actor, task_id))
    return Status(204, None)


@router.post("/tasks/{task_id}/complete", response=TaskOut, summary="Mark a task done")
def complete_task(request: HttpRequest, task_id: int) -> Any:
    actor = actor_of(request)
    return actions.do_complete_task(actor=actor, task=access.access_task(actor, task_id))


@router.post("/tasks/{task_id}/reopen", response=TaskOut, summary="Reopen a done task")
def reopen_task(request: HttpRequest, task_id: int) -> Any:
    actor = actor_of(request)
    return actions.do_reopen_task(actor=actor, task=access.access_task(actor, task_id))
