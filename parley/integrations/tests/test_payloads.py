"""What each event type's delivery carries, from the real emitters (the crm,
deals and inbox actions) through the fan-out job."""

from __future__ import annotations

import pytest

from parley.core.tenant import workspace_context
from parley.crm import actions as crm
from parley.crm.models import Contact
from parley.integrations import payloads
from parley.integrations.catalogue import EVENT_TYPES, EXAMPLES
from parley.integrations.tests.helpers import deliveries, make_endpoint, run_fan_outs
from tests.factories import Tenant, actor_for, seed_deal_and_task, seed_inbox

pytestmark = pytest.mark.django_db


def test_every_event_type_is_documented_and_rendered() -> None:
    assert set(EVENT_TYPES) <= set(EXAMPLES)
    assert set(EVENT_TYPES) == set(payloads.RENDERERS)


def test_tagging_and_creating_contacts_through_the_crm(tenant_a: Tenant) -> None:
    make_endpoint(tenant_a, "http://127.0.0.1:9/x", ["contact.created", "contact.tag_changed"])
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        contact = crm.do_create_contact(actor=actor, phone="+5511987650001", name="Bia Lima")
        tag = crm.do_ensure_tag(actor=actor, name="vip")
        crm.do_tag_contacts(actor=actor, tag=tag, contact_ids=[contact.pk], add=True)
        crm.do_tag_contacts(actor=actor, tag=tag, contact_ids=[contact.pk], add=False)
    assert run_fan_outs() == 3
    created, added, removed = (d.payload for d in deliveries(tenant_a))
    assert created["type"] == "contact.created"
    assert created["data"]["contact"]["name"] == "Bia Lima"
    assert created["data"]["contact"]["phone"] == "+5511987650001"
    assert added["type"] == removed["type"] == "contact.tag_changed"
    assert added["data"]["tag"] == {"id": tag.pk, "name": "vip"}
    assert (added["data"]["action"], removed["data"]["action"]) == ("added", "removed")


def test_deals_conversations_and_statuses(tenant_a: Tenant) -> None:
    seeded = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.get(pk=int(seeded["contact_id"]))
    ws = tenant_a.workspace.pk
    conversation = int(seeded["conversation_id"])
    with workspace_context(ws):
        assigned = payloads.render(
            ws, "conversation.assigned", {"conversation_ids": [conversation], "user_id": 5}
        )
        statuses = payloads.render(
            ws,
            "message.status_changed",
            {"statuses": [[int(seeded["message_id"]), conversation, "read", None]]},
        )
        broadcast = payloads.render(ws, "broadcast.finished", {"broadcast_id": 999_999})
        failed = payloads.render(
            ws, "workflow.failed", {"workflow_id": 1, "execution_id": 2, "error": "boom"}
        )
    assert assigned[0]["conversation"]["id"] == conversation
    assert assigned[0]["assigned_to"] == {"user_id": 5, "team_id": None}
    assert assigned[0]["contact"]["name"] == contact.name
    assert statuses[0]["message"]["status"] == "read"
    assert statuses[0]["contact"]["id"] == contact.pk
    assert broadcast == []  # deleted since: nothing to tell
    assert failed == [{"workflow_id": 1, "execution_id": 2, "error": "boom"}]

    make_endpoint(tenant_a, "http://127.0.0.1:9/x", ["deal.changed"])
    seed_deal_and_task(tenant_a, seeded["contact_id"])
    run_fan_outs()
    [deal] = [d.payload for d in deliveries(tenant_a) if d.event_type == "deal.changed"]
    assert deal["data"]["deal"]["title"] == "Annual plan"
    assert deal["data"]["deal"]["value"] == "1200.00"
    assert deal["data"]["created"] is True
    assert deal["data"]["deal"]["contact_id"] == contact.pk
