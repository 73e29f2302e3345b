"""The builder's pages and the API: edit a draft in place, validation before
publish, versions, on/off, dry run, roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.workflows.models import Workflow
from tests.factories import Tenant

pytestmark = pytest.mark.django_db

HX = {"HX-Request": "true"}


def _client(tenant: Tenant, user: Any) -> Client:
    client = Client()
    client.force_login(user, backend="django.contrib.auth.backends.ModelBackend")
    return client


def _workflow(tenant: Tenant) -> Workflow:
    with workspace_context(tenant.workspace.pk):
        return Workflow.objects.select_related("live_version").get()


def test_build_validate_publish_and_turn_on_in_the_pages(tenant_a: Tenant) -> None:
    client = _client(tenant_a, tenant_a.admin)
    base = f"/w/{tenant_a.workspace.slug}/automation/workflows/"
    response = client.post(base, {"name": "Pricing", "trigger": "message_received"})
    assert response.status_code == 302
    workflow = _workflow(tenant_a)
    builder = f"{base}{workflow.pk}/"
    page = client.post(
        f"{builder}trigger/",
        {"type": "message_received", "match": "keywords", "keywords": "pricing, price"},
        headers=HX,
    )
    assert b"keywords pricing, price" in page.content
    client.post(f"{builder}steps/", {"parent": "", "index": "0", "type": "ask_buttons"}, headers=HX)
    ask = _workflow(tenant_a).draft["steps"][0]
    # Not valid yet (no question text): publishing is refused with the reason.
    client.post(f"{builder}publish/", {"enable": "1"})
    assert _workflow(tenant_a).live_version_id is None
    bad = client.post(
        f"{builder}steps/{ask['id']}/",
        {"text": "Call you?", "buttons": "Yes\nNo\nMaybe\nLater", "timeout_minutes": "30"},
        headers=HX,
    )
    assert b"one to three buttons" in bad.content and b"Maybe" in bad.content
    assert _workflow(tenant_a).draft["steps"][0]["buttons"] == ["Yes", "No"]
    client.post(
        f"{builder}steps/{ask['id']}/",
        {"text": "Call you?", "buttons": "Yes\nNo", "timeout_minutes": "30"},
        headers=HX,
    )
    # A step inside the "Yes" branch, and one after the question.
    client.post(
        f"{builder}steps/", {"parent": "0.b1", "index": "0", "type": "add_tags"}, headers=HX
    )
    draft = _workflow(tenant_a).draft
    tag_step = draft["steps"][0]["branches"]["b1"][0]
    client.post(f"{builder}steps/{tag_step['id']}/", {"tags": "Hot lead"}, headers=HX)
    client.post(f"{builder}steps/", {"parent": "", "index": "1", "type": "stop"}, headers=HX)
    assert [s["type"] for s in _workflow(tenant_a).draft["steps"]] == ["ask_buttons", "stop"]
    response = client.post(f"{builder}publish/", {"enable": "1"})
    assert response.status_code == 302
    workflow = _workflow(tenant_a)
    assert workflow.enabled and workflow.live_version is not None
    assert workflow.trigger_type == "message_received"
    assert workflow.live_version.definition["steps"][0]["branches"]["b1"][0]["tags"] == ["Hot lead"]
    page = client.get(builder)
    assert page.status_code == 200 and b"Call you?" in page.content and b"Hot lead" in page.content
    # Moving and deleting edit the draft only.
    stop = workflow.draft["steps"][1]
    client.post(f"{builder}steps/{stop['id']}/move/", {"by": "-1"}, headers=HX)
    assert [s["type"] for s in _workflow(tenant_a).draft["steps"]] == ["stop", "ask_buttons"]
    client.post(f"{builder}steps/{stop['id']}/delete/", headers=HX)
    workflow = _workflow(tenant_a)
    assert [s["type"] for s in workflow.draft["steps"]] == ["ask_buttons"]
    assert workflow.live_version is not None
    assert [s["type"] for s in workflow.live_version.definition["steps"]] == ["ask_buttons", "stop"]


def test_dry_run_decides_conditions_for_the_chosen_contact(tenant_a: Tenant) -> None:
    from parley.workflows.tests.helpers import live_workflow

    with workspace_context(tenant_a.workspace.pk):
        Contact.objects.create(
            workspace=tenant_a.workspace, wa_id="15550008801", name="Vip Val", attributes={}
        )
    workflow = live_workflow(
        tenant_a,
        {
            "trigger": {"type": "message_received", "match": "keywords", "keywords": ["refund"]},
            "steps": [
                {
                    "type": "condition",
                    "rules": [{"field": "contact.name", "op": "starts_with", "value": "vip"}],
                    "branches": {
                        "then": [{"type": "send_text", "text": "Hi {{contact.first_name}}!"}],
                        "else": [{"type": "stop"}],
                    },
                }
            ],
        },
    )
    client = _client(tenant_a, tenant_a.owner)
    url = f"/w/{tenant_a.workspace.slug}/automation/workflows/{workflow.pk}/dry-run/"
    page = client.post(url, {"contact": "+1 555 000 8801", "text": "I want a refund"})
    assert b"The trigger fires" in page.content and b"Hi Vip!" in page.content
    page = client.post(url, {"contact": "", "text": "hello"})
    assert b"would not fire" in page.content and b"Stop" in page.content
    # The same through the API, with a token.
    api = Client()
    response = api.post(
        f"/api/v1/workflows/{workflow.pk}/dry-run",
        {"text": "refund"},
        content_type="application/json",
        headers={"Authorization": f"Bearer {tenant_a.raw_token}"},
    )
    assert response.status_code == 200, response.content
    assert [s["type"] for s in response.json()["steps"]] == ["condition", "stop"]


def test_agents_cannot_see_or_change_workflows(tenant_a: Tenant) -> None:
    client = _client(tenant_a, tenant_a.agent)
    base = f"/w/{tenant_a.workspace.slug}/automation/workflows/"
    assert client.get(base).status_code == 403
    assert client.post(base, {"name": "Mine"}).status_code == 403
    with workspace_context(tenant_a.workspace.pk):
        assert not Workflow.objects.exists()


def test_the_api_creates_publishes_and_starts_runs(tenant_a: Tenant) -> None:
    from parley.workflows.tests.helpers import run_workflow_jobs

    headers = {"Authorization": f"Bearer {tenant_a.raw_token}"}
    api = Client()
    definition = {
        "trigger": {"type": "api"},
        "steps": [{"type": "set_attribute", "key": "order", "value": "{{vars.input.order}}"}],
    }
    created = api.post(
        "/api/v1/workflows",
        {"name": "Order hook", "definition": definition},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    refused = api.patch(
        f"/api/v1/workflows/{workflow_id}",
        {"enabled": True},
        content_type="application/json",
        headers=headers,
    )
    assert refused.status_code == 400 and "Publish" in refused.json()["message"]
    published = api.post(f"/api/v1/workflows/{workflow_id}/publish", headers=headers)
    assert published.status_code == 201 and published.json()["number"] == 1
    api.patch(
        f"/api/v1/workflows/{workflow_id}",
        {"enabled": True},
        content_type="application/json",
        headers=headers,
    )
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="15550008802")
        from parley.crm.models import AttributeDefinition

        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="order", label="Order", type="text"
        )
    missing = api.post(
        f"/api/v1/workflows/{workflow_id}/runs",
        {},
        content_type="application/json",
        headers=headers,
    )
    assert missing.status_code == 400 and "contact_id" in missing.json()["message"]
    started = api.post(
        f"/api/v1/workflows/{workflow_id}/runs",
        {"contact_id": contact.pk, "input": {"order": "A-1001"}},
        content_type="application/json",
        headers=headers,
    )
    assert started.status_code == 202, started.content
    run_workflow_jobs()
    with workspace_context(tenant_a.workspace.pk):
        contact.refresh_from_db()
    assert contact.attributes == {"order": "A-1001"}
    runs = api.get(f"/api/v1/workflows/{workflow_id}/runs", headers=headers).json()
    assert [r["status"] for r in runs] == ["succeeded"]


def test_odd_json_through_the_api_gets_a_clear_error_and_the_page_still_opens(
    tenant_a: Tenant,
) -> None:
    headers = {"Authorization": f"Bearer {tenant_a.raw_token}"}
    api = Client()
    bad = api.post(
        "/api/v1/workflows",
        {"name": "Odd", "definition": {"steps": [{"type": "condition", "branches": "then"}]}},
        content_type="application/json",
        headers=headers,
    )
    assert bad.status_code == 400 and "branches" in bad.json()["message"]
    odd = {
        "trigger": {"type": "tag_added", "tag_id": "abc"},
        "steps": [
            {"type": "assign", "mode": "team", "team_id": "x"},
            {"type": "create_task", "title": "T", "due_days": "soon"},
        ],
    }
    created = api.post(
        "/api/v1/workflows",
        {"name": "Odd", "definition": odd},
        content_type="application/json",
        headers=headers,
    )
    assert created.status_code == 201, created.content
    workflow_id = created.json()["id"]
    problems = api.get(f"/api/v1/workflows/{workflow_id}/problems", headers=headers).json()
    messages = " ".join(p["message"] for p in problems)
    assert "Choose the tag" in messages and "Choose the team" in messages
    assert "0 to 3650 days" in messages
    page = _client(tenant_a, tenant_a.owner).get(
        f"/w/{tenant_a.workspace.slug}/automation/workflows/{workflow_id}/"
    )
    assert page.status_code == 200
