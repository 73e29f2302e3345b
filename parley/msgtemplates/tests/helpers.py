"""Shared set-up for the template tests: a channel the simulator knows."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from parley.core.crypto import decrypt
from parley.core.tenant import workspace_context
from parley.whatsapp.models import Channel, MessageTemplate
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_channel

UNUSED_WEBHOOK = "http://127.0.0.1:9/unused"


def connect(tenant: Tenant, sim: SimulatorHandle, webhook_base: str | None = None) -> Channel:
    """A channel of ``tenant`` registered in the simulator; its webhooks go to
    ``webhook_base`` (a live server) or nowhere."""
    channel: Channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        token = decrypt(channel.access_token_enc)
    sim.control.register_number(
        channel.phone_number_id,
        access_token=token,
        app_secret="app-secret-123",
        webhook_url=(
            f"{webhook_base}/webhooks/whatsapp/{channel.webhook_key}"
            if webhook_base
            else UNUSED_WEBHOOK
        ),
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number,
    )
    return channel


def body(channel: Channel, **overrides: Any) -> dict[str, Any]:
    """A valid create-template request of the API."""
    return {
        "channel_id": channel.pk,
        "name": "order_update",
        "category": "UTILITY",
        "language": "en_US",
        "header": {"format": "TEXT", "text": "Order {{1}}", "example": "A-1042"},
        "body": "Hi {{1}}, your order {{2}} has shipped.",
        "footer": "Reply STOP to opt out",
        "buttons": [
            {
                "type": "URL",
                "text": "Track order",
                "url": "https://shop.example.test/track/{{1}}",
                "example": "A-1042",
            },
            {"type": "QUICK_REPLY", "text": "Talk to us"},
        ],
        "examples": {"1": "Ann", "2": "A-1042"},
        **overrides,
    }


def template_row(tenant: Tenant, template_id: int) -> MessageTemplate:
    with workspace_context(tenant.workspace.pk):
        return MessageTemplate.objects.get(pk=template_id)


def wait_until(check: Callable[[], bool], *, timeout: float = 15.0, what: str = "") -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")
