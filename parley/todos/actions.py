"""Every change to tasks, and the notifications they cause."""

from __future__ import annotations

from datetime import datetime
from enum import Enum
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from django.core.exceptions import PermissionDenied
from django.db import transaction
from django.urls import reverse
from django.utils import timezone

from parley.core.errors import ActionError
from parley.core.events import publish
from parley.crm.models import Contact
from parley.deals.models import Deal
from parley.notifications.actions import do_notify
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership, Workspace
from parley.tenancy.roles import Cap
from parley.todos.models import Task, TaskStatus

if TYPE_CHECKING:
    from parley.accounts.models import User


class Keep(Enum):
    """'Leave this field as it is' in an edit, where None means 'clear it'."""

    KEEP = 0


KEEP = Keep.KEEP


def workspace_tz(workspace: Workspace) -> ZoneInfo:
    try:
        return ZoneInfo(workspace.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _aware(workspace: Workspace, when: datetime | None) -> datetime | None:
    """A due time without a zone is read as the workspace's local time."""
    if when is None or timezone.is_aware(when):
        return when
    return when.replace(tzinfo=workspace_tz(workspace))


def _member(actor: Actor, user_id: int) -> User:
    membership = (
        Membership.objects.select_related("user")
        .filter(workspace=actor.workspace, user_id=user_id)
        .first()
    )
    if membership is None:
        raise ActionError(
            "Assign the task to a member of this workspace.",
            code="not_a_member",
            field="assignee_id",
        )
    return membership.user


def _clean_title(title: str) -> str:
    title = " ".join(title.split())[:200]
    if not title:
        raise ActionError("Say what needs doing.", code="required", field="title")
    return title


def _check_links(contact: Contact | None, deal: Deal | None) -> None:
    if contact is not None and deal is not None and deal.contact_id not in (None, contact.pk):
        raise ActionError(
            "That deal belongs to another contact; link the task to one or the other.",
            code="mismatch",
            field="deal_id",
        )


def task_url(workspace: Workspace, task_id: int) -> str:
    return reverse("todos_edit", args=[workspace.slug, task_id])


def _notify_assigned(actor: Actor, task: Task) -> None:
    """Tell the assignee, unless they gave the task to themselves."""
    if task.assignee_id is None or task.assignee_id == actor.user_id:
        return
    by = actor.user.display_name if actor.user is not None else actor.label
    due = ""
    if task.due_at is not None:
        local = task.due_at.astimezone(workspace_tz(actor.workspace))
        due = f"Due {local:%Y-%m-%d %H:%M}."
    do_notify(
        workspace_id=actor.workspace.pk,
        user_id=task.assignee_id,
        kind="task_assigned",
        title=f"{by} assigned you a task: {task.title}",
        body=due,
        url=task_url(actor.workspace, task.pk),
        # One per assignment: a later re-assignment to the same person notifies again.
        dedupe_key=f"task_assigned:{task.pk}:{task.assignee_id}:{task.updated_at.timestamp()}",
    )


@transaction.atomic
def do_create_task(
    *,
    actor: Actor,
    title: str,
    notes: str = "",
    due_at: datetime | None = None,
    assignee_id: int | Keep | None = KEEP,
    contact: Contact | None = None,
    deal: Deal | None = None,
) -> Task:
    """A new open task, assigned to the actor unless another member (or
    nobody, with None) is named. Linked to a deal only, it takes the deal's contact."""
    actor.require(Cap.CONTACTS_WRITE)
    _check_links(contact, deal)
    if isinstance(assignee_id, Keep):
        assignee = actor.user
    else:
        assignee = _member(actor, assignee_id) if assignee_id is not None else None
    if contact is None and deal is not None and deal.contact_id is not None:
        contact = deal.contact
    now = timezone.now()
    task = Task.objects.create(
        workspace=actor.workspace,
        title=_clean_title(title),
        notes=notes.strip()[:10_000],
        due_at=_aware(actor.workspace, due_at),
        assignee=assignee,
        contact=contact,
        deal=deal,
        created_by=actor.user,
        created_at=now,
        updated_at=now,
    )
    _notify_assigned(actor, task)
    publish(actor.workspace.pk, "task", task.pk)
    return task


@transaction.atomic
def do_update_task(
    *,
    actor: Actor,
    task: Task,
    title: str | Keep = KEEP,
    notes: str | Keep = KEEP,
    due_at: datetime | Keep | None = KEEP,
    assignee_id: int | Keep | None = KEEP,
    contact: Contact | Keep | None = KEEP,
    deal: Deal | Keep | None = KEEP,
) -> Task:
    actor.require(Cap.CONTACTS_WRITE)
    if not isinstance(title, Keep):
        task.title = _clean_title(title)
    if not isinstance(notes, Keep):
        task.notes = notes.strip()[:10_000]
    if not isinstance(due_at, Keep):
        due_at = _aware(actor.workspace, due_at)
        if due_at != task.due_at:
            task.due_at = due_at
            # Rescheduled: the reminder is owed again for the new time.
            task.due_notified_at = None
    if not isinstance(contact, Keep):
        task.contact = contact
    if not isinstance(deal, Keep):
        task.deal = deal
    _check_links(task.contact, task.deal)
    reassigned = False
    if not isinstance(assignee_id, Keep) and assignee_id != task.assignee_id:
        task.assignee = _member(actor, assignee_id) if assignee_id is not None else None
        reassigned = True
    task.updated_at = timezone.now()
    task.save(
        update_fields=[
            "title",
            "notes",
            "due_at",
            "due_notified_at",
            "contact",
            "deal",
            "assignee",
            "updated_at",
        ]
    )
    if reassigned:
        _notify_assigned(actor, task)
    publish(actor.workspace.pk, "task", task.pk)
    return task


@transaction.atomic
def do_complete_task(*, actor: Actor, task: Task) -> Task:
    """Done (again done is harmless: a double click is not an error)."""
    actor.require(Cap.CONTACTS_WRITE)
    if task.status != TaskStatus.DONE:
        task.status = TaskStatus.DONE
        task.completed_at = task.updated_at = timezone.now()
        task.save(update_fields=["status", "completed_at", "updated_at"])
        publish(actor.workspace.pk, "task", task.pk)
    return task


@transaction.atomic
def do_reopen_task(*, actor: Actor, task: Task) -> Task:
    actor.require(Cap.CONTACTS_WRITE)
    if task.status != TaskStatus.OPEN:
        task.status = TaskStatus.OPEN
        task.completed_at = None
        task.updated_at = timezone.now()
        task.save(update_fields=["status", "completed_at", "updated_at"])
        publish(actor.workspace.pk, "task", task.pk)
    return task


@transaction.atomic
def do_delete_task(*, actor: Actor, task: Task) -> None:
    """Its creator, its assignee or an admin may delete a task."""
    actor.require(Cap.CONTACTS_WRITE)
    mine = actor.user_id is not None and actor.user_id in (task.created_by_id, task.assignee_id)
    if not mine and not actor.can(Cap.WORKSPACE_MANAGE):
        raise PermissionDenied("Only the task's creator, its assignee or an admin may delete it.")
    task_id = task.pk
    task.delete()
    publish(actor.workspace.pk, "task", task_id)


def notify_due(task: Task, workspace: Workspace) -> bool:
    """Tell the assignee their task is due; once per task and due time, so a
    retried run never repeats it and a rescheduled task reminds again."""
    if task.assignee_id is None or task.due_at is None:
        return False
    return do_notify(
        workspace_id=workspace.pk,
        user_id=task.assignee_id,
        kind="task_due",
        title=f"Task due: {task.title}",
        body=task.notes[:300],
        url=task_url(workspace, task.pk),
        dedupe_key=f"task_due:{task.pk}:{task.due_at.isoformat()}",
    )
