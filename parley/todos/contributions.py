"""What tasks add to other pages: the contact's and the deal's task panels,
contact timeline entries and the CRM dashboard's "tasks due" figures."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from parley.crm.models import Contact
from parley.crm.panels import ContactPanel
from parley.crm.timeline import TimelineEntry
from parley.deals.extensions import DashboardTile, DealPanel
from parley.deals.models import Deal
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import Cap
from parley.todos.access import Day, due_q
from parley.todos.models import Task, TaskStatus

PANEL_LIMIT = 20


def _open_tasks(actor: Actor, **link: Any) -> list[Task]:
    return list(
        Task.objects.filter(workspace=actor.workspace, status=TaskStatus.OPEN, **link)
        .select_related("assignee")
        .order_by("due_at", "id")[:PANEL_LIMIT]
    )


def contact_panel_context(actor: Actor, contact: Contact) -> dict[str, Any]:
    return {
        "tasks": _open_tasks(actor, contact=contact),
        "can_write_tasks": actor.can(Cap.CONTACTS_WRITE),
        "now": timezone.now(),
        "link_field": "contact_id",
        "link_id": contact.pk,
    }


def deal_panel_context(actor: Actor, deal: Deal) -> dict[str, Any]:
    return {
        "tasks": _open_tasks(actor, deal=deal),
        "can_write_tasks": actor.can(Cap.CONTACTS_WRITE),
        "now": timezone.now(),
        "link_field": "deal_id",
        "link_id": deal.pk,
    }


CONTACT_PANEL = ContactPanel(
    name="tasks", order=20, template="todos/_panel.html", context=contact_panel_context
)
DEAL_PANEL = DealPanel(
    name="tasks", order=10, template="todos/_panel.html", context=deal_panel_context
)


def due_figures(actor: Actor) -> dict[str, Any]:
    """Open tasks overdue and due later today, everyone's, in one query."""
    day = Day.of(actor)
    counts = Task.objects.filter(workspace=actor.workspace, status=TaskStatus.OPEN).aggregate(
        overdue=Count("id", filter=due_q("overdue", day)),
        today=Count("id", filter=due_q("today", day)),
        mine_overdue=Count("id", filter=due_q("overdue", day) & Q(assignee_id=actor.user_id)),
        mine_today=Count("id", filter=due_q("today", day) & Q(assignee_id=actor.user_id)),
    )
    return {k: int(v or 0) for k, v in counts.items()}


DASHBOARD_TILE = DashboardTile(
    name="tasks", order=10, template="todos/_dashboard_tile.html", figures=due_figures
)


def timeline_source(
    *, workspace_id: int, contact_id: int, before: datetime | None = None, limit: int = 50
) -> list[TimelineEntry]:
    """A task's creation and its completion are two entries."""
    base = Task.objects.filter(workspace_id=workspace_id, contact_id=contact_id)
    created = base
    done = base.filter(completed_at__isnull=False)
    if before is not None:
        created = created.filter(created_at__lt=before)
        done = done.filter(completed_at__lt=before)
    created_rows = list(created.select_related("created_by").order_by("-created_at", "-id")[:limit])
    done_rows = list(done.select_related("assignee").order_by("-completed_at", "-id")[:limit])
    if not created_rows and not done_rows:
        return []
    slug = Workspace.objects.values_list("slug", flat=True).get(pk=workspace_id)
    entries = [
        TimelineEntry(
            at=t.created_at,
            kind="task",
            title=f"Task created: {t.title}",
            body=t.notes[:300],
            actor=t.created_by.display_name if t.created_by is not None else "",
            url=reverse("todos_edit", args=[slug, t.pk]),
        )
        for t in created_rows
    ]
    entries += [
        TimelineEntry(
            at=t.completed_at,
            kind="task",
            title=f"Task done: {t.title}",
            actor=t.assignee.display_name if t.assignee is not None else "",
            url=reverse("todos_edit", args=[slug, t.pk]),
        )
        for t in done_rows
        if t.completed_at is not None
    ]
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
