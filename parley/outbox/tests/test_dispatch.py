"""The dispatcher against the Cloud API simulator over loopback HTTP, in this
process: pacing under the number's cap, consent, the window, fallbacks, the
tier, retries after 429/500 bursts, and what sources are told."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import pytest
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Consent, Contact
from parley.inbox.models import Conversation, Message
from parley.msgtemplates.models import TemplateUsage
from parley.outbox import hooks
from parley.outbox.dispatch import dispatch
from parley.outbox.models import OutboundItem, TierContact
from parley.outbox.stats import progress
from parley.whatsapp.models import Channel
from parley.whatsapp.simulator.server import SimulatorHandle
from tests.factories import Tenant, make_tenant

from .helpers import approved_template, connect, contacts, items, plan, states

pytestmark = [pytest.mark.django_db(transaction=True)]


@pytest.fixture
def graph(sim: SimulatorHandle, settings: Any) -> SimulatorHandle:
    settings.WHATSAPP_GRAPH_URL = sim.graph_url
    settings.WHATSAPP_AMBIGUOUS_GRACE_SECONDS = 1
    return sim


def _drain(tenant: Tenant, channel: Channel, *, rounds: int = 20) -> float:
    """Run dispatcher slices until nothing is due; returns the seconds spent."""
    spent = 0.0
    for _ in range(rounds):
        run = dispatch(workspace_id=tenant.workspace.pk, channel_id=channel.pk, slice_seconds=30)
        spent += run.seconds
        if not run.more:
            break
    return spent


def test_a_broadcast_goes_out_paced_and_personalised(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph, cap=40)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 120)
    plan(tenant, channel, ids, template=template)

    seconds = _drain(tenant, channel)

    assert states(tenant) == {"sent": 120}
    phone = graph.control.messages(channel.phone_number_id)
    assert len(phone) == 120
    assert len({m["to"] for m in phone}) == 120  # nobody twice
    texts = {m["to"]: m["text"] for m in phone}
    assert texts[Contact_wa(tenant, ids[0])] == f"Hello Customer, your code is C{ids[0]}."
    # Never above the cap: the simulator answers 130429 to a send beyond it in
    # any one-second span. Paced sends stay under; on a busy machine the first
    # requests of a run can reach it bunched up, and such a send is retried.
    retried = [i for i in items(tenant) if i.attempts > 1]
    assert len(retried) <= 3, len(retried)
    stamps = sorted(m["timestamp"] for m in phone)
    per_second: dict[int, int] = {}
    for stamp in stamps:
        per_second[stamp] = per_second.get(stamp, 0) + 1
    assert max(per_second.values()) <= 40
    # ... and near it: 120 sends at 40/s take about three seconds.
    assert 2.5 < seconds < 8, seconds
    with workspace_context(tenant.workspace.pk):
        messages = list(Message.objects.filter(direction="out"))
        assert {m.status for m in messages} == {"sent"}
        assert all(m.wamid for m in messages)
        # The threads exist in the inbox, resolved until the customer answers.
        assert set(Conversation.objects.values_list("status", flat=True)) == {"resolved"}
        assert Contact.objects.filter(last_outbound_at__isnull=False).count() == 120
        usage = TemplateUsage.objects.get(template=template)
        assert (usage.source, usage.source_id, usage.count) == ("broadcast", 1, 120)
        counted = progress(workspace_id=tenant.workspace.pk, source="broadcast", source_ids=[1])
    assert counted[1].sent == 120 and counted[1].percent == 100


def test_consent_window_and_fallback_decided_at_send_time(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph, cap=80)
    template = approved_template(tenant, graph, channel)
    [out, fresh, stale, stale_fb] = contacts(tenant, 4)
    now = timezone.now()
    with workspace_context(tenant.workspace.pk):
        Contact.objects.filter(pk=out).update(consent=Consent.OPTED_OUT)
        for contact_id, wrote in (
            (fresh, now - timedelta(hours=2)),
            (stale, now - timedelta(days=2)),
            (stale_fb, None),
        ):
            Conversation.objects.create(
                workspace=tenant.workspace,
                channel=channel,
                contact_id=contact_id,
                last_inbound_at=wrote,
            )
    graph.control.open_window(channel.phone_number_id, Contact_wa(tenant, fresh))
    plan(tenant, channel, [out], template=template, source="broadcast", source_id=7)
    plan(tenant, channel, [fresh, stale], text="See you at 5", source="scheduled", source_id=8)
    plan(
        tenant,
        channel,
        [stale_fb],
        text="See you at 5",
        fallback=template,
        source="scheduled",
        source_id=9,
    )

    _drain(tenant, channel)

    by_contact = {i.contact_id: i for i in items(tenant)}
    assert by_contact[out].state == "skipped"
    assert "opted out" in by_contact[out].reason
    assert by_contact[fresh].state == "sent"
    assert by_contact[stale].state == "failed"
    assert "24-hour window" in by_contact[stale].reason
    assert by_contact[stale_fb].state == "sent"
    texts = {m["to"]: m["text"] for m in graph.control.messages(channel.phone_number_id)}
    assert texts[Contact_wa(tenant, fresh)] == "See you at 5"
    assert texts[Contact_wa(tenant, stale_fb)].startswith("Hello Customer, your code is")
    assert Contact_wa(tenant, out) not in texts


def Contact_wa(tenant: Tenant, contact_id: int) -> str:  # noqa: N802
    with workspace_context(tenant.workspace.pk):
        return str(Contact.objects.get(pk=contact_id).wa_id)


def test_sources_skip_and_hear_back(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 6)
    heard: list[hooks.Finished] = []
    hooks.register(
        "test",
        precheck=lambda ws, checks: {
            c.item_id: "Condition not met." for c in checks if c.contact_id == ids[0]
        },
        on_finished=lambda ws, done: heard.extend(done),
    )
    plan(tenant, channel, ids, template=template, source="test", source_id=3)
    _drain(tenant, channel)
    assert sorted((f.state, f.contact_id) for f in heard) == sorted(
        [("skipped", ids[0])] + [("sent", c) for c in ids[1:]]
    )
    assert next(f for f in heard if f.state == "skipped").reason == "Condition not met."


def test_the_messaging_tier_holds_back_new_customers(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    with workspace_context(tenant.workspace.pk):
        Channel.objects.filter(pk=channel.pk).update(messaging_limit_tier="TIER_50")
    ids = contacts(tenant, 60)
    plan(tenant, channel, ids, template=template)
    _drain(tenant, channel)
    counted = states(tenant)
    assert counted == {"sent": 50, "pending": 10}
    waiting = items(tenant, state="pending")
    assert all(i.not_before > timezone.now() + timedelta(hours=23) for i in waiting)
    assert "messaging tier" in waiting[0].reason
    with workspace_context(tenant.workspace.pk):
        assert TierContact.objects.count() == 50
    # The same customers again do not count twice.
    plan(tenant, channel, ids[:50], template=template, source_id=2)
    _drain(tenant, channel)
    assert len(items(tenant, state="sent")) == 100


def test_429_and_500_bursts_are_retried_to_completion(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 30)
    plan(tenant, channel, ids, template=template)
    graph.control.set_faults(http_status=500, count=8, match="/messages")
    run = dispatch(workspace_id=tenant.workspace.pk, channel_id=channel.pk, slice_seconds=5)
    assert run.retried == 8
    graph.control.set_faults(http_status=429, count=6, code=130429, match="/messages")
    # Retries wait out their backoff (1-2 s for a first retry).
    for _ in range(10):
        _drain(tenant, channel)
        if states(tenant) == {"sent": 30}:
            break
        pytest.importorskip("time").sleep(1)
    assert states(tenant) == {"sent": 30}
    phone = graph.control.messages(channel.phone_number_id)
    assert sorted(m["to"] for m in phone) == sorted(Contact_wa(tenant, c) for c in ids)


def test_permanent_errors_fail_with_the_reason(graph: SimulatorHandle) -> None:
    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 3)
    # Known paused here: not even tried.
    with workspace_context(tenant.workspace.pk):
        template.status = "PAUSED"
        template.save(update_fields=["status"])
    plan(tenant, channel, ids[:1], template=template, source_id=1)
    _drain(tenant, channel)
    # Paused at Meta before our copy knew: Meta's answer (132001) fails it.
    with workspace_context(tenant.workspace.pk):
        template.status = "APPROVED"
        template.save(update_fields=["status"])
    graph.control.set_template_status(channel.waba_id, "promo", "en_US", "PAUSED")
    plan(tenant, channel, ids[1:2], template=template, source_id=2)
    _drain(tenant, channel)
    graph.control.set_template_status(channel.waba_id, "promo", "en_US", "APPROVED")
    plan(tenant, channel, ids[2:], template=template, source_id=3)
    _drain(tenant, channel)
    [first, second, third] = items(tenant)
    assert first.state == "failed" and "is not approved (its status is paused)" in first.reason
    assert first.message_id is None  # nothing was sent
    assert second.state == "failed" and second.error_code == 132001, second.reason
    with workspace_context(tenant.workspace.pk):
        failed = Message.objects.get(pk=second.message_id or 0)
    assert failed.status == "failed" and failed.error_code == 132001
    assert third.state == "sent"


def test_paused_items_wait_and_cancelled_never_go(graph: SimulatorHandle) -> None:
    from parley.outbox import actions

    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 10)
    plan(tenant, channel, ids[:5], template=template, source_id=1)
    plan(tenant, channel, ids[5:], template=template, source_id=2)
    ws = tenant.workspace.pk
    with workspace_context(ws):
        assert actions.hold(workspace_id=ws, source="broadcast", source_id=1) == 5
        assert actions.cancel(workspace_id=ws, source="broadcast", source_id=2) == 5
    _drain(tenant, channel)
    assert states(tenant) == {"held": 5, "cancelled": 5}
    with workspace_context(ws):
        actions.release(workspace_id=ws, source="broadcast", source_id=1)
    _drain(tenant, channel)
    assert states(tenant) == {"sent": 5, "cancelled": 5}
    assert len(graph.control.messages(channel.phone_number_id)) == 5


def test_an_unanswered_send_is_settled_by_its_status_not_resent(graph: SimulatorHandle) -> None:
    """A crash after Meta took the message: the status (matched by the
    idempotency key) settles it, and nothing is sent twice."""
    from parley.inbox.statuses import apply_statuses

    tenant = make_tenant("Alpha")
    channel = connect(tenant, graph)
    template = approved_template(tenant, graph, channel)
    ids = contacts(tenant, 2)
    plan(tenant, channel, ids, template=template)
    _drain(tenant, channel)
    # Rewind as if the process died before recording: both "sending",
    # no wamid; only the first one has had a status since.
    phone = graph.control.messages(channel.phone_number_id)
    with workspace_context(tenant.workspace.pk):
        old = timezone.now() - timedelta(seconds=30)
        OutboundItem.objects.update(state="sending", claimed_at=old, finished_at=None)
        Message.objects.update(status="sending", wamid=None, last_attempt_at=old)
        first = Message.objects.get(conversation__contact_id=ids[0])
        sent = next(m for m in phone if m["to"] == Contact_wa(tenant, ids[0]))
        apply_statuses(
            tenant.workspace.pk,
            [
                {
                    "id": sent["id"],
                    "status": "sent",
                    "timestamp": "1",
                    "biz_opaque_callback_data": str(first.idempotency_key),
                }
            ],
        )
    _drain(tenant, channel)
    assert states(tenant) == {"sent": 2}
    again = graph.control.messages(channel.phone_number_id)
    tos = [m["to"] for m in again]
    # The first was settled by its status; the second, never confirmed, went again.
    assert tos.count(Contact_wa(tenant, ids[0])) == 1
    assert tos.count(Contact_wa(tenant, ids[1])) == 2
