"""Where each domain event comes from: the inbox (ingest, statuses, assign,
status changes), the CRM (edits, attributes) and deals tell their
subscribers, once per change and only when something changed."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.test import Client

from parley.core import domain_events
from parley.core.tenant import workspace_context
from parley.crm.actions import do_set_attributes, do_update_contact
from parley.crm.models import AttributeDefinition, Contact
from parley.deals.actions import do_create_deal, do_mark_won
from parley.inbox.actions import do_assign, do_change_status
from parley.inbox.models import Conversation, Message
from parley.inbox.tasks import process_webhook
from parley.whatsapp.models import Channel, WebhookEvent
from parley.whatsapp.samples import envelope, status_webhook
from parley.whatsapp.signatures import sign
from tests.factories import Tenant, actor_for, make_channel, seed_inbox

pytestmark = pytest.mark.django_db

Heard = list[tuple[str, dict[str, Any]]]


@pytest.fixture
def heard() -> Iterator[Heard]:
    calls: Heard = []

    def listen(event: str) -> domain_events.Handler:
        def handler(workspace_id: int, data: Mapping[str, Any]) -> None:
            calls.append((event, dict(data)))

        return handler

    handlers = {e: listen(e) for e in domain_events.EVENTS}
    for event, handler in handlers.items():
        domain_events.subscribe(event, handler)
    yield calls
    for event, handler in handlers.items():
        domain_events.unsubscribe(event, handler)


def _deliver(tenant: Tenant, channel: Channel, body: bytes) -> None:
    Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(body, "app-secret-123")},
    )
    with workspace_context(tenant.workspace.pk):
        event_id = WebhookEvent.objects.order_by("-pk").values_list("pk", flat=True)[0]
    process_webhook.func(workspace_id=tenant.workspace.pk, event_id=event_id)


def _inbound(channel: Channel, wa_id: str, messages: list[dict[str, Any]]) -> bytes:
    now = int(time.time())
    for m in messages:
        m.setdefault("from", wa_id)
        m.setdefault("timestamp", str(now))
    return envelope(
        channel.phone_number_id,
        {"contacts": [{"profile": {"name": "Bo"}, "wa_id": wa_id}], "messages": messages},
    )


def test_ingest_marks_the_first_message_and_carries_button_replies(
    tenant_a: Tenant, heard: Heard
) -> None:
    channel = make_channel(tenant_a)
    first = [
        {"id": "wamid.e1", "type": "text", "text": {"body": "hello"}},
        {
            "id": "wamid.e2",
            "type": "interactive",
            "interactive": {
                "type": "button_reply",
                "button_reply": {"id": "yes-please", "title": "Yes"},
            },
        },
    ]
    _deliver(tenant_a, channel, _inbound(channel, "15550007001", first))
    received = next(d for e, d in heard if e == domain_events.MESSAGE_RECEIVED)["messages"]
    by_text = {m.text: m for m in received}
    assert by_text["hello"].first and not by_text["Yes"].first
    assert by_text["Yes"].reply_id == "yes-please" and by_text["Yes"].type == "interactive"
    assert by_text["hello"].channel_id == channel.pk
    opened = [d for e, d in heard if e == domain_events.CONVERSATION_OPENED]
    assert len(opened) == 1 and len(opened[0]["conversation_ids"]) == 1

    heard.clear()
    later = [{"id": "wamid.e3", "type": "text", "text": {"body": "again"}}]
    _deliver(tenant_a, channel, _inbound(channel, "15550007001", later))
    received = next(d for e, d in heard if e == domain_events.MESSAGE_RECEIVED)["messages"]
    assert [m.first for m in received] == [False]
    # Still open: nothing opened again.
    assert not [e for e, _d in heard if e == domain_events.CONVERSATION_OPENED]


def test_assign_and_status_changes_are_told_once(tenant_a: Tenant, heard: Heard) -> None:
    seeded = seed_inbox(tenant_a)
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        conversation = Conversation.objects.get(pk=int(seeded["conversation_id"]))
        do_assign(actor=actor, conversation=conversation, user_id=tenant_a.agent.pk)
        do_assign(actor=actor, conversation=conversation, user_id=tenant_a.agent.pk)
        do_change_status(actor=actor, conversation=conversation, status="resolved")
        do_change_status(actor=actor, conversation=conversation, status="resolved")
        do_change_status(actor=actor, conversation=conversation, status="open")
    assert [e for e, _d in heard] == [
        domain_events.CONVERSATION_ASSIGNED,
        domain_events.CONVERSATION_RESOLVED,
        domain_events.CONVERSATION_OPENED,
    ]
    assert heard[0][1]["user_id"] == tenant_a.agent.pk
    assert heard[1][1]["conversation_ids"] == [conversation.pk]


def test_a_customer_writing_to_a_resolved_conversation_reopens_it(
    tenant_a: Tenant, heard: Heard
) -> None:
    seeded = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        Conversation.objects.filter(pk=int(seeded["conversation_id"])).update(status="resolved")
        channel = Channel.objects.get(pk=int(seeded["channel_id"]))
    message = [{"id": "wamid.back", "type": "text", "text": {"body": "me again"}}]
    _deliver(tenant_a, channel, _inbound(channel, "15550001111", message))
    opened = [d for e, d in heard if e == domain_events.CONVERSATION_OPENED]
    assert opened == [{"conversation_ids": [int(seeded["conversation_id"])]}]


def test_statuses_from_meta_are_told_in_one_batch(tenant_a: Tenant, heard: Heard) -> None:
    seeded = seed_inbox(tenant_a)
    with workspace_context(tenant_a.workspace.pk):
        channel = Channel.objects.get(pk=int(seeded["channel_id"]))
        sent = Message.objects.create(
            workspace=tenant_a.workspace,
            conversation_id=int(seeded["conversation_id"]),
            direction="out",
            wamid="wamid.out1",
            text="hello",
            status="sent",
        )
    now = int(time.time())
    _deliver(
        tenant_a,
        channel,
        status_webhook(channel.phone_number_id, wamid="wamid.out1", status="delivered", at=now),
    )
    # The same status again moves nothing, so tells nothing.
    _deliver(
        tenant_a,
        channel,
        status_webhook(channel.phone_number_id, wamid="wamid.out1", status="delivered", at=now),
    )
    changes = [d["statuses"] for e, d in heard if e == domain_events.MESSAGE_STATUS_CHANGED]
    assert len(changes) == 1
    assert [(c.message_id, c.status) for c in changes[0]] == [(sent.pk, "delivered")]


def test_contact_edits_and_attributes_name_the_changed_fields(
    tenant_a: Tenant, heard: Heard
) -> None:
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        contact = Contact.objects.create(workspace=tenant_a.workspace, wa_id="15550007002")
        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="plan", label="Plan", type="text"
        )
        do_update_contact(actor=actor, contact=contact, name="Cy", email="cy@example.com")
        do_update_contact(actor=actor, contact=contact, name="Cy")  # no change
        do_set_attributes(actor=actor, contact=contact, values={"plan": "gold"})
    updates = [d for e, d in heard if e == domain_events.CONTACT_UPDATED]
    assert updates == [
        {"contact_ids": [contact.pk], "fields": ["name", "email"]},
        {"contact_ids": [contact.pk], "fields": ["attributes.plan"]},
    ]


def test_deal_changes_are_told(tenant_a: Tenant, heard: Heard) -> None:
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with workspace_context(tenant_a.workspace.pk):
        deal = do_create_deal(actor=actor, title="Big one")
        do_mark_won(actor=actor, deal=deal)
    deals = [d for e, d in heard if e == domain_events.DEAL_CHANGED]
    assert deals == [
        {"deal_ids": [deal.pk], "created": True},
        {"deal_ids": [deal.pk], "created": False},
    ]


def test_a_batch_tells_its_events_at_its_end_with_their_own_events_after(
    tenant_a: Tenant, heard: Heard
) -> None:
    order: list[str] = []

    def tagger(workspace_id: int, data: Mapping[str, Any]) -> None:
        order.append("created")
        domain_events.emit(workspace_id, domain_events.CONTACT_TAGGED, contact_ids=[1], tag_id=9)

    def tagged(workspace_id: int, data: Mapping[str, Any]) -> None:
        order.append("tagged")

    domain_events.subscribe(domain_events.CONTACT_CREATED, tagger)
    domain_events.subscribe(domain_events.CONTACT_TAGGED, tagged)
    try:
        with workspace_context(tenant_a.workspace.pk), domain_events.batched():
            domain_events.emit(
                tenant_a.workspace.pk, domain_events.CONTACT_CREATED, contact_ids=[1]
            )
            assert order == []  # not yet: at the end of the batch
        assert order == ["created", "tagged"]
    finally:
        domain_events.unsubscribe(domain_events.CONTACT_CREATED, tagger)
        domain_events.unsubscribe(domain_events.CONTACT_TAGGED, tagged)
    assert [e for e, _d in heard] == [domain_events.CONTACT_CREATED, domain_events.CONTACT_TAGGED]


def test_a_failing_subscriber_costs_the_batch_a_redo_not_its_messages(
    tenant_a: Tenant, heard: Heard
) -> None:
    """Ingest tells its subscribers without a savepoint; one failing rolls the
    batch back and it is redone with each subscriber set apart: the message is
    stored once, a sound subscriber's work commits, the failing one's does not."""
    from parley.crm.models import Tag

    channel = make_channel(tenant_a)
    calls: list[str] = []

    def sound(workspace_id: int, data: Mapping[str, Any]) -> None:
        calls.append("sound")
        Tag.objects.get_or_create(workspace_id=workspace_id, name="sound")

    def broken(workspace_id: int, data: Mapping[str, Any]) -> None:
        calls.append("broken")
        Tag.objects.create(workspace_id=workspace_id, name="half-done")
        raise RuntimeError("a subscriber's bug")

    domain_events.subscribe(domain_events.MESSAGE_RECEIVED, sound)
    domain_events.subscribe(domain_events.MESSAGE_RECEIVED, broken)
    try:
        body = _inbound(
            channel, "15550007009", [{"id": "wamid.f1", "type": "text", "text": {"body": "hi"}}]
        )
        _deliver(tenant_a, channel, body)
    finally:
        domain_events.unsubscribe(domain_events.MESSAGE_RECEIVED, sound)
        domain_events.unsubscribe(domain_events.MESSAGE_RECEIVED, broken)
    # Without a savepoint, then with one (both fail), then one by one.
    assert calls == ["sound", "broken"] * 3
    with workspace_context(tenant_a.workspace.pk):
        assert list(Message.objects.values_list("text", flat=True)) == ["hi"]
        assert set(Tag.objects.values_list("name", flat=True)) == {"sound"}
        assert WebhookEvent.objects.get().state == WebhookEvent.State.PROCESSED
    received = [e for e, _d in heard if e == domain_events.MESSAGE_RECEIVED]
    assert len(received) == 3
