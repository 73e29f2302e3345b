"""Segments through the API: CRUD, preview, members, count, refusals."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import Client
from pytest_django import DjangoAssertNumQueries

from parley.segments.tests.world import World, build_world
from tests.factories import Tenant

pytestmark = pytest.mark.django_db


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(url, body, content_type="application/json")


@pytest.fixture
def world(tenant_a: Tenant) -> World:
    return build_world(tenant_a)


def _leads(world: World) -> dict[str, Any]:
    return {"conditions": [{"field": "tags", "op": "has_any", "value": [world.tags["Lead"]]}]}


def test_create_read_update_delete(tenant_a: Tenant, world: World, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    created = _json(
        agent,
        "post",
        "/api/v1/segments",
        {"name": " Leads ", "description": "Tagged Lead", "definition": _leads(world)},
    )
    assert created.status_code == 201, created.content
    body = created.json()
    assert body["name"] == "Leads" and body["created_by_id"] == tenant_a.agent.pk
    assert body["definition"]["match"] == "all"
    segment_id = body["id"]
    assert agent.get(f"/api/v1/segments/{segment_id}").json()["name"] == "Leads"
    assert agent.get(f"/api/v1/segments/{segment_id}/count").json() == {"count": 2}
    listed = agent.get("/api/v1/segments").json()
    assert [s["id"] for s in listed["items"]] == [segment_id]

    same_name = _json(
        agent, "post", "/api/v1/segments", {"name": "LEADS", "definition": _leads(world)}
    )
    assert same_name.status_code == 409 and same_name.json()["field"] == "name"

    vip_only = {"conditions": [{"field": "tags", "op": "has_any", "value": [world.tags["VIP"]]}]}
    edited = _json(
        agent, "patch", f"/api/v1/segments/{segment_id}", {"name": "VIPs", "definition": vip_only}
    )
    assert edited.status_code == 200 and edited.json()["name"] == "VIPs"
    assert edited.json()["description"] == "Tagged Lead"
    assert agent.get(f"/api/v1/segments/{segment_id}/count").json() == {"count": 1}

    assert agent.delete(f"/api/v1/segments/{segment_id}").status_code == 204
    assert agent.get(f"/api/v1/segments/{segment_id}").status_code == 404


def test_members_are_cursor_paginated(tenant_a: Tenant, world: World, login: Any) -> None:
    viewer: Client = login(tenant_a.viewer)
    agent: Client = login(tenant_a.agent)
    everyone = _json(
        agent, "post", "/api/v1/segments", {"name": "All", "definition": {"conditions": []}}
    ).json()
    url = f"/api/v1/segments/{everyone['id']}/contacts"
    first = viewer.get(url, {"limit": 2}).json()
    assert len(first["items"]) == 2 and first["next_cursor"]
    rest = viewer.get(url, {"limit": 2, "cursor": first["next_cursor"]}).json()
    assert rest["next_cursor"] is None
    seen = [c["id"] for c in first["items"] + rest["items"]]
    assert sorted(seen) == sorted(world.contacts.values())
    ann = next(c for c in first["items"] + rest["items"] if c["id"] == world.contacts["ann"])
    assert {t["name"] for t in ann["tags"]} == {"VIP", "Lead"}


def test_preview_counts_and_samples(
    tenant_a: Tenant,
    world: World,
    login: Any,
    django_assert_max_num_queries: DjangoAssertNumQueries,
) -> None:
    viewer: Client = login(tenant_a.viewer)
    with django_assert_max_num_queries(16):  # 11 are login, tenancy and savepoints
        preview = _json(viewer, "post", "/api/v1/segments/preview", {"definition": _leads(world)})
    assert preview.status_code == 200, preview.content
    assert preview.json()["count"] == 2
    assert {c["id"] for c in preview.json()["sample"]} == {
        world.contacts["ann"],
        world.contacts["bob"],
    }


INVALID: list[tuple[dict[str, Any], str, str]] = [
    ({"field": "mood", "op": "eq"}, "field", "not something a segment can test"),
    ({"field": "tags", "op": "gt", "value": [1]}, "op", "has_any"),
    ({"field": "tags", "op": "has_any", "value": [999999]}, "value", "999999"),
    ({"field": "tags", "op": "has_any", "value": []}, "value", "at least one"),
    ({"field": "attribute", "key": "nope", "op": "is_set"}, "key", "'nope'"),
    ({"field": "attribute", "key": "plan", "op": "gt", "value": 3}, "op", "eq"),
    ({"field": "attribute", "key": "seats", "op": "gt", "value": "x"}, "value", "number"),
    ({"field": "attribute", "key": "tier", "op": "in", "value": ["z"]}, "value", "one of a, b, c"),
    ({"field": "attribute", "key": "seats", "op": "between", "value": [5, 1]}, "value", "exceed"),
    ({"field": "attribute", "key": "renewal", "op": "on", "value": "soon"}, "value", "2026-12-31"),
    ({"field": "consent", "op": "in", "value": ["maybe"]}, "value", "opted_in"),
    ({"field": "created_at", "op": "never"}, "op", "every contact has"),
    ({"field": "last_inbound_at", "op": "within_last_days", "value": 0}, "value", "between 1"),
    ({"field": "email", "op": "contains", "value": "  "}, "value", "type the email"),
    (
        {"field": "conversation_status", "op": "has_conversation_with_status", "value": ["lost"]},
        "value",
        "open",
    ),
]


@pytest.mark.parametrize(("condition", "field", "words"), INVALID)
def test_invalid_definitions_say_what_to_fix(
    condition: dict[str, Any], field: str, words: str, tenant_a: Tenant, world: World, login: Any
) -> None:
    agent: Client = login(tenant_a.agent)
    definition = {"conditions": [_leads(world)["conditions"][0], condition]}
    field = f"conditions[1].{field}"
    for url, body in (
        ("/api/v1/segments", {"name": "Bad", "definition": definition}),
        ("/api/v1/segments/preview", {"definition": definition}),
    ):
        response = _json(agent, "post", url, body)
        assert response.status_code == 400, response.content
        assert response.json()["field"] == field
        assert words in response.json()["message"]
        assert response.json()["message"].startswith("Condition 2")


def test_viewers_read_but_cannot_write(tenant_a: Tenant, world: World, login: Any) -> None:
    agent: Client = login(tenant_a.agent)
    segment_id = _json(
        agent, "post", "/api/v1/segments", {"name": "Leads", "definition": _leads(world)}
    ).json()["id"]
    viewer: Client = login(tenant_a.viewer)
    assert viewer.get(f"/api/v1/segments/{segment_id}").status_code == 200
    assert viewer.get(f"/api/v1/segments/{segment_id}/count").json() == {"count": 2}
    refused = [
        _json(viewer, "post", "/api/v1/segments", {"name": "X", "definition": _leads(world)}),
        _json(viewer, "patch", f"/api/v1/segments/{segment_id}", {"name": "Y"}),
        viewer.delete(f"/api/v1/segments/{segment_id}"),
    ]
    assert [r.status_code for r in refused] == [403, 403, 403]


def test_token_scopes_apply(tenant_a: Tenant, world: World) -> None:
    from tests.factories import make_token

    _, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("contacts:read",))
    client = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert client.get("/api/v1/segments").status_code == 200
    denied = _json(client, "post", "/api/v1/segments", {"name": "X", "definition": _leads(world)})
    assert denied.status_code == 403
