"""parley.core.domain_events, and what the hot call site (ingest) pays for it."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from typing import Any

import pytest
from django.test import Client

from parley.core import domain_events
from parley.core.tenant import workspace_context
from parley.crm.models import Tag
from parley.drips import triggers
from parley.drips.tests.helpers import contact, make_sequence, queued_drip_jobs
from parley.inbox.tasks import process_webhook
from parley.whatsapp.models import WebhookEvent
from parley.whatsapp.samples import envelope
from parley.whatsapp.signatures import sign
from tests.factories import Tenant, make_channel

pytestmark = pytest.mark.django_db


@pytest.fixture
def heard() -> Iterator[list[tuple[int, str, dict[str, Any]]]]:
    calls: list[tuple[int, str, dict[str, Any]]] = []

    def listen(event: str) -> domain_events.Handler:
        def handler(workspace_id: int, data: Mapping[str, Any]) -> None:
            calls.append((workspace_id, event, dict(data)))

        return handler

    handlers = {e: listen(e) for e in domain_events.EVENTS}
    for event, handler in handlers.items():
        domain_events.subscribe(event, handler)
    yield calls
    for event, handler in handlers.items():
        domain_events.unsubscribe(event, handler)


def test_a_failing_handler_does_not_undo_the_callers_change(
    tenant_a: Tenant, heard: list[Any]
) -> None:
    def good(workspace_id: int, data: Mapping[str, Any]) -> None:
        Tag.objects.create(workspace_id=workspace_id, name="from the good handler")

    def broken(workspace_id: int, data: Mapping[str, Any]) -> None:
        Tag.objects.create(workspace_id=workspace_id, name="from the broken handler")
        raise RuntimeError("bug in a subscriber")

    domain_events.subscribe(domain_events.CONTACT_CREATED, good)
    domain_events.subscribe(domain_events.CONTACT_CREATED, broken)
    try:
        with workspace_context(tenant_a.workspace.pk):
            Tag.objects.create(workspace=tenant_a.workspace, name="caller's")
            domain_events.emit(
                tenant_a.workspace.pk, domain_events.CONTACT_CREATED, contact_ids=[1]
            )
            # The broken handler's writes rolled back; the caller's and the
            # good handler's stand, once (its first run went with the shared
            # savepoint, then it ran again on its own).
            assert sorted(Tag.objects.values_list("name", flat=True)) == [
                "caller's",
                "from the good handler",
            ]
    finally:
        domain_events.unsubscribe(domain_events.CONTACT_CREATED, broken)
        domain_events.unsubscribe(domain_events.CONTACT_CREATED, good)
    # The recording handler keeps no database rows, so it heard it on both passes.
    assert set(map(repr, heard)) == {
        repr((tenant_a.workspace.pk, "contact.created", {"contact_ids": [1]}))
    }
    with pytest.raises(ValueError, match="unknown domain event"):
        domain_events.subscribe("contact.frobbed", broken)


def test_ingest_emits_once_per_batch(tenant_a: Tenant, heard: list[Any]) -> None:
    channel = make_channel(tenant_a)
    now = int(time.time())
    messages = [
        {
            "from": f"1555000900{i}",
            "id": f"wamid.batch{i}",
            "timestamp": str(now),
            "type": "text",
            "text": {"body": f"hello {i}"},
        }
        for i in range(3)
    ]
    body = envelope(
        channel.phone_number_id,
        {
            "contacts": [
                {"profile": {"name": f"C{i}"}, "wa_id": f"1555000900{i}"} for i in range(3)
            ],
            "messages": messages,
        },
    )
    Client().post(
        f"/webhooks/whatsapp/{channel.webhook_key}",
        body,
        content_type="application/json",
        headers={"X-Hub-Signature-256": sign(body, "app-secret-123")},
    )
    with workspace_context(tenant_a.workspace.pk):
        event_id = WebhookEvent.objects.get().pk
    process_webhook.func(workspace_id=tenant_a.workspace.pk, event_id=event_id)
    kinds = [
        (event, len(data.get("messages") or data.get("contact_ids") or data["conversation_ids"]))
        for _w, event, data in heard
    ]
    assert kinds == [("contact.created", 3), ("message.received", 3), ("conversation.opened", 3)]
    received = heard[1][2]["messages"]
    assert {m.text for m in received} == {"hello 0", "hello 1", "hello 2"}


def test_the_message_handler_costs_two_queries_and_no_job_when_nothing_cares(
    tenant_a: Tenant, django_assert_num_queries: Any
) -> None:
    ann = contact(tenant_a, "15550009101")
    make_sequence(tenant_a, trigger="manual")  # ends on a reply, but Ann is not in it
    batch = [
        domain_events.ReceivedMessage(
            message_id=i, contact_id=ann.pk, conversation_id=1, text="hi", received_at=_now()
        )
        for i in range(200)
    ]
    with workspace_context(tenant_a.workspace.pk):
        triggers.on_message_received(tenant_a.workspace.pk, {"messages": batch})  # warms
        # The interest version, and whether Ann is in a sequence ending on replies.
        with django_assert_num_queries(2):
            triggers.on_message_received(tenant_a.workspace.pk, {"messages": batch})
    assert queued_drip_jobs() == 0


def _now() -> Any:
    from django.utils import timezone

    return timezone.now()
