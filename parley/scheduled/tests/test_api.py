"""Scheduled messages over the API: create (local or with an offset), get,
list, edit, cancel, 409 once sent, roles and token scopes, OpenAPI."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.outbox.models import OutboundItem
from parley.scheduled.tests.helpers import (
    MAPPING,
    at,
    last_sunday,
    make_world,
    next_year,
    nth_sunday,
)
from tests.factories import Tenant, make_token

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(API + url, body, content_type="application/json")


def test_create_get_list_edit_cancel(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    agent: Client = login(tenant_a.agent)
    y = next_year()
    made = _json(
        agent,
        "post",
        "/scheduled",
        {"contact_id": world.contact.pk, "send_at": f"{y}-07-01T09:00:00", "text": "Hello!"},
    )
    assert made.status_code == 201, made.content
    body = made.json()
    assert body["send_at"].startswith(f"{y}-07-01T07:00:00")  # CEST, +2
    assert body["display_time"].endswith("09:00 CEST")
    assert body["timezone"] == "Europe/Berlin" and body["local_time"] == f"{y}-07-01T09:00:00"
    assert body["status"] == "scheduled" and body["kind"] == "text"
    assert body["channel_id"] == world.channel.pk  # the only number
    assert "has not written" in body["window_note"]
    url = f"/scheduled/{body['id']}"

    offset = _json(
        agent,
        "post",
        "/scheduled",
        {
            "contact_id": world.contact.pk,
            "channel_id": world.channel.pk,
            "send_at": f"{y}-01-10T09:00:00-05:00",
            "template_id": world.template.pk,
            "mapping": MAPPING,
        },
    )
    assert offset.status_code == 201, offset.content
    assert offset.json()["send_at"].startswith(f"{y}-01-10T14:00:00")
    assert offset.json()["timezone"] == "UTC-05:00" and offset.json()["kind"] == "template"
    assert offset.json()["display_time"].endswith("15:00 CET")  # shown in the workspace's zone

    got = agent.get(API + url)
    assert got.status_code == 200 and got.json()["text"] == "Hello!"
    listed = agent.get(API + f"/scheduled?contact_id={world.contact.pk}&status=upcoming")
    assert {i["id"] for i in listed.json()["items"]} == {body["id"], offset.json()["id"]}
    assert agent.get(API + "/scheduled?status=sent").json()["items"] == []
    assert agent.get(API + "/scheduled?status=nope").json()["field"] == "status"

    edited = _json(agent, "patch", url, {"send_at": f"{y}-07-01T10:30:00+02:00"})
    assert edited.status_code == 200, edited.content
    assert edited.json()["send_at"].startswith(f"{y}-07-01T08:30:00")
    assert edited.json()["text"] == "Hello!"  # untouched: not sent
    edited = _json(
        agent,
        "patch",
        url,
        {
            "text": "Hello again",
            "fallback_template_id": world.template.pk,
            "fallback_mapping": MAPPING,
        },
    )
    assert edited.json()["text"] == "Hello again"
    assert edited.json()["fallback_template_id"] == world.template.pk
    assert edited.json()["send_at"].startswith(f"{y}-07-01T08:30:00")
    dropped = _json(agent, "patch", url, {"fallback_template_id": None})
    assert (
        dropped.json()["fallback_template_id"] is None and dropped.json()["fallback_mapping"] == {}
    )

    cancelled = _json(agent, "post", url + "/cancel")
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert _json(agent, "post", url + "/cancel").status_code == 200
    assert _json(agent, "patch", url, {"text": "late"}).status_code == 409
    assert agent.get(API + "/scheduled?status=cancelled").json()["items"][0]["id"] == body["id"]


def test_sent_is_409_already_sent(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a)
    agent: Client = login(tenant_a.agent)
    made = _json(
        agent,
        "post",
        "/scheduled",
        {
            "contact_id": world.contact.pk,
            "send_at": (timezone.now() + timedelta(hours=1)).isoformat(),
            "text": "Hi",
        },
    ).json()
    with workspace_context(tenant_a.workspace.pk):
        OutboundItem.objects.filter(source="scheduled", source_id=made["id"]).update(
            state="sent", finished_at=timezone.now()
        )
    url = f"/scheduled/{made['id']}"
    for method, path, body in (
        ("patch", url, {"send_at": (timezone.now() + timedelta(days=1)).isoformat()}),
        ("post", url + "/cancel", None),
    ):
        refused = _json(agent, method, path, body)
        assert refused.status_code == 409, refused.content
        assert refused.json()["code"] == "already_sent"
        assert "already sent" in refused.json()["message"]
    assert agent.get(API + url).json()["status"] == "sent"
    assert agent.get(API + "/scheduled?status=sent").json()["items"][0]["id"] == made["id"]


def test_times_are_checked(tenant_a: Tenant, login: Any) -> None:
    world = make_world(tenant_a, "America/New_York")
    agent: Client = login(tenant_a.agent)
    y = next_year()

    def post(send_at: str) -> Any:
        return _json(
            agent,
            "post",
            "/scheduled",
            {"contact_id": world.contact.pk, "send_at": send_at, "text": "Hi"},
        )

    spring = nth_sunday(y, 3, 2)
    gap = post(f"{spring:%Y-%m-%d}T02:30:00")
    assert gap.status_code == 400
    assert gap.json()["code"] == "nonexistent_time" and gap.json()["field"] == "send_at"
    assert "from 02:00 to 03:00 (EST to EDT)" in gap.json()["message"]
    fall = nth_sunday(y, 11, 1)
    folded = post(f"{fall:%Y-%m-%d}T01:30:00")
    assert folded.status_code == 201
    assert folded.json()["send_at"].startswith(f"{fall:%Y-%m-%d}T05:30:00")
    assert "happens twice" in folded.json()["time_note"]
    past = post((timezone.now() - timedelta(hours=1)).isoformat())
    assert past.status_code == 400 and past.json()["code"] == "in_the_past"
    # Europe's spring change is no gap in New York.
    europe = post(f"{at(last_sunday(y, 3), 2, 30):%Y-%m-%dT%H:%M}:00")
    assert europe.status_code == 201 and europe.json()["send_at"].endswith("06:30:00Z")


def test_roles_and_scopes(tenant_a: Tenant, tenant_b: Tenant, login: Any) -> None:
    world = make_world(tenant_a)
    later = (timezone.now() + timedelta(hours=2)).isoformat()
    payload = {"contact_id": world.contact.pk, "send_at": later, "text": "Hi"}
    viewer: Client = login(tenant_a.viewer)
    assert _json(viewer, "post", "/scheduled", payload).status_code == 403
    admin: Client = login(tenant_a.admin)
    made = _json(admin, "post", "/scheduled", payload)
    assert made.status_code == 201
    url = f"/scheduled/{made.json()['id']}"
    assert viewer.get(API + url).status_code == 200
    assert viewer.get(API + "/scheduled").status_code == 200
    assert _json(viewer, "patch", url, {"text": "x"}).status_code == 403
    assert _json(viewer, "post", url + "/cancel").status_code == 403

    _token, raw = make_token(tenant_a.workspace, tenant_a.owner, scopes=("conversations:read",))
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {raw}")
    assert reader.get(API + url).status_code == 200
    refused = reader.post(API + "/scheduled", payload, content_type="application/json")
    assert refused.status_code == 403 and "conversations:write" in refused.json()["message"]
    writer = Client(HTTP_AUTHORIZATION=f"Bearer {tenant_a.raw_token}")
    assert (
        writer.post(API + "/scheduled", payload, content_type="application/json").status_code == 201
    )

    # Another workspace's ids are 404/400 alike for missing and not-yours.
    outsider = Client(HTTP_AUTHORIZATION=f"Bearer {tenant_b.raw_token}")
    assert outsider.get(API + url).status_code == 404
    assert outsider.post(API + url + "/cancel").status_code == 404
    assert (
        outsider.post(API + "/scheduled", payload, content_type="application/json").status_code
        == 404
    )
    theirs = make_world(tenant_b)
    borrowed = {
        "contact_id": theirs.contact.pk,
        "send_at": later,
        "kind": "template",
        "template_id": world.template.pk,
        "mapping": MAPPING,
    }
    response = outsider.post(API + "/scheduled", borrowed, content_type="application/json")
    assert response.status_code == 400 and response.json()["code"] == "unknown_template"


def test_openapi_documents_the_routes_with_examples(tenant_a: Tenant, login: Any) -> None:
    spec = login(tenant_a.owner).get(API + "/openapi.json").json()
    assert {"/api/v1/scheduled", "/api/v1/scheduled/{scheduled_id}"} <= set(spec["paths"])
    assert "/api/v1/scheduled/{scheduled_id}/cancel" in spec["paths"]
    schema = spec["components"]["schemas"]["ScheduledIn"]["properties"]
    assert schema["send_at"]["examples"] == ["2026-03-29T09:00:00"]
    assert schema["mapping"]["examples"][0] == MAPPING
