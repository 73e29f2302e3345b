"""Deals over the API: create, move with positions, won/lost/reopen with
history, filters, roles."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.deals.models import Deal, DealEvent, Pipeline
from tests.factories import Tenant

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(API + url, body, content_type="application/json")


def _stages(client: Client) -> list[dict[str, Any]]:
    pipelines = client.get(API + "/pipelines").json()
    assert len(pipelines) == 1
    stages: list[dict[str, Any]] = pipelines[0]["stages"]
    return stages


def _column(tenant: Tenant, stage_id: int) -> list[str]:
    with workspace_context(tenant.workspace.pk):
        return list(
            Deal.objects.filter(stage_id=stage_id, status="open")
            .order_by("position", "id")
            .values_list("title", flat=True)
        )


def test_default_pipeline_appears_once(tenant_a: Tenant, login: Any) -> None:
    viewer: Client = login(tenant_a.viewer)
    first = _stages(viewer)
    assert [s["name"] for s in first] == ["New", "Qualified", "Proposal", "Negotiation"]
    assert _stages(viewer) == first
    with workspace_context(tenant_a.workspace.pk):
        assert Pipeline.objects.count() == 1


def test_create_move_and_reorder_within_and_across_stages(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    new, qualified = _stages(agent)[:2]
    ids = {}
    for title in ("A", "B", "C"):
        r = _json(agent, "post", "/deals", {"title": title, "value": "100.50"})
        assert r.status_code == 201, r.content
        ids[title] = r.json()["id"]
        assert r.json()["stage_id"] == new["id"]
        assert r.json()["currency"] == "USD"
        assert r.json()["owner_id"] == tenant_a.agent.pk
    assert _column(tenant_a, new["id"]) == ["A", "B", "C"]

    # C to the top of its own column.
    r = _json(agent, "post", f"/deals/{ids['C']}/move", {"stage_id": new["id"], "position": 0})
    assert r.status_code == 200, r.content
    assert _column(tenant_a, new["id"]) == ["C", "A", "B"]

    # A to Qualified (bottom), then B above it.
    _json(agent, "post", f"/deals/{ids['A']}/move", {"stage_id": qualified["id"]})
    r = _json(
        agent, "post", f"/deals/{ids['B']}/move", {"stage_id": qualified["id"], "position": 0}
    )
    assert r.json()["stage_id"] == qualified["id"] and r.json()["stage_name"] == "Qualified"
    assert _column(tenant_a, new["id"]) == ["C"]
    assert _column(tenant_a, qualified["id"]) == ["B", "A"]
    # A position past the end is the bottom.
    r = _json(
        agent, "post", f"/deals/{ids['C']}/move", {"stage_id": qualified["id"], "position": 99}
    )
    assert _column(tenant_a, qualified["id"]) == ["B", "A", "C"]

    with workspace_context(tenant_a.workspace.pk):
        moves = list(
            DealEvent.objects.filter(deal_id=ids["A"], kind="stage_changed").values_list(
                "data", flat=True
            )
        )
    assert moves == [{"from": "New", "to": "Qualified", "to_id": qualified["id"]}]
    bad = _json(agent, "post", f"/deals/{ids['C']}/move", {"stage_id": new["id"], "position": -1})
    assert bad.status_code == 400 and bad.json()["field"] == "position"


def test_won_lost_reopen_keep_history(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    deal = _json(agent, "post", "/deals", {"title": "Big one", "value": 5000}).json()
    url = f"/deals/{deal['id']}"
    no_reason = _json(agent, "post", url + "/lost", {"reason": "  "})
    assert no_reason.status_code == 400 and no_reason.json()["field"] == "reason"
    won = _json(agent, "post", url + "/won")
    assert won.json()["status"] == "won" and won.json()["closed_at"]
    assert _json(agent, "post", url + "/won").status_code == 409
    moved = _json(agent, "post", url + "/move", {"stage_id": deal["stage_id"]})
    assert moved.status_code == 409 and "reopen" in moved.json()["message"]
    reopened = _json(agent, "post", url + "/reopen")
    assert reopened.json()["status"] == "open" and reopened.json()["closed_at"] is None
    lost = _json(agent, "post", url + "/lost", {"reason": "Budget cut"})
    assert lost.json()["status"] == "lost" and lost.json()["lost_reason"] == "Budget cut"
    edited = _json(agent, "patch", url, {"value": "6000", "owner_id": tenant_a.admin.pk})
    assert edited.json()["value"] == "6000.00" and edited.json()["owner_id"] == tenant_a.admin.pk
    events = agent.get(API + url + "/history").json()
    assert [e["kind"] for e in events] == [
        "value_changed",
        "owner_changed",
        "lost",
        "reopened",
        "won",
        "created",
    ]
    value_event = next(e for e in events if e["kind"] == "value_changed")
    assert value_event["data"] == {"from": "USD 5,000", "to": "USD 6,000"}
    assert next(e for e in events if e["kind"] == "lost")["data"] == {"reason": "Budget cut"}


def test_bad_input_is_a_clear_4xx(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    assert _json(agent, "post", "/deals", {"title": " "}).json()["field"] == "title"
    r = _json(agent, "post", "/deals", {"title": "x", "currency": "EUD"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_currency"
    r = _json(agent, "post", "/deals", {"title": "x", "value": "-5"})
    assert r.status_code == 400 and r.json()["field"] == "value"
    r = _json(agent, "post", "/deals", {"title": "x", "owner_id": tenant_b.agent.pk})
    assert r.status_code == 400 and r.json()["code"] == "not_a_member"
    with workspace_context(tenant_b.workspace.pk):
        foreign = Contact.objects.create(workspace=tenant_b.workspace, wa_id="4915100000001")
    assert (
        _json(agent, "post", "/deals", {"title": "x", "contact_id": foreign.pk}).status_code == 404
    )
    assert agent.get(API + "/deals?status=maybe").status_code == 400


def test_filters(tenant_a: Tenant, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    with workspace_context(tenant_a.workspace.pk):
        ann = Contact.objects.create(
            workspace=tenant_a.workspace, wa_id="4915100000002", name="Ann"
        )
    a = _json(agent, "post", "/deals", {"title": "Ann's", "contact_id": ann.pk}).json()
    b = _json(agent, "post", "/deals", {"title": "Other", "owner_id": tenant_a.admin.pk}).json()
    _json(agent, "post", f"/deals/{b['id']}/won")

    def titles(query: str) -> list[str]:
        return [d["title"] for d in agent.get(API + "/deals" + query).json()["items"]]

    assert titles(f"?contact_id={ann.pk}") == ["Ann's"]
    assert titles("?status=won") == ["Other"]
    assert titles(f"?owner_id={tenant_a.admin.pk}") == ["Other"]
    assert titles(f"?stage_id={a['stage_id']}&status=open") == ["Ann's"]
    assert titles(f"?pipeline_id={a['pipeline_id']}") == ["Ann's", "Other"]
    page = agent.get(API + "/deals?limit=1").json()
    assert len(page["items"]) == 1 and page["next_cursor"]


def test_roles(tenant_a: Tenant, login: Any) -> None:
    viewer: Client = login(tenant_a.viewer)
    agent: Client = login(tenant_a.agent)
    deal = _json(agent, "post", "/deals", {"title": "Seen"}).json()
    assert viewer.get(API + f"/deals/{deal['id']}").status_code == 200
    assert viewer.get(API + "/deals").json()["items"][0]["title"] == "Seen"
    assert _json(viewer, "post", "/deals", {"title": "No"}).status_code == 403
    assert _json(viewer, "patch", f"/deals/{deal['id']}", {"title": "No"}).status_code == 403
    assert _json(viewer, "post", f"/deals/{deal['id']}/won").status_code == 403
    assert viewer.delete(API + f"/deals/{deal['id']}").status_code == 403
    # Pipeline configuration is for admins.
    assert _json(agent, "post", "/pipelines", {"name": "Mine"}).status_code == 403
    assert (
        _json(agent, "patch", f"/pipelines/{deal['pipeline_id']}", {"name": "Mine"}).status_code
        == 403
    )
    assert _json(agent, "patch", f"/stages/{deal['stage_id']}", {"name": "Mine"}).status_code == 403
    assert agent.get(API + "/crm/dashboard").status_code == 200
    assert agent.delete(API + f"/deals/{deal['id']}").status_code == 204
