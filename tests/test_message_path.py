"""The message path end to end, over real HTTP on loopback: the Cloud API
simulator posts signed webhooks to a live Parley, a real worker process
processes them and sends replies through the simulator."""

from __future__ import annotations

import signal
from typing import Any

import pytest
from django.test import Client

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.inbox.models import Conversation, Message
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_channel, make_tenant
from tests.workers import start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]

CUSTOMER = "15557654321"


def _connect(tenant: Tenant, sim: SimulatorHandle, live_url: str) -> Channel:
    channel: Channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        from parley.core.crypto import decrypt

        token = decrypt(channel.access_token_enc)
    sim.control.register_number(
        channel.phone_number_id,
        access_token=token,
        app_secret="app-secret-123",
        webhook_url=f"{live_url}/webhooks/whatsapp/{channel.webhook_key}",
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number,
    )
    return channel


def _worker(sim: SimulatorHandle, **extra: str) -> Any:
    return start_worker(
        WHATSAPP_GRAPH_URL=sim.graph_url, WHATSAPP_AMBIGUOUS_GRACE_SECONDS="3", **extra
    )


def _messages(tenant: Tenant, **filters: Any) -> list[Message]:
    with workspace_context(tenant.workspace.pk):
        return list(Message.objects.filter(**filters).order_by("id"))


def _send(tenant: Tenant, conversation_id: int, text: str) -> dict[str, Any]:
    client = Client()
    client.force_login(tenant.agent, backend="django.contrib.auth.backends.ModelBackend")
    response = client.post(
        f"/api/v1/conversations/{conversation_id}/messages",
        {"type": "text", "text": text},
        content_type="application/json",
    )
    assert response.status_code == 201, response.content
    return dict(response.json())


def test_customer_writes_agent_answers(sim: SimulatorHandle, live_server: Any) -> None:
    tenant = make_tenant("Alpha")
    channel = _connect(tenant, sim, live_server.url)
    worker = _worker(sim)
    try:
        # Meta delivers at least once: three deliveries, one message.
        sim.control.inbound(
            channel.phone_number_id, CUSTOMER, text="Where is my order?", name="Ann", deliveries=3
        )
        wait_for(
            lambda: len(_messages(tenant, direction="in")) == 1,
            timeout=30,
            what="the inbound message",
        )
        assert sim.control.wait_idle(10)
        wait_for(lambda: _processed_all(tenant), timeout=30, what="all deliveries processed")
        [inbound] = _messages(tenant, direction="in")
        assert inbound.text == "Where is my order?"
        with workspace_context(tenant.workspace.pk):
            contact = Contact.objects.get()
            conversation = Conversation.objects.get()
        assert (contact.profile_name, contact.phone_e164) == ("Ann", f"+{CUSTOMER}")

        sent = _send(tenant, conversation.pk, "It ships today!")
        wait_for(
            lambda: _messages(tenant, pk=sent["id"])[0].status in ("delivered", "read"),
            timeout=30,
            what="delivery of the reply",
        )
        phone = sim.control.messages(channel.phone_number_id, to=CUSTOMER)
        assert [m["text"] for m in phone] == ["It ships today!"]
    finally:
        sim.control.wait_idle(10)
        stop(worker)


def _customer_says_hi(tenant: Tenant, sim: SimulatorHandle, channel: Channel) -> int:
    """The customer writes first (opening the 24-hour window); returns the conversation."""
    sim.control.inbound(channel.phone_number_id, CUSTOMER, text="hi", name="Ann")
    wait_for(
        lambda: len(_messages(tenant, direction="in")) == 1, timeout=30, what="the inbound message"
    )
    return _messages(tenant, direction="in")[0].conversation_id


def _processed_all(tenant: Tenant) -> bool:
    from parley.whatsapp.models import WebhookEvent

    with workspace_context(tenant.workspace.pk):
        return not WebhookEvent.objects.filter(state="received").exists()


def test_500s_and_429s_are_retried_and_delivered_once(
    sim: SimulatorHandle, live_server: Any
) -> None:
    tenant = make_tenant("Alpha")
    channel = _connect(tenant, sim, live_server.url)
    worker = _worker(sim)
    try:
        conversation_id = _customer_says_hi(tenant, sim, channel)
        sim.control.set_faults(http_status=500, count=2, match="/messages")
        first = _send(tenant, conversation_id, "after two 500s")
        wait_for(
            lambda: _messages(tenant, pk=first["id"])[0].status in ("sent", "delivered", "read"),
            timeout=40,
            what="the first reply",
        )
        sim.control.set_faults(http_status=429, count=2, code=130429, match="/messages")
        second = _send(tenant, conversation_id, "after two 429s")
        wait_for(
            lambda: _messages(tenant, pk=second["id"])[0].status in ("sent", "delivered", "read"),
            timeout=40,
            what="the second reply",
        )
        bodies = [m["text"] for m in sim.control.messages(channel.phone_number_id, to=CUSTOMER)]
        assert bodies == ["after two 500s", "after two 429s"]
        assert _messages(tenant, pk=first["id"])[0].attempts == 3
    finally:
        sim.control.wait_idle(10)
        stop(worker)


def test_permanent_errors_fail_with_a_reason(sim: SimulatorHandle, live_server: Any) -> None:
    tenant = make_tenant("Alpha")
    channel = _connect(tenant, sim, live_server.url)
    worker = _worker(sim)
    try:
        conversation_id = _customer_says_hi(tenant, sim, channel)
        client = Client()
        client.force_login(tenant.agent, backend="django.contrib.auth.backends.ModelBackend")
        response = client.post(
            f"/api/v1/conversations/{conversation_id}/messages",
            {"type": "template", "template_name": "no_such_template"},
            content_type="application/json",
        )
        message_id = response.json()["id"]
        wait_for(
            lambda: _messages(tenant, pk=message_id)[0].status == "failed",
            timeout=30,
            what="the failure",
        )
        failed = _messages(tenant, pk=message_id)[0]
        assert failed.error_code == 132001
        assert "not approved" in failed.error_reason
    finally:
        sim.control.wait_idle(10)
        stop(worker)


def test_a_worker_killed_mid_send_does_not_duplicate(
    sim: SimulatorHandle, live_server: Any
) -> None:
    tenant = make_tenant("Alpha")
    channel = _connect(tenant, sim, live_server.url)
    worker = _worker(sim)
    try:
        conversation_id = _customer_says_hi(tenant, sim, channel)
        # Meta answers slowly: the worker dies after the request reached it.
        sim.control.set_faults(latency_ms=4000)
        sent = _send(tenant, conversation_id, "only once please")
        wait_for(
            lambda: _messages(tenant, pk=sent["id"])[0].status == "sending",
            timeout=30,
            what="the send",
        )
        worker.send_signal(signal.SIGKILL)
        worker.wait(timeout=10)
        sim.control.set_faults(latency_ms=0)
        worker = _worker(sim)
        from tests.workers import manage

        wait_for(
            lambda: (
                "Requeued" in manage("retry_stalled_jobs")
                and _messages(tenant, pk=sent["id"])[0].status in ("sent", "delivered", "read")
            ),
            timeout=60,
            what="recovery after the crash",
        )
        bodies = [m["text"] for m in sim.control.messages(channel.phone_number_id, to=CUSTOMER)]
        assert bodies == ["only once please"]
    finally:
        sim.control.wait_idle(10)
        stop(worker)


def test_media_both_ways(sim: SimulatorHandle, live_server: Any) -> None:
    tenant = make_tenant("Alpha")
    channel = _connect(tenant, sim, live_server.url)
    worker = _worker(sim)
    try:
        sim.control.inbound(
            channel.phone_number_id,
            CUSTOMER,
            type="image",
            name="Ann",
            image={"caption": "the broken part"},
        )
        wait_for(lambda: bool(_stored(tenant)), timeout=30, what="the customer's image in storage")
        inbound = _messages(tenant, direction="in")[0]
        client = Client()
        client.force_login(tenant.agent, backend="django.contrib.auth.backends.ModelBackend")
        page = client.get(f"/w/{tenant.workspace.slug}/media/{inbound.pk}")
        assert page.status_code == 200 and page["Content-Type"].startswith("image/")
        outsider = make_tenant("Bravo")
        other = Client()
        other.force_login(outsider.owner, backend="django.contrib.auth.backends.ModelBackend")
        assert other.get(f"/w/{tenant.workspace.slug}/media/{inbound.pk}").status_code == 404

        from django.core.files.uploadedfile import SimpleUploadedFile

        sent = client.post(
            f"/api/v1/conversations/{inbound.conversation_id}/files",
            {
                "file": SimpleUploadedFile(
                    "manual.pdf", b"%PDF-1.4 manual", content_type="application/pdf"
                ),
                "caption": "Here is the manual",
            },
        )
        assert sent.status_code == 201, sent.content
        message_id = sent.json()["id"]
        wait_for(
            lambda: _messages(tenant, pk=message_id)[0].status in ("sent", "delivered", "read"),
            timeout=30,
            what="the document to be sent",
        )
        [doc] = [
            m
            for m in sim.control.messages(channel.phone_number_id, to=CUSTOMER)
            if m["type"] == "document"
        ]
        assert doc["content"]["filename"] == "manual.pdf" and doc["content"]["id"]
    finally:
        sim.control.wait_idle(10)
        stop(worker)


def _stored(tenant: Tenant) -> bool:
    return any(m.payload.get("stored_path") for m in _messages(tenant, direction="in"))
