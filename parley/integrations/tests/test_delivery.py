"""Deliveries end to end against a real receiver on 127.0.0.1: signing,
retries through timeouts, 500s and dropped connections, permanent failures,
disabling after the window, the address guard at delivery time, and
secret rotation."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from typing import Any

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from parley.core import domain_events
from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.integrations import actions, sender, ssrf
from parley.integrations.models import Attempt, Delivery, Endpoint
from parley.integrations.signing import verify
from parley.integrations.tests.helpers import (
    deliver_round,
    deliveries,
    endpoint_now,
    make_endpoint,
    queued,
    run_fan_outs,
)
from parley.integrations.tests.receiver import CLOSE, ERROR, GONE, HANG, Receiver
from parley.notifications.models import Notification
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


def _contact(tenant: Tenant, wa_id: str = "5511987654321", name: str = "Ana Souza") -> Contact:
    with workspace_context(tenant.workspace.pk):
        return Contact.objects.create(
            workspace=tenant.workspace, wa_id=wa_id, phone_e164=f"+{wa_id}", name=name
        )


def _emit_contact_created(tenant: Tenant, contact: Contact) -> None:
    with workspace_context(tenant.workspace.pk):
        domain_events.emit(
            tenant.workspace.pk, domain_events.CONTACT_CREATED, contact_ids=[contact.pk]
        )


def _ping(tenant: Tenant, endpoint: Endpoint) -> Delivery:
    from parley.integrations import fanout

    with workspace_context(tenant.workspace.pk):
        return fanout.ping(workspace_id=tenant.workspace.pk, endpoint=endpoint)


def test_a_domain_event_reaches_the_receiver_signed(tenant_a: Tenant) -> None:
    with Receiver() as receiver:
        _endpoint, secret = make_endpoint(tenant_a, receiver.url, ["contact.created"])
        receiver.secrets = [secret, "whsec_not-the-secret"]
        contact = _contact(tenant_a)
        _emit_contact_created(tenant_a, contact)
        # The fan-out job sends what it created itself; nothing is left for a sender.
        assert run_fan_outs() == 1
        assert queued("integrations.send") == 0
        assert sender.deliver(tenant_a.workspace.pk) == 0

    [got] = receiver.received
    assert got.valid == {secret: True, "whsec_not-the-secret": False}
    [delivery] = deliveries(tenant_a)
    assert got.headers["X-Parley-Event"] == "contact.created"
    assert got.headers["X-Parley-Delivery"] == str(delivery.pk)
    assert got.headers["X-Parley-Event-Id"] == str(delivery.event_id)
    body = json.loads(got.body)
    assert body["type"] == "contact.created"
    assert body["id"] == str(delivery.event_id)
    assert body["data"]["contact"]["name"] == "Ana Souza"
    assert body["data"]["contact"]["phone"] == "+5511987654321"
    # Any change to the body breaks the signature.
    assert not verify(
        secret=secret,
        body=got.body.replace(b"Ana", b"Eve"),
        header=got.headers["X-Parley-Signature"],
    )
    assert delivery.status == "succeeded"
    assert delivery.attempts == 1 and delivery.last_status_code == 200
    assert delivery.last_body_excerpt == '{"ok":true}'
    with workspace_context(tenant_a.workspace.pk):
        [attempt] = Attempt.objects.filter(delivery=delivery)
        assert attempt.response_status == 200 and attempt.latency_ms is not None
        assert attempt.request_headers["X-Parley-Signature"] == got.headers["X-Parley-Signature"]
        assert json.loads(attempt.request_body) == body
        # The final outcome is in the execution log too.
        from parley.executions.models import Execution

        [run] = Execution.objects.filter(kind="webhook")
        assert (run.status, run.source_id, run.contact_id) == (
            "succeeded",
            delivery.endpoint_id,
            contact.pk,
        )
        assert run.trigger["delivery_id"] == delivery.pk


def test_fan_out_run_twice_creates_no_duplicates(tenant_a: Tenant) -> None:
    from parley.integrations.fanout import fan_out

    make_endpoint(tenant_a, "http://127.0.0.1:9/x", ["contact.created"])
    contact = _contact(tenant_a)
    args: dict[str, Any] = {
        "workspace_id": tenant_a.workspace.pk,
        "event_type": "contact.created",
        "key": "k1",
        "at": timezone.now(),
        "data": {"contact_ids": [contact.pk]},
    }
    with workspace_context(tenant_a.workspace.pk):
        first, held = fan_out(**args, hold_up_to=0)
        again, _held = fan_out(**args, hold_up_to=0)
    assert len(first) == 1 and not held and again == []
    assert len(deliveries(tenant_a)) == 1


@pytest.mark.parametrize("fault", [HANG, ERROR, CLOSE], ids=["timeout", "500", "closed"])
def test_a_fault_is_retried_then_succeeds(tenant_a: Tenant, fault: str) -> None:
    with Receiver(hang_seconds=1.5) as receiver:
        endpoint, secret = make_endpoint(tenant_a, receiver.url)
        receiver.secrets = [secret]
        receiver.script.extend([fault, fault])
        delivery = _ping(tenant_a, endpoint)
        assert sender.deliver(tenant_a.workspace.pk) == 1
        [after_one] = deliveries(tenant_a)
        assert after_one.status == "pending" and after_one.attempts == 1
        assert after_one.next_attempt_at > timezone.now() - timedelta(seconds=1)
        expected = {
            HANG: "Timed out",
            ERROR: "HTTP 500",
            CLOSE: "closed the connection",
        }[fault]
        assert expected in after_one.error
        assert endpoint_now(tenant_a, endpoint).consecutive_failures == 1
        deliver_round(tenant_a)
        deliver_round(tenant_a)

    [done] = deliveries(tenant_a)
    assert done.pk == delivery.pk
    assert done.status == "succeeded" and done.attempts == 3 and done.error == ""
    assert len(receiver.received) == 3
    assert all(r.valid[secret] for r in receiver.received)
    # The same event each time: receivers deduplicate on its id.
    assert len({r.headers["X-Parley-Event-Id"] for r in receiver.received}) == 1
    with workspace_context(tenant_a.workspace.pk):
        log = list(Attempt.objects.filter(delivery=done).order_by("number"))
    assert [a.will_retry for a in log] == [True, True, False]
    assert [a.response_status for a in log][-1] == 200
    fresh = endpoint_now(tenant_a, endpoint)
    assert fresh.failing_since is None and fresh.consecutive_failures == 0


def test_backoff_grows_with_jitter(settings: Any) -> None:
    from parley.integrations import retry

    settings.WEBHOOKS_RETRY_BASE_SECONDS = 10
    waits = [retry.backoff(n).total_seconds() for n in range(1, 8)]
    for n, wait in enumerate(waits, start=1):
        assert 5 * 2 ** (n - 1) <= wait < 15 * 2 ** (n - 1)
    assert retry.backoff(40).total_seconds() < 1.5 * retry.MAX_WAIT_SECONDS
    assert retry.classify(None) == retry.classify(503) == retry.classify(429) == retry.RETRY
    assert retry.classify(408) == retry.RETRY
    assert retry.classify(404) == retry.classify(301) == retry.FAIL
    assert retry.classify(204) == retry.SUCCESS


def test_a_4xx_fails_at_once(tenant_a: Tenant) -> None:
    with Receiver() as receiver:
        endpoint, _secret = make_endpoint(tenant_a, receiver.url)
        receiver.script.append(GONE)
        _ping(tenant_a, endpoint)
        sender.deliver(tenant_a.workspace.pk)
        assert deliver_round(tenant_a) == 0
    [delivery] = deliveries(tenant_a)
    assert delivery.status == "failed" and delivery.attempts == 1
    assert delivery.error == "HTTP 410 Gone"
    assert delivery.finished_at is not None


def test_retries_stop_after_the_window(tenant_a: Tenant, settings: Any) -> None:
    settings.WEBHOOKS_RETRY_WINDOW_SECONDS = 0
    with Receiver() as receiver:
        endpoint, _secret = make_endpoint(tenant_a, receiver.url)
        receiver.script.append(ERROR)
        _ping(tenant_a, endpoint)
        sender.deliver(tenant_a.workspace.pk)
    [delivery] = deliveries(tenant_a)
    assert delivery.status == "dead"
    assert delivery.error.startswith("Gave up after 1 attempts: HTTP 500")


def test_an_endpoint_failing_for_the_whole_window_is_disabled(
    tenant_a: Tenant, settings: Any
) -> None:
    import time

    settings.WEBHOOKS_DISABLE_AFTER_SECONDS = 0.5
    with Receiver() as receiver:
        endpoint, _secret = make_endpoint(tenant_a, receiver.url)
        receiver.script.extend([ERROR] * 100)
        _ping(tenant_a, endpoint)
        _ping(tenant_a, endpoint)
        rounds = 0
        while endpoint_now(tenant_a, endpoint).enabled and rounds < 30:
            deliver_round(tenant_a)
            rounds += 1
            time.sleep(0.1)
    fresh = endpoint_now(tenant_a, endpoint)
    assert not fresh.enabled, f"still enabled after {rounds} rounds"
    assert fresh.disabled_reason.startswith("Disabled automatically: every delivery failed")
    assert 3 <= rounds < 30
    assert {d.status for d in deliveries(tenant_a)} == {"dead"}
    with workspace_context(tenant_a.workspace.pk):
        told = set(
            Notification.objects.filter(title__startswith="Webhook endpoint disabled").values_list(
                "user_id", flat=True
            )
        )
    assert told == {tenant_a.owner.pk, tenant_a.admin.pk}
    # Enabling again (the admin fixed it) starts a fresh count; a retry then goes out.
    actor = actor_for(tenant_a.workspace, tenant_a.admin)
    with workspace_context(tenant_a.workspace.pk):
        again = actions.do_set_enabled(actor=actor, endpoint=fresh, enabled=True)
        assert again.failing_since is None and again.disabled_reason == ""


def test_a_private_address_is_refused_at_delivery_time(tenant_a: Tenant, settings: Any) -> None:
    with Receiver() as receiver:
        endpoint, _secret = make_endpoint(tenant_a, receiver.url)
        _ping(tenant_a, endpoint)
        # Saved while loopback was allowed; not any more.
        settings.WEBHOOKS_ALLOW_LOOPBACK = False
        sender.deliver(tenant_a.workspace.pk)
    assert receiver.received == []
    [delivery] = deliveries(tenant_a)
    assert delivery.status == "failed"
    assert delivery.error == (
        "Refused: 127.0.0.1 is a loopback address; webhooks only go to public internet addresses."
    )


def test_the_resolver_refuses_names_that_resolve_inside(settings: Any) -> None:
    """The guard aiohttp connects through, for names whose DNS changed after the save."""
    settings.WEBHOOKS_ALLOW_LOOPBACK = False

    async def resolve() -> Any:
        resolver = sender.GuardedResolver()
        try:
            return await resolver.resolve("localhost", 80)
        finally:
            await resolver.close()

    with pytest.raises(ssrf.RefusedAddress, match=r"localhost .* loopback"):
        asyncio.run(resolve())
    settings.WEBHOOKS_ALLOW_LOOPBACK = True
    assert asyncio.run(resolve())


def test_rotation_signs_with_both_secrets_during_the_overlap(tenant_a: Tenant) -> None:
    actor = actor_for(tenant_a.workspace, tenant_a.owner)
    with Receiver() as receiver:
        endpoint, old = make_endpoint(tenant_a, receiver.url)
        with workspace_context(tenant_a.workspace.pk):
            new = actions.do_rotate_secret(actor=actor, endpoint=endpoint, overlap_hours=1)
        receiver.secrets = [old, new]
        _ping(tenant_a, endpoint)
        sender.deliver(tenant_a.workspace.pk)
        # The overlap ends: only the new secret signs.
        with workspace_context(tenant_a.workspace.pk):
            Endpoint.objects.filter(pk=endpoint.pk).update(
                previous_secret_expires_at=timezone.now() - timedelta(seconds=1)
            )
        _ping(tenant_a, endpoint)
        sender.deliver(tenant_a.workspace.pk)
    during, after = receiver.received
    assert during.valid == {old: True, new: True}
    assert during.headers["X-Parley-Signature"].count("v1=") == 2
    assert after.valid == {old: False, new: True}
    assert after.headers["X-Parley-Signature"].count("v1=") == 1
    assert old != new


def test_a_manual_retry_sends_a_failed_delivery_again(tenant_a: Tenant) -> None:
    with Receiver() as receiver:
        endpoint, _secret = make_endpoint(tenant_a, receiver.url)
        receiver.script.append(GONE)
        _ping(tenant_a, endpoint)
        sender.deliver(tenant_a.workspace.pk)
        [failed] = deliveries(tenant_a)
        assert failed.status == "failed"
        with workspace_context(tenant_a.workspace.pk):
            actions.do_retry_delivery(
                actor=actor_for(tenant_a.workspace, tenant_a.admin), delivery=failed
            )
        assert queued("integrations.send") == 1
        sender.deliver(tenant_a.workspace.pk)
    [done] = deliveries(tenant_a)
    assert done.status == "succeeded" and done.attempts == 2


def test_the_domain_event_handler_costs_one_query_without_subscribers(tenant_a: Tenant) -> None:
    message = domain_events.ReceivedMessage(
        message_id=1, contact_id=1, conversation_id=1, text="hi", received_at=timezone.now()
    )
    # An endpoint exists, but for another event.
    make_endpoint(tenant_a, "http://127.0.0.1:9/x", ["contact.created"])
    with workspace_context(tenant_a.workspace.pk):
        from parley.integrations.subscriptions import _HANDLERS

        handler = _HANDLERS[domain_events.MESSAGE_RECEIVED]
        handler(tenant_a.workspace.pk, {"messages": [message]})  # loads the summary once
        with CaptureQueriesContext(connection) as queries:
            handler(tenant_a.workspace.pk, {"messages": [message]})
        # Only the workspace's interest version (shared by every handler of an event).
        assert len(queries.captured_queries) == 1, [q["sql"] for q in queries.captured_queries]
        assert "core_interestversion" in queries.captured_queries[0]["sql"]
        assert queued("integrations.fan_out") == 0
        # A new endpoint moves the version: the next event sees it.
        make_endpoint(tenant_a, "http://127.0.0.1:9/y", ["message.received"])
        handler(tenant_a.workspace.pk, {"messages": [message] * 50})
        assert queued("integrations.fan_out") == 1
        with CaptureQueriesContext(connection) as queries:
            handler(tenant_a.workspace.pk, {"messages": [message] * 50})
        # The version and the job row.
        assert len(queries.captured_queries) == 2, [q["sql"] for q in queries.captured_queries]
        assert queued("integrations.fan_out") == 2


def test_message_received_payload(tenant_a: Tenant) -> None:
    from tests.factories import seed_inbox

    seeded = seed_inbox(tenant_a)
    endpoint, _secret = make_endpoint(tenant_a, "http://127.0.0.1:9/x", ["message.received"])
    with workspace_context(tenant_a.workspace.pk):
        from parley.inbox.models import Message

        message = Message.objects.select_related("conversation").get(pk=int(seeded["message_id"]))
        domain_events.emit(
            tenant_a.workspace.pk,
            domain_events.MESSAGE_RECEIVED,
            messages=[
                domain_events.ReceivedMessage(
                    message_id=message.pk,
                    contact_id=message.conversation.contact_id,
                    conversation_id=message.conversation_id,
                    text=message.text,
                    received_at=message.created_at,
                    channel_id=message.conversation.channel_id,
                    first=True,
                )
            ],
        )
    run_fan_outs()
    [delivery] = deliveries(tenant_a)
    data = delivery.payload["data"]
    assert data["message"]["text"] == "hi there"
    assert data["message"]["first_in_conversation"] is True
    assert data["contact"]["name"] == "Ann Customer"
    assert data["contact"]["phone"] == "+15550001111"
    assert delivery.endpoint_id == endpoint.pk
    # Nobody listens on port 9: the fan-out's own send failed, a sender will retry.
    assert delivery.status == "pending" and delivery.attempts == 1
    assert "Could not connect" in delivery.error
    assert queued("integrations.send") == 1
