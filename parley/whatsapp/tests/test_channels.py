"""Channels: connect, secrets at rest, test connection against the simulator,
rotate, disable, delete with confirmation."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from django.test import Client

from parley.core.crypto import decrypt
from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle, start_simulator
from tests.factories import Tenant, seed_inbox

pytestmark = pytest.mark.django_db

TOKEN = "EAAG-test-token-0001"


@pytest.fixture
def sim(settings: Any) -> Iterator[SimulatorHandle]:
    handle = start_simulator()
    settings.WHATSAPP_GRAPH_URL = handle.graph_url
    try:
        yield handle
    finally:
        handle.stop()


def _connect(client: Client, **overrides: Any) -> Any:
    body = {
        "name": "Support line",
        "phone_number_id": "106540352242922",
        "waba_id": "102290129340398",
        "display_phone_number": "+1 555 0100",
        "access_token": TOKEN,
        "app_secret": "app-secret-0001",
        **overrides,
    }
    return client.post("/api/v1/channels", body, content_type="application/json")


def test_connect_shows_the_webhook_and_never_the_secrets(tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    created = _connect(admin)
    assert created.status_code == 201
    body = created.json()
    assert "/webhooks/whatsapp/" in body["webhook_url"] and len(body["verify_token"]) > 20
    assert TOKEN not in created.content.decode() and body["access_token_hint"] == "…0001"
    with workspace_context(tenant_a.workspace.pk):
        channel = Channel.objects.get()
    assert TOKEN not in channel.access_token_enc and decrypt(channel.access_token_enc) == TOKEN
    page = admin.get(f"/w/{tenant_a.workspace.slug}/channels/{channel.pk}/").content.decode()
    assert body["webhook_url"] in page and TOKEN not in page
    duplicate = _connect(admin)
    assert duplicate.status_code == 409 and duplicate.json()["field"] == "phone_number_id"
    bad = _connect(admin, phone_number_id="abc", access_token="x")
    assert bad.status_code == 400 and bad.json()["field"] == "phone_number_id"
    assert _connect(login(tenant_a.agent)).status_code == 403


def test_test_connection_rotate_disable(sim: SimulatorHandle, tenant_a: Tenant, login: Any) -> None:
    admin: Client = login(tenant_a.admin)
    channel_id = _connect(admin).json()["id"]
    sim.control.register_number(
        "106540352242922",
        access_token=TOKEN,
        app_secret="app-secret-0001",
        webhook_url="http://127.0.0.1:9/unused",
        verified_name="Acme Support",
    )
    tested = admin.post(f"/api/v1/channels/{channel_id}/test").json()
    assert tested["last_test_ok"] is True and tested["verified_name"] == "Acme Support"
    admin.post(
        f"/api/v1/channels/{channel_id}/secrets",
        {"access_token": "EAAG-wrong-token-9999"},
        content_type="application/json",
    )
    failed = admin.post(f"/api/v1/channels/{channel_id}/test").json()
    assert failed["last_test_ok"] is False and "access token" in failed["last_test_detail"]
    disabled = admin.post(
        f"/api/v1/channels/{channel_id}/status", {"active": False}, content_type="application/json"
    ).json()
    assert disabled["status"] == "disabled"


def test_delete_needs_the_name_and_takes_the_conversations(tenant_a: Tenant, login: Any) -> None:
    seeded = seed_inbox(tenant_a)
    owner: Client = login(tenant_a.owner)
    url = f"/api/v1/channels/{seeded['channel_id']}"
    refused = owner.delete(url + "?confirm=nope")
    assert refused.status_code == 400 and refused.json()["field"] == "confirm"
    with workspace_context(tenant_a.workspace.pk):
        name = Channel.objects.get(pk=int(seeded["channel_id"])).name
    assert owner.delete(url + f"?confirm={name}").status_code == 204
    with workspace_context(tenant_a.workspace.pk):
        assert not Conversation.objects.exists()


def test_templates_sync_and_follow_meta_reviews(
    sim: SimulatorHandle, tenant_a: Tenant, login: Any
) -> None:
    from parley.inbox.tests.test_ingest import _post, _run_jobs
    from parley.whatsapp.models import MessageTemplate
    from parley.whatsapp.samples import envelope
    from parley.whatsapp.tasks import sync_templates

    admin: Client = login(tenant_a.admin)
    channel_id = _connect(admin, app_secret="app-secret-123").json()["id"]
    sim.control.register_number(
        "106540352242922",
        access_token=TOKEN,
        app_secret="app-secret-123",
        webhook_url="http://127.0.0.1:9/unused",
        waba_id="102290129340398",
    )
    sim.control.seed_template(
        "102290129340398", "order_update", body="Hi {{1}}, order {{2}} shipped."
    )
    sim.control.seed_template(
        "102290129340398", "promo", body="Sale!", status="PENDING", category="MARKETING"
    )
    sync_templates.func(workspace_id=tenant_a.workspace.pk, channel_id=channel_id)
    listed = admin.get(f"/api/v1/channels/{channel_id}/templates").json()
    assert {(t["name"], t["status"], t["parameter_count"]) for t in listed} == {
        ("order_update", "APPROVED", 2),
        ("promo", "PENDING", 0),
    }
    with workspace_context(tenant_a.workspace.pk):
        channel = Channel.objects.get(pk=channel_id)
    body = envelope(
        channel.phone_number_id,
        {
            "event": "APPROVED",
            "message_template_name": "promo",
            "message_template_language": "en_US",
        },
        field="message_template_status_update",
    )
    assert _post(channel, body).status_code == 200
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        assert MessageTemplate.objects.get(name="promo").status == "APPROVED"
