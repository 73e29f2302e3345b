"""Task pages: my tasks (everyone's for admins), create, edit, complete inline. Thin.
Times are shown and typed in the workspace's timezone."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_GET, require_POST

from parley.core.errors import ActionError
from parley.crm.access import access_contact
from parley.crm.models import Contact
from parley.deals.access import access_deal
from parley.deals.models import Deal, DealStatus
from parley.tenancy.actor import Actor
from parley.tenancy.models import Membership
from parley.tenancy.roles import Cap
from parley.tenancy.web import apply_action, flash_action, workspace_view
from parley.todos import access, actions
from parley.todos.forms import TaskForm
from parley.todos.models import Task, TaskStatus

PAGE = 200
BADGE_STYLE = (
    "display:inline-block;min-width:1.25rem;text-align:center;font-size:.72rem;font-weight:700;"
    "border-radius:999px;background:#f04438;color:#fff;padding:0 .35rem;margin-left:.4rem"
)
CHOICES = 300
TABS = [
    ("open", "All open"),
    ("overdue", "Overdue"),
    ("today", "Today"),
    ("upcoming", "Upcoming"),
    ("none", "No date"),
    ("done", "Done"),
]


def _members(actor: Actor) -> list[Membership]:
    return list(
        Membership.objects.select_related("user")
        .filter(workspace=actor.workspace)
        .order_by("user__name", "user__email")
    )


def _form_choices(actor: Actor, task: Task | None = None) -> dict[str, Any]:
    contacts = list(
        Contact.objects.filter(workspace=actor.workspace).order_by("-updated_at")[:CHOICES]
    )
    deals = list(
        Deal.objects.filter(workspace=actor.workspace, status=DealStatus.OPEN).order_by(
            "-updated_at"
        )[:CHOICES]
    )
    # The task's own links stay choosable even when they are old or closed.
    if task is not None and task.contact is not None and task.contact not in contacts:
        contacts.insert(0, task.contact)
    if task is not None and task.deal is not None and task.deal not in deals:
        deals.insert(0, task.deal)
    return {"members": _members(actor), "contacts": contacts, "deals": deals}


def _next(request: HttpRequest, default: str) -> str:
    target = request.POST.get("next") or request.GET.get("next") or ""
    if target and url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        return target
    return default


@workspace_view(Cap.CONTACTS_READ)
def todos_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    with timezone.override(actions.workspace_tz(actor.workspace)):
        return _list(request, actor)


def _list(request: HttpRequest, actor: Actor) -> HttpResponse:
    is_admin = actor.can(Cap.WORKSPACE_MANAGE)
    tab = request.GET.get("tab", "open")
    tab = tab if tab in dict(TABS) else "open"
    who_raw = request.GET.get("assignee", "me") if is_admin else "me"
    who: str | int = int(who_raw) if who_raw.isdigit() else who_raw
    if who not in ("me", "all", "none") and not isinstance(who, int):
        who = "me"
    day = access.Day.of(actor)
    base = access.task_list(actor, assignee=who, day=day)
    counts = access.due_counts(actor, base, day)
    counts["open"] = counts["overdue"] + counts["today"] + counts["upcoming"] + counts["none"]
    if tab == "done":
        rows = base.filter(status=TaskStatus.DONE).order_by("-completed_at", "-id")
    else:
        rows = base.filter(status=TaskStatus.OPEN)
        if tab != "open":
            rows = rows.filter(access.due_q(tab, day))
        rows = rows.order_by("due_at", "id")  # no due date last (NULLS LAST in ascending order)
    tasks = list(rows.select_related("assignee", "contact", "deal")[:PAGE])
    can_write = actor.can(Cap.CONTACTS_WRITE)
    choices = (
        _form_choices(actor) if can_write else {"members": _members(actor) if is_admin else []}
    )
    form = (
        TaskForm(initial={"assignee_id": str(actor.user_id or "")}, **choices)
        if can_write
        else None
    )
    return render(
        request,
        "todos/tasks.html",
        {
            "tasks": tasks,
            "tab": tab,
            "tabs": [(key, label, counts[key]) for key, label in TABS],
            "who": str(who),
            "is_admin": is_admin,
            "members": choices["members"],
            "form": form,
            "can_write": can_write,
            "now": day.now,
            "here": request.get_full_path(),
        },
    )


@workspace_view(Cap.CONTACTS_WRITE)
@require_POST
def todos_create(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Create from the tasks page, a contact's panel or a deal's panel."""
    with timezone.override(actions.workspace_tz(actor.workspace)):
        back = _next(request, reverse("todos_list", args=[actor.workspace.slug]))
        form = TaskForm(request.POST, **_form_choices(actor))
        if not form.is_valid():
            for field, errors in form.errors.items():
                label = form[field].label if field in form.fields else ""
                messages.error(request, f"{label or 'Task'}: {' '.join(str(e) for e in errors)}")
            return redirect(back)
        flash_action(request, lambda: _create(actor, form), "Task added.")
        return redirect(back)


def _create(actor: Actor, form: TaskForm) -> Task:
    data = form.cleaned_data
    contact = access_contact(actor, int(data["contact_id"])) if data["contact_id"] else None
    deal = access_deal(actor, int(data["deal_id"])) if data["deal_id"] else None
    raw_assignee = data["assignee_id"]
    return actions.do_create_task(
        actor=actor,
        title=data["title"],
        notes=data["notes"],
        due_at=data["due_at"],
        assignee_id=int(raw_assignee) if raw_assignee else None,
        contact=contact,
        deal=deal,
    )


@workspace_view(Cap.CONTACTS_READ)
def todos_edit(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponseBase:
    with timezone.override(actions.workspace_tz(actor.workspace)):
        task = access.access_task(actor, task_id)
        if request.method == "POST":
            actor.require(Cap.CONTACTS_WRITE)
            if request.POST.get("delete"):
                if flash_action(
                    request,
                    lambda: actions.do_delete_task(actor=actor, task=task) or True,
                    "Task deleted.",
                ):
                    return redirect(
                        _next(request, reverse("todos_list", args=[actor.workspace.slug]))
                    )
                return redirect("todos_edit", slug=actor.workspace.slug, task_id=task.pk)
            form = TaskForm(request.POST, **_form_choices(actor, task))
            if form.is_valid() and apply_action(form, lambda: _update(actor, task, form)):
                messages.success(request, "Task saved.")
                return redirect(_next(request, reverse("todos_list", args=[actor.workspace.slug])))
        else:
            form = TaskForm(
                initial={
                    "title": task.title,
                    "notes": task.notes,
                    "due_at": task.due_at,
                    "assignee_id": str(task.assignee_id or ""),
                    "contact_id": str(task.contact_id or ""),
                    "deal_id": str(task.deal_id or ""),
                },
                **_form_choices(actor, task),
            )
        return render(
            request,
            "todos/task_edit.html",
            {"task": task, "form": form, "can_write": actor.can(Cap.CONTACTS_WRITE)},
        )


def _update(actor: Actor, task: Task, form: TaskForm) -> Task:
    data = form.cleaned_data
    raw_assignee = data["assignee_id"]
    return actions.do_update_task(
        actor=actor,
        task=task,
        title=data["title"],
        notes=data["notes"],
        due_at=data["due_at"],
        assignee_id=int(raw_assignee) if raw_assignee else None,
        contact=access_contact(actor, int(data["contact_id"])) if data["contact_id"] else None,
        deal=access_deal(actor, int(data["deal_id"])) if data["deal_id"] else None,
    )


@workspace_view(Cap.CONTACTS_WRITE)
@require_POST
def todos_toggle(request: HttpRequest, actor: Actor, task_id: int) -> HttpResponse:
    """Done / not done; htmx swaps the row, a plain form goes back."""
    with timezone.override(actions.workspace_tz(actor.workspace)):
        task = access.access_task(actor, task_id)
        try:
            if task.status == TaskStatus.OPEN:
                actions.do_complete_task(actor=actor, task=task)
            else:
                actions.do_reopen_task(actor=actor, task=task)
        except ActionError as exc:
            messages.error(request, exc.message)
        if request.htmx:  # type: ignore[attr-defined]
            return render(
                request,
                "todos/_row.html",
                {
                    "task": task,
                    "can_write": True,
                    "now": timezone.now(),
                    "here": _next(request, ""),
                },
            )
        return redirect(_next(request, reverse("todos_list", args=[actor.workspace.slug])))


@workspace_view(Cap.CONTACTS_READ)
@require_GET
def todos_badge(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The nav's count of my overdue and due-today tasks, loaded after the page."""
    count = access.due_soon_count(actor)
    if not count:
        return HttpResponse("")
    label = f"{count} task{'s' if count != 1 else ''} due today or overdue"
    return HttpResponse(
        # Styled inline: the badge sits in the nav of every page, which loads no app sheet.
        f'<span class="nav-badge" title="{label}" aria-label="{label}" style="{BADGE_STYLE}">'
        f"{count}</span>"
    )
