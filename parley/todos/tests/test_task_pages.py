"""The tasks page, inline completion, the nav badge and the panels."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.crm.timeline import timeline
from parley.deals.actions import do_create_deal
from parley.todos.actions import do_create_task
from parley.todos.models import Task
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


def _tasks(tenant: Tenant, n: int, assignee_id: int, start: int = 0) -> None:
    now = timezone.now()
    with workspace_context(tenant.workspace.pk):
        actor = actor_for(tenant.workspace, tenant.admin)
        for i in range(start, start + n):
            contact = Contact.objects.create(
                workspace=tenant.workspace, wa_id=f"4916000{i:05d}", name=f"Client {i}"
            )
            deal = do_create_deal(actor=actor, title=f"Deal {i}", contact=contact)
            do_create_task(
                actor=actor,
                title=f"Task {i}",
                due_at=now + timedelta(days=i - 2),  # two overdue, then upcoming
                assignee_id=assignee_id,
                contact=contact,
                deal=deal,
            )


def test_my_tasks_tabs_and_query_count(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    _tasks(tenant_a, 4, tenant_a.agent.pk)
    _tasks(tenant_a, 1, tenant_a.admin.pk, start=10)
    agent: Client = login(tenant_a.agent)
    url = f"/w/{tenant_a.workspace.slug}/tasks/"
    agent.get(url)
    with django_assert_max_num_queries(18):
        page = agent.get(url + "?tab=overdue")
    html = page.content.decode()
    assert "Task 0" in html and "Task 1" in html and "Task 3" not in html
    assert "Task 10" not in html  # the admin's
    assert "assignee-filter" not in html  # agents see their own only
    _tasks(tenant_a, 8, tenant_a.agent.pk, start=20)
    with django_assert_max_num_queries(18):
        page = agent.get(url)
    assert page.content.decode().count('class="task-row') == 12
    admin: Client = login(tenant_a.admin)
    everyone = admin.get(url + "?assignee=all").content.decode()
    assert "Task 10" in everyone and "Task 3" in everyone
    theirs = admin.get(url + f"?assignee={tenant_a.agent.pk}").content.decode()
    assert "Task 10" not in theirs and "Task 3" in theirs


def test_complete_inline_with_htmx_and_badge(tenant_a: Tenant, login: Any) -> None:
    _tasks(tenant_a, 3, tenant_a.agent.pk)
    agent: Client = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    badge = agent.get(f"/w/{slug}/tasks/badge/").content.decode()
    assert ">3</span>" in badge  # two overdue, one due about now
    with workspace_context(tenant_a.workspace.pk):
        task = Task.objects.get(title="Task 0")
    row = agent.post(f"/w/{slug}/tasks/{task.pk}/toggle/", HTTP_HX_REQUEST="true")
    assert row.status_code == 200
    assert 'class="task-row done"' in row.content.decode()
    assert ">2</span>" in agent.get(f"/w/{slug}/tasks/badge/").content.decode()
    again = agent.post(f"/w/{slug}/tasks/{task.pk}/toggle/")
    assert again.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        assert Task.objects.get(pk=task.pk).status == "open"
    assert login(tenant_a.viewer).post(f"/w/{slug}/tasks/{task.pk}/toggle/").status_code == 403


def test_quick_add_from_contact_panel_and_timeline(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    slug = tenant_a.workspace.slug
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="4916100000001")
    here = f"/w/{slug}/contacts/{contact.pk}/"
    page = agent.get(here).content.decode()
    assert "Open tasks" in page and "No open tasks." in page
    r = agent.post(
        f"/w/{slug}/tasks/new/",
        {
            "title": "Follow up",
            "due_at": "2030-05-01T10:00",
            "contact_id": contact.pk,
            "assignee_id": tenant_a.agent.pk,
            "next": here,
        },
    )
    assert r.status_code == 302 and r["Location"] == here
    empty = agent.post(f"/w/{slug}/tasks/new/", {"title": "", "next": here}, follow=True)
    assert "Title: This field is required." in empty.content.decode()
    # Off-site "next" is ignored.
    away = agent.post(f"/w/{slug}/tasks/new/", {"title": "x", "next": "https://evil.example/"})
    assert away["Location"] == f"/w/{slug}/tasks/"
    page = agent.get(here).content.decode()
    assert "Follow up" in page
    with workspace_context(tenant_a.workspace.pk):
        task = Task.objects.get(title="Follow up")
        assert task.due_at is not None and task.due_at.isoformat() == "2030-05-01T10:00:00+00:00"
    agent.post(f"/w/{slug}/tasks/{task.pk}/toggle/")
    with workspace_context(tenant_a.workspace.pk):
        titles = [
            e.title
            for e in timeline(workspace_id=tenant_a.workspace.pk, contact_id=contact.pk)
            if e.kind == "task"
        ]
    assert titles == ["Task done: Follow up", "Task created: Follow up"]


def test_edit_page_in_workspace_timezone(tenant_a: Tenant, login: Any) -> None:
    tenant_a.workspace.timezone = "America/Sao_Paulo"
    tenant_a.workspace.save(update_fields=["timezone"])
    _tasks(tenant_a, 1, tenant_a.agent.pk)
    agent: Client = login(tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        task = Task.objects.get()
    url = f"/w/{tenant_a.workspace.slug}/tasks/{task.pk}/"
    assert agent.get(url).status_code == 200
    r = agent.post(
        url,
        {"title": "Renamed", "due_at": "2030-01-01T09:00", "assignee_id": tenant_a.agent.pk},
    )
    assert r.status_code == 302
    with workspace_context(tenant_a.workspace.pk):
        task.refresh_from_db()
    # 09:00 in São Paulo (UTC-3) is 12:00 UTC.
    assert task.due_at is not None and task.due_at.hour == 12 and task.title == "Renamed"
    assert task.contact_id is None  # the form sent no contact: cleared
    assert 'value="2030-01-01T09:00"' in agent.get(url).content.decode()
