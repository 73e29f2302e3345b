"""A channel connected to the simulator, contacts, an approved template, and
planned items: what every dispatcher test starts from."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Consent, Contact
from parley.outbox import actions
from parley.outbox.models import OutboundItem
from parley.whatsapp.models import Channel, MessageTemplate
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_channel

BODY = "Hello {{1}}, your code is {{2}}."


def connect(
    tenant: Tenant, sim: SimulatorHandle, webhook_url: str = "", *, cap: int = 80, **number: Any
) -> Channel:
    from parley.core.crypto import decrypt

    channel: Channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        Channel.objects.filter(pk=channel.pk).update(
            throughput_cap=cap, messaging_limit_tier="TIER_UNLIMITED"
        )
        channel.refresh_from_db()
        token = decrypt(channel.access_token_enc)
    sim.control.register_number(
        channel.phone_number_id,
        access_token=token,
        app_secret="app-secret-123",
        webhook_url=webhook_url or "http://127.0.0.1:9/unused",
        waba_id=channel.waba_id,
        display_phone_number=channel.display_phone_number,
        throughput_per_second=cap,
        **({} if webhook_url else {"statuses_enabled": False}),
        **number,
    )
    return channel


def approved_template(tenant: Tenant, sim: SimulatorHandle, channel: Channel) -> MessageTemplate:
    components = [
        {"type": "BODY", "text": BODY, "example": {"body_text": [["Ann", "X1"]]}},
    ]
    sim.control.seed_template(
        channel.waba_id, "promo", "en_US", components=components, category="MARKETING"
    )
    with workspace_context(tenant.workspace.pk):
        template: MessageTemplate = MessageTemplate.objects.create(
            workspace=tenant.workspace,
            channel=channel,
            name="promo",
            language="en_US",
            category="MARKETING",
            status="APPROVED",
            components=components,
        )
    return template


MAPPING = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "column", "column": "code", "fallback": "NONE"},
}


def contacts(tenant: Tenant, count: int, *, prefix: str = "1555100", **fields: Any) -> list[int]:
    with workspace_context(tenant.workspace.pk):
        made = Contact.objects.bulk_create(
            [
                Contact(
                    workspace=tenant.workspace,
                    wa_id=f"{prefix}{n:04d}",
                    phone_e164=f"+{prefix}{n:04d}",
                    name=f"Customer {n}",
                    consent=Consent.OPTED_IN,
                    **fields,
                )
                for n in range(count)
            ]
        )
    return [c.pk for c in made]


def plan(
    tenant: Tenant,
    channel: Channel,
    contact_ids: list[int],
    *,
    template: MessageTemplate | None = None,
    text: str = "",
    fallback: MessageTemplate | None = None,
    source: str = "broadcast",
    source_id: int = 1,
    in_seconds: float = 0,
) -> int:
    with workspace_context(tenant.workspace.pk):
        content = actions.create_content(
            workspace_id=tenant.workspace.pk,
            template_id=template.pk if template else None,
            mapping=MAPPING if template else {},
            text=text,
            fallback_template_id=fallback.pk if fallback else None,
            fallback_mapping=MAPPING if fallback else {},
        )
        actions.plan(
            workspace_id=tenant.workspace.pk,
            channel_id=channel.pk,
            content_id=content.pk,
            source=source,
            source_id=source_id,
            recipients=[(c, {"code": f"C{c}"}) for c in contact_ids],
            not_before=timezone.now() + timedelta(seconds=in_seconds),
        )
    return content.pk


def items(tenant: Tenant, **filters: Any) -> list[OutboundItem]:
    with workspace_context(tenant.workspace.pk):
        return list(OutboundItem.objects.filter(**filters).order_by("id"))


def states(tenant: Tenant) -> dict[str, int]:
    out: dict[str, int] = {}
    for item in items(tenant):
        out[item.state] = out.get(item.state, 0) + 1
    return out
