"""Every fetch by id of tasks, and the task lists, scoped to the actor's workspace."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from django.db.models import Count, Q, QuerySet
from django.http import Http404
from django.utils import timezone

from parley.core.errors import ActionError
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.todos.actions import workspace_tz
from parley.todos.models import Task, TaskStatus

DUE_FILTERS = ("overdue", "today", "upcoming", "none")


def access_task(actor: Actor, task_id: int) -> Task:
    actor.require(Cap.CONTACTS_READ)
    task = (
        Task.objects.select_related("assignee", "contact", "deal", "created_by")
        .filter(workspace=actor.workspace, id=task_id)
        .first()
    )
    if task is None:
        raise Http404("No such task.")
    return task


@dataclass(frozen=True)
class Day:
    """Now, and the end of today in the workspace's timezone."""

    now: datetime
    end_of_today: datetime

    @classmethod
    def of(cls, actor: Actor, now: datetime | None = None) -> Day:
        now = now or timezone.now()
        local = now.astimezone(workspace_tz(actor.workspace))
        midnight = local.replace(hour=0, minute=0, second=0, microsecond=0) + timedelta(days=1)
        return cls(now=now, end_of_today=midnight)


def due_q(due: str, day: Day) -> Q:
    """overdue: past its time; today: later today; upcoming: after today; none: no date."""
    if due == "overdue":
        return Q(due_at__lt=day.now)
    if due == "today":
        return Q(due_at__gte=day.now, due_at__lt=day.end_of_today)
    if due == "upcoming":
        return Q(due_at__gte=day.end_of_today)
    if due == "none":
        return Q(due_at__isnull=True)
    raise ActionError(f"due is one of {', '.join(DUE_FILTERS)}.", code="invalid_due", field="due")


def task_list(
    actor: Actor,
    *,
    assignee: str | int | None = None,
    due: str | None = None,
    status: str | None = None,
    contact_id: int | None = None,
    deal_id: int | None = None,
    day: Day | None = None,
) -> QuerySet[Task]:
    """Tasks by assignee ("me", a user id, "none" or None for everyone), due
    window and status. A due window implies open tasks unless a status is given."""
    actor.require(Cap.CONTACTS_READ)
    qs = Task.objects.filter(workspace=actor.workspace)
    if assignee == "me":
        qs = qs.filter(assignee_id=actor.user_id) if actor.user_id else qs.none()
    elif assignee == "none":
        qs = qs.filter(assignee__isnull=True)
    elif isinstance(assignee, int):
        qs = qs.filter(assignee_id=assignee)
    elif assignee not in (None, "", "all"):
        raise ActionError(
            "assignee is 'me', 'none', 'all' or a user id.",
            code="invalid_assignee",
            field="assignee",
        )
    if status:
        if status not in TaskStatus.values:
            raise ActionError(
                f"status is one of {', '.join(TaskStatus.values)}.",
                code="invalid_status",
                field="status",
            )
        qs = qs.filter(status=status)
    elif due:
        qs = qs.filter(status=TaskStatus.OPEN)
    if due:
        qs = qs.filter(due_q(due, day or Day.of(actor)))
    if contact_id is not None:
        qs = qs.filter(contact_id=contact_id)
    if deal_id is not None:
        qs = qs.filter(deal_id=deal_id)
    return qs


def due_counts(actor: Actor, base: QuerySet[Task], day: Day) -> dict[str, int]:
    """Open tasks per due window, and done ones, in one query."""
    open_ = Q(status=TaskStatus.OPEN)
    counts = base.aggregate(
        overdue=Count("id", filter=open_ & due_q("overdue", day)),
        today=Count("id", filter=open_ & due_q("today", day)),
        upcoming=Count("id", filter=open_ & due_q("upcoming", day)),
        none=Count("id", filter=open_ & due_q("none", day)),
        done=Count("id", filter=Q(status=TaskStatus.DONE)),
    )
    return {k: int(v or 0) for k, v in counts.items()}


def due_soon_count(actor: Actor, day: Day | None = None) -> int:
    """The actor's open tasks that are overdue or due today (the nav badge)."""
    day = day or Day.of(actor)
    if actor.user_id is None:
        return 0
    return Task.objects.filter(
        workspace=actor.workspace,
        assignee_id=actor.user_id,
        status=TaskStatus.OPEN,
        due_at__lt=day.end_of_today,
    ).count()
