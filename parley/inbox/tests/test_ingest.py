"""Inbound webhooks: signature, durable store, parsing of Meta's real payloads,
deduplication, statuses that never go backwards."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.crm.models import Contact
from parley.inbox.models import Conversation, Message
from parley.inbox.tasks import process_webhook
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.samples import status_webhook, text_webhook
from parley.whatsapp.signatures import sign
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).resolve().parents[3].parent / "shared" / "fixtures" / "whatsapp-webhooks"
SECRET = "app-secret-123"


def _samples() -> list[tuple[str, dict[str, Any]]]:
    if not FIXTURES.is_dir():
        return []
    out = []
    for path in sorted(FIXTURES.glob("*.json")):
        for name, payload in json.loads(path.read_text()).items():
            out.append((f"{path.stem}:{name}", payload))
    return out


def _retarget(payload: dict[str, Any], phone_number_id: str, tag: str = "") -> bytes:
    """Point a captured payload at our channel's number (and, with ``tag``, give
    its messages their own ids: the captures reuse one wamid)."""
    for entry in payload.get("entry", []):
        for change in entry.get("changes", []):
            value = change.get("value", {})
            metadata = value.get("metadata")
            if isinstance(metadata, dict):
                metadata["phone_number_id"] = phone_number_id
            for message in value.get("messages", []) if tag else []:
                message["id"] = f"{message.get('id')}.{tag}"
    return json.dumps(payload).encode()


def _post(channel: Channel, body: bytes, secret: str = SECRET, **headers: str) -> Any:
    return Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(body, secret), **headers},
    )


def drain_now(workspace_id: int, event_id: int) -> None:
    process_webhook.func(workspace_id=workspace_id, event_id=event_id)


def _run_jobs(workspace_id: int) -> None:
    """Run the deferred processing jobs in-process (the worker's code path)."""
    with workspace_context(workspace_id):
        ids = list(WebhookEvent.objects.filter(state="received").values_list("id", flat=True))
    for event_id in ids:
        drain_now(workspace_id, event_id)


def text_payload(
    phone_number_id: str, wamid: str, body: str = "hello", wa_id: str = "15551230000"
) -> bytes:
    return text_webhook(phone_number_id, wamid=wamid, wa_id=wa_id, body=body, sent_at=1760000000)


def test_verification_handshake(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    url = f"/webhooks/whatsapp/{channel.webhook_key}"
    ok = Client().get(
        url,
        {"hub.mode": "subscribe", "hub.verify_token": channel.verify_token, "hub.challenge": "42"},
    )
    assert ok.status_code == 200 and ok.content == b"42"
    assert (
        Client()
        .get(url, {"hub.mode": "subscribe", "hub.verify_token": "nope", "hub.challenge": "1"})
        .status_code
        == 403
    )


def test_signature_is_required_and_checked(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    body = text_payload(channel.phone_number_id, "wamid.1")
    url = f"/webhooks/whatsapp/{channel.webhook_key}"
    assert Client().post(url, body, content_type="application/json").status_code == 401
    assert _post(channel, body, secret="wrong-secret").status_code == 403
    assert _post(channel, body).status_code == 200
    with workspace_context(tenant_a.workspace.pk):
        assert WebhookEvent.objects.count() == 1


def test_every_shared_fixture_parses(tenant_a: Tenant) -> None:
    samples = _samples()
    if not samples:
        pytest.skip(f"no fixtures at {FIXTURES}")
    channel = make_channel(tenant_a)
    for name, payload in samples:
        response = _post(channel, _retarget(payload, channel.phone_number_id, tag=name))
        assert response.status_code == 200, name
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        states = list(WebhookEvent.objects.values_list("state", flat=True))
        kinds = set(Message.objects.values_list("type", flat=True))
    assert len(states) == len(samples) and "received" not in states
    expected = {
        "text",
        "image",
        "video",
        "document",
        "audio",
        "sticker",
        "reaction",
        "location",
        "contacts",
        "order",
        "unsupported",
        "interactive",
        "button",
    }
    assert expected <= kinds, expected - kinds


def test_three_deliveries_make_one_message(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    body = text_payload(channel.phone_number_id, "wamid.dup")
    for _ in range(3):
        assert _post(channel, body).status_code == 200
    _run_jobs(tenant_a.workspace.pk)
    _run_jobs(tenant_a.workspace.pk)  # and a second run changes nothing
    with workspace_context(tenant_a.workspace.pk):
        assert Message.objects.filter(wamid="wamid.dup").count() == 1
        contact = Contact.objects.get()
        assert (contact.profile_name, contact.phone_e164) == ("Ann", "+15551230000")
        conversation = Conversation.objects.get()
        assert conversation.unread_count == 1 and conversation.last_message_preview == "hello"


def test_a_resolved_conversation_reopens_on_a_new_message(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    _post(channel, text_payload(channel.phone_number_id, "wamid.a"))
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        Conversation.objects.update(status="resolved")
    _post(channel, text_payload(channel.phone_number_id, "wamid.b", body="again"))
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get()
        assert conversation.status == "open" and conversation.messages.count() == 2


def test_statuses_never_move_backwards(tenant_a: Tenant) -> None:
    from tests.factories import seed_inbox

    seeded = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        channel = Channel.objects.get(pk=int(seeded["channel_id"]))
        conversation = Conversation.objects.get(pk=int(seeded["conversation_id"]))
        Message.objects.create(
            workspace=tenant_a.workspace,
            conversation=conversation,
            direction="out",
            wamid="wamid.out",
            status="sent",
            text="hi",
        )

    for kind, ts in (("read", 1760000300), ("delivered", 1760000200), ("sent", 1760000100)):
        _post(
            channel, status_webhook(channel.phone_number_id, wamid="wamid.out", status=kind, at=ts)
        )
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        message = Message.objects.get(wamid="wamid.out")
    assert (
        message.status == "read"
        and message.read_at is not None
        and message.delivered_at is not None
    )


def test_hostile_and_malformed_bodies_never_500_and_are_kept(tenant_a: Tenant) -> None:
    channel = make_channel(tenant_a)
    bodies = [
        b"",
        b"not json",
        b"[]",
        b'{"object":"page"}',
        b'{"object":"whatsapp_business_account","entry":5}',
        json.dumps(
            {"object": "whatsapp_business_account", "entry": [{"changes": [{"value": None}]}]}
        ).encode(),
        b"\xff\xfe\x00garbage",
    ]
    for body in bodies:
        assert _post(channel, body).status_code == 200
    _run_jobs(tenant_a.workspace.pk)
    with workspace_context(tenant_a.workspace.pk):
        events = list(WebhookEvent.objects.all())
    assert len(events) == len(bodies)
    assert all(e.state in ("flagged", "processed") for e in events)
    assert (
        Client()
        .post("/webhooks/whatsapp/unknown-key", b"{}", content_type="application/json")
        .status_code
        == 404
    )
    with dangerously_cross_tenant(reason="test: operator sees unknown-channel events"):
        assert WebhookEvent.objects.filter(workspace=None, state="flagged").count() == 1


def test_a_signed_body_cannot_reach_another_workspace(tenant_a: Tenant, tenant_b: Tenant) -> None:
    a_channel = make_channel(tenant_a)
    b_channel = make_channel(tenant_b, app_secret="bravo-secret-99")
    # Signed with A's secret, naming B's number, posted to A's URL.
    body = text_payload(b_channel.phone_number_id, "wamid.cross")
    assert _post(a_channel, body).status_code == 200
    # Signed with A's secret, posted to B's URL.
    assert (
        _post(b_channel, text_payload(b_channel.phone_number_id, "wamid.cross2")).status_code == 403
    )
    _run_jobs(tenant_a.workspace.pk)
    _run_jobs(tenant_b.workspace.pk)
    with dangerously_cross_tenant(reason="test: nothing landed anywhere"):
        assert Message.objects.count() == 0
