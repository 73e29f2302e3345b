"""Broadcasts over the API: drafts, the CSV audience, start, steering,
recipients and their export; who may do what."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.outbox.models import OutboundItem
from parley.tenancy.roles import ALL_SCOPES
from tests.factories import Tenant, make_token

from .helpers import CSV_MAPPING, MAPPING, World, build, csv_bytes, upload

pytestmark = pytest.mark.django_db

API = "/api/v1"


def _json(client: Client, method: str, url: str, body: dict[str, Any] | None = None) -> Any:
    return getattr(client, method)(API + url, body, content_type="application/json")


def _create(client: Client, world: World, **extra: Any) -> Any:
    body = {
        "name": "Summer sale",
        "channel_id": world.channel.pk,
        "template_id": world.template.pk,
        "mapping": MAPPING,
        "audience_kind": "tags",
        "tag_ids": [world.vip.pk],
        **extra,
    }
    return _json(client, "post", "/broadcasts", body)


def test_crud_and_start(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    admin: Client = login(tenant_a.admin)
    made = _create(admin, world)
    assert made.status_code == 201, made.content
    b = made.json()
    assert b["status"] == "draft" and b["progress"] is None and b["tag_ids"] == [world.vip.pk]
    url = f"/broadcasts/{b['id']}"
    edited = _json(admin, "patch", url, {"name": "Summer sale (VIP)"})
    assert edited.json()["name"] == "Summer sale (VIP)"
    assert edited.json()["mapping"] == MAPPING  # not sent: untouched
    bad = _json(admin, "patch", url, {"mapping": {"1": MAPPING["1"]}})
    assert bad.status_code == 400 and bad.json()["field"] == "mapping"
    listed = _json(admin, "get", "/broadcasts").json()
    assert [x["id"] for x in listed["items"]] == [b["id"]]
    assert _json(admin, "get", "/broadcasts?status=draft").json()["items"]
    assert not _json(admin, "get", "/broadcasts?status=sending").json()["items"]
    started = _json(admin, "post", url + "/start", {})
    assert started.status_code == 200, started.content
    body = started.json()
    assert body["status"] == "sending" and body["audience_size"] == 2
    assert body["skipped_opted_out"] == 1
    assert body["progress"]["total"] == 2 and body["progress"]["queued"] == 2
    # Started: no more edits, no delete.
    assert _json(admin, "patch", url, {"name": "x"}).status_code == 409
    assert admin.delete(API + url).status_code == 409
    paused = _json(admin, "post", url + "/pause").json()
    assert paused["status"] == "paused" and paused["progress"]["paused"] == 2
    assert _json(admin, "post", url + "/resume").json()["status"] == "sending"
    assert _json(admin, "post", url + "/cancel").json()["status"] == "cancelled"
    assert _json(admin, "post", url + "/pause").status_code == 409


def test_delete_draft(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    admin: Client = login(tenant_a.admin)
    b = _create(admin, world).json()
    assert admin.delete(f"{API}/broadcasts/{b['id']}").status_code == 204
    assert admin.get(f"{API}/broadcasts/{b['id']}").status_code == 404


def test_schedule_and_reschedule(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    admin: Client = login(tenant_a.admin)
    b = _create(admin, world).json()
    url = f"/broadcasts/{b['id']}"
    day = (timezone.now() + timedelta(days=30)).date().isoformat()
    # No offset: the workspace's time (UTC here).
    started = _json(admin, "post", url + "/start", {"scheduled_at": f"{day}T09:00:00"})
    assert started.json()["status"] == "scheduled", started.content
    assert started.json()["scheduled_at"].startswith(f"{day}T09:00:00")
    past = _json(admin, "post", url + "/reschedule", {"scheduled_at": "2020-01-01T09:00:00Z"})
    assert past.status_code == 400 and past.json()["field"] == "scheduled_at"
    moved = _json(admin, "post", url + "/reschedule", {"scheduled_at": f"{day}T10:00:00+02:00"})
    assert moved.json()["scheduled_at"].startswith(f"{day}T08:00:00")
    far = _json(admin, "post", url + "/reschedule", {"scheduled_at": "2099-01-01T10:00:00Z"})
    assert far.status_code == 400
    now = _json(admin, "post", url + "/reschedule", {"scheduled_at": None})
    assert now.json()["status"] == "sending"


def test_csv_upload_and_recipients(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    admin: Client = login(tenant_a.admin)
    b = _create(admin, world, audience_kind="csv", mapping={}, tag_ids=[]).json()
    url = f"/broadcasts/{b['id']}"
    rows = [["who", "number", "coupon"]] + [
        [f"P{n}", f"+44 7911 {n:06d}", f"C{n}"] for n in range(1, 121)
    ]
    rows.append(["Broken", "not a number", ""])
    sent = admin.post(
        API + url + "/audience-csv", {"file": upload(csv_bytes(rows, delimiter=";", bom=True))}
    )
    assert sent.status_code == 200, sent.content
    assert sent.json()["csv_header"] == ["who", "number", "coupon"]
    assert sent.json()["csv_phone_column"] == "number"
    assert sent.json()["audience_kind"] == "csv"
    mapped = _json(admin, "patch", url, {"mapping": CSV_MAPPING})
    assert mapped.status_code == 200, mapped.content
    started = _json(admin, "post", url + "/start").json()
    # Ann, Bob and Cat of the world are +447911000001..3; Cat has opted out.
    assert (started["audience_size"], started["skipped_invalid"]) == (119, 1)
    assert started["skipped_opted_out"] == 1
    page = _json(admin, "get", url + "/recipients?limit=50").json()
    assert len(page["items"]) == 50 and page["next_cursor"]
    first = page["items"][0]
    assert first["name"] == "Ann Archer" and first["values"] == {"coupon": "C1"}
    assert first["state"] == "queued"
    seen = [x["id"] for x in page["items"]]
    cursor = page["next_cursor"]
    while cursor:
        page = _json(admin, "get", url + f"/recipients?limit=50&cursor={cursor}").json()
        seen += [x["id"] for x in page["items"]]
        cursor = page["next_cursor"]
    assert len(seen) == len(set(seen)) == 119 and seen == sorted(seen)
    # Two fail; the filter finds them, retry queues them again.
    with workspace_context(tenant_a.workspace.pk):
        ids = list(
            OutboundItem.objects.filter(source="broadcast", source_id=b["id"])
            .order_by("id")
            .values_list("id", flat=True)[:2]
        )
        OutboundItem.objects.filter(pk__in=ids).update(
            state="failed", reason="Meta error 131026: undeliverable."
        )
    failed = _json(admin, "get", url + "/recipients?state=failed").json()["items"]
    assert [x["id"] for x in failed] == ids
    assert failed[0]["reason"] == "Meta error 131026: undeliverable."
    assert _json(admin, "get", url + "/recipients?state=nope").status_code == 400
    export = admin.get(API + url + "/recipients.csv?state=failed")
    assert export.status_code == 200 and export["Content-Type"].startswith("text/csv")
    lines = list(csv.reader(io.StringIO(b"".join(export.streaming_content).decode("utf-8-sig"))))  # type: ignore[attr-defined]
    assert lines[0][:4] == ["contact_id", "name", "phone", "state"]
    assert [line[3] for line in lines[1:]] == ["failed", "failed"]
    assert lines[1][5] == "Meta error 131026: undeliverable."
    retried = _json(admin, "post", url + "/retry-failed").json()
    assert retried == {"retried": 2}
    assert not _json(admin, "get", url + "/recipients?state=failed").json()["items"]


def test_quota_refusal_is_a_clear_400(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        world.channel.messaging_limit_tier = "TIER_50"
        world.channel.save(update_fields=["messaging_limit_tier"])
    tenant_a.workspace.monthly_message_quota = 1
    tenant_a.workspace.save(update_fields=["monthly_message_quota"])
    admin: Client = login(tenant_a.admin)
    b = _create(admin, world).json()
    refused = _json(admin, "post", f"/broadcasts/{b['id']}/start")
    assert refused.status_code == 400
    assert refused.json()["code"] == "quota_exceeded"
    assert "This audience has 2 contacts" in refused.json()["message"]
    with workspace_context(tenant_a.workspace.pk):
        assert not OutboundItem.objects.filter(source="broadcast").exists()
    assert _json(admin, "get", f"/broadcasts/{b['id']}").json()["status"] == "draft"


def test_roles(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    admin: Client = login(tenant_a.admin)
    b = _create(admin, world).json()
    url = f"/broadcasts/{b['id']}"
    _json(admin, "post", url + "/start")
    for user in (tenant_a.viewer, tenant_a.agent):
        client: Client = login(user)
        assert _json(client, "get", "/broadcasts").status_code == 200
        assert _json(client, "get", url).status_code == 200
        assert _json(client, "get", url + "/recipients").status_code == 200
        assert client.get(API + url + "/recipients.csv").status_code == 200
        assert _create(client, world).status_code == 403
        for action in ("pause", "resume", "cancel", "retry-failed"):
            assert _json(client, "post", f"{url}/{action}").status_code == 403
        assert _json(client, "patch", url, {"name": "x"}).status_code == 403
    owner: Client = login(tenant_a.owner)
    assert _json(owner, "post", url + "/pause").status_code == 200


def test_token_scopes(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _token, raw_read = make_token(
        tenant_a.workspace, tenant_a.owner, scopes=("campaigns:read", "workspace:read")
    )
    reader = Client(HTTP_AUTHORIZATION=f"Bearer {raw_read}")
    writer = Client(HTTP_AUTHORIZATION=f"Bearer {tenant_a.raw_token}")
    assert "campaigns:write" in ALL_SCOPES
    made = _create(writer, world)
    assert made.status_code == 201
    assert _json(reader, "get", f"/broadcasts/{made.json()['id']}").status_code == 200
    refused = _create(reader, world)
    assert refused.status_code == 403


def test_openapi_has_examples(tenant_a: Tenant) -> None:
    spec = Client().get(API + "/openapi.json").json()
    paths = [p for p in spec["paths"] if p.startswith(API + "/broadcasts")]
    assert API + "/broadcasts/{broadcast_id}/audience-csv" in paths
    assert API + "/broadcasts/{broadcast_id}/recipients.csv" in paths
    schema = spec["components"]["schemas"]["BroadcastIn"]
    assert schema["properties"]["mapping"]["examples"]
