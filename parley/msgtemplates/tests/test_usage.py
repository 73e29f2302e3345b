"""The usage log: counters upserted per template and sender."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.msgtemplates import usage
from parley.msgtemplates.models import TemplateUsage
from parley.whatsapp.models import MessageTemplate
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


def _template(tenant: Tenant) -> MessageTemplate:
    channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        return MessageTemplate.objects.create(
            workspace=tenant.workspace,
            channel=channel,
            name="promo",
            language="en_US",
            status="APPROVED",
            components=[{"type": "BODY", "text": "Sale"}],
        )


def test_record_adds_up_per_source(tenant_a: Tenant) -> None:
    template = _template(tenant_a)
    ws = tenant_a.workspace.pk
    earlier = timezone.now() - timedelta(hours=1)
    with workspace_context(ws), transaction.atomic():
        usage.record(workspace_id=ws, template_id=template.pk, source="broadcast", source_id=7)
        usage.record(
            workspace_id=ws, template_id=template.pk, source="broadcast", source_id=7, count=4
        )
        usage.record(
            workspace_id=ws,
            template_id=template.pk,
            source="agent",
            source_id=tenant_a.agent.pk,
            at=earlier,
        )
        usage.record_many(
            workspace_id=ws,
            rows=[
                (template.pk, "drip", 3, 2),
                (template.pk, "drip", 3, 3),
                (template.pk, "broadcast", 7, 1),
            ],
        )
        rows = {(u.source, u.source_id): u for u in usage.usage_of(ws, template.pk)}
        totals = usage.totals(ws, [template.pk])
    assert {k: u.count for k, u in rows.items()} == {
        ("broadcast", 7): 6,
        ("drip", 3): 5,
        ("agent", tenant_a.agent.pk): 1,
    }
    assert rows[("agent", tenant_a.agent.pk)].last_used_at == earlier
    assert totals[template.pk].count == 12
    with workspace_context(ws):
        assert TemplateUsage.objects.count() == 3


def test_an_agent_sending_a_template_from_the_inbox_is_logged(tenant_a: Tenant, login: Any) -> None:
    from tests.factories import seed_inbox

    seeded = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        template = MessageTemplate.objects.create(
            workspace=tenant_a.workspace,
            channel_id=int(seeded["channel_id"]),
            name="order_update",
            language="en_US",
            status="APPROVED",
            components=[{"type": "BODY", "text": "Hi {{1}}"}],
        )
    agent = login(tenant_a.agent)
    url = f"/api/v1/conversations/{seeded['conversation_id']}/messages"
    for name in ("order_update", "order_update", "not_synced"):
        sent = agent.post(
            url,
            {"type": "template", "template_name": name, "parameters": ["Ann"]},
            content_type="application/json",
        )
        assert sent.status_code == 201, sent.content
    with workspace_context(tenant_a.workspace.pk):
        [row] = usage.usage_of(tenant_a.workspace.pk, template.pk)
    assert (row.source, row.source_id, row.count) == ("agent", tenant_a.agent.pk, 2)
