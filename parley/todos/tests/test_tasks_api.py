"""Tasks over the API: CRUD, complete/reopen, filters, roles, assignment notices."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.notifications.models import Notification
from tests.factories import Tenant

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(API + url, body, content_type="application/json")


def _notifications(tenant: Tenant, kind: str) -> list[Notification]:
    with workspace_context(tenant.workspace.pk):
        return list(Notification.objects.filter(kind=kind).order_by("id"))


def test_crud_complete_reopen(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="4915100000009")
    deal = _json(agent, "post", "/deals", {"title": "Deal", "contact_id": contact.pk}).json()
    made = _json(
        agent,
        "post",
        "/tasks",
        {"title": "Send quote", "due_at": "2030-01-02T09:30:00", "deal_id": deal["id"]},
    )
    assert made.status_code == 201, made.content
    task = made.json()
    # A due time without an offset is the workspace's local time (UTC here).
    assert task["due_at"].startswith("2030-01-02T09:30:00")
    assert task["assignee_id"] == tenant_a.agent.pk
    assert task["contact_id"] == contact.pk  # taken from the deal
    url = f"/tasks/{task['id']}"
    done = _json(agent, "post", url + "/complete")
    assert done.json()["status"] == "done" and done.json()["completed_at"]
    assert _json(agent, "post", url + "/complete").status_code == 200  # harmless twice
    reopened = _json(agent, "post", url + "/reopen")
    assert reopened.json()["status"] == "open" and reopened.json()["completed_at"] is None
    edited = _json(agent, "patch", url, {"title": "Send the quote", "due_at": None})
    assert edited.json()["title"] == "Send the quote" and edited.json()["due_at"] is None
    assert edited.json()["deal_id"] == deal["id"]  # untouched: not sent
    assert _json(agent, "patch", url, {"title": "  "}).json()["field"] == "title"
    assert agent.delete(API + url).status_code == 204
    assert agent.get(API + url).status_code == 404


def test_filters(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    now = timezone.now()
    for title, due in (
        ("late", now - timedelta(hours=1)),
        ("soon", now + timedelta(minutes=1)),
        ("next week", now + timedelta(days=7)),
        ("someday", None),
    ):
        _json(agent, "post", "/tasks", {"title": title, "due_at": due and due.isoformat()})
    _json(agent, "post", "/tasks", {"title": "theirs", "assignee_id": tenant_a.admin.pk})
    done = _json(agent, "post", "/tasks", {"title": "finished"}).json()
    _json(agent, "post", f"/tasks/{done['id']}/complete")

    def titles(query: str) -> list[str]:
        r = agent.get(API + "/tasks" + query)
        assert r.status_code == 200, r.content
        return sorted(t["title"] for t in r.json()["items"])

    assert titles("?assignee=me&due=overdue") == ["late"]
    assert titles("?assignee=me&due=upcoming") == ["next week"]
    assert titles("?assignee=me&due=none") == ["someday"]  # open ones only
    assert titles("?assignee=me&status=done") == ["finished"]
    assert titles(f"?assignee={tenant_a.admin.pk}") == ["theirs"]
    assert len(titles("?assignee=all")) == 6
    # "today" is later today in the workspace's timezone (UTC): "soon", unless it
    # falls after midnight because the test runs at 23:59.
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    soon_is_today = now + timedelta(minutes=1) < midnight
    assert titles("?assignee=me&due=today") == (["soon"] if soon_is_today else [])
    assert agent.get(API + "/tasks?due=yesterday").status_code == 400
    assert agent.get(API + "/tasks?assignee=bob").status_code == 400


def test_roles_and_membership(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    viewer: Client = login(tenant_a.viewer)
    task = _json(agent, "post", "/tasks", {"title": "Mine"}).json()
    assert viewer.get(API + f"/tasks/{task['id']}").status_code == 200
    assert _json(viewer, "post", "/tasks", {"title": "No"}).status_code == 403
    assert _json(viewer, "post", f"/tasks/{task['id']}/complete").status_code == 403
    stranger = _json(agent, "post", "/tasks", {"title": "x", "assignee_id": tenant_b.agent.pk})
    assert stranger.status_code == 400 and stranger.json()["field"] == "assignee_id"
    # Someone else's task: its creator, assignee or an admin may delete it.
    admin_task = _json(login(tenant_a.admin), "post", "/tasks", {"title": "Admin's"}).json()
    assert agent.delete(API + f"/tasks/{admin_task['id']}").status_code == 403
    assert login(tenant_a.owner).delete(API + f"/tasks/{admin_task['id']}").status_code == 204


def test_assigning_to_someone_else_notifies_them(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    own = _json(agent, "post", "/tasks", {"title": "For me"}).json()
    assert _notifications(tenant_a, "task_assigned") == []
    given = _json(
        agent, "post", "/tasks", {"title": "For the admin", "assignee_id": tenant_a.admin.pk}
    ).json()
    notes = _notifications(tenant_a, "task_assigned")
    assert [(n.user_id, n.title) for n in notes] == [
        (tenant_a.admin.pk, "Alpha Agent assigned you a task: For the admin")
    ]
    assert notes[0].url.endswith(f"/tasks/{given['id']}/")
    # Re-assigning notifies the new assignee; an edit without a new assignee does not.
    _json(agent, "patch", f"/tasks/{own['id']}", {"assignee_id": tenant_a.owner.pk})
    _json(agent, "patch", f"/tasks/{own['id']}", {"title": "For the owner"})
    assert [n.user_id for n in _notifications(tenant_a, "task_assigned")] == [
        tenant_a.admin.pk,
        tenant_a.owner.pk,
    ]
