"""The checks before a start: the workspace's monthly quota and the
channel's messaging tier refuse a too-large audience, and nothing is planned."""

from __future__ import annotations

from datetime import timedelta

import pytest
from django.utils import timezone

from parley.broadcasts.models import AudienceKind, Status
from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.inbox.models import MonthlyUsage
from parley.inbox.quota import month_start
from parley.outbox import actions as outbox
from parley.outbox.models import OutboundItem, TierContact
from parley.segments.models import Segment
from tests.factories import Tenant

from .helpers import World, build, csv_bytes, csv_draft, draft, items, reload, start

pytestmark = pytest.mark.django_db


def _quota(world: World, quota: int, used: int) -> None:
    ws = world.ws
    ws.monthly_message_quota = quota
    ws.save(update_fields=["monthly_message_quota"])
    with workspace_context(ws.pk):
        MonthlyUsage.objects.create(workspace=ws, month=month_start(), outbound=used)


def _tier(world: World, tier: str) -> None:
    with workspace_context(world.ws.pk):
        world.channel.messaging_limit_tier = tier
        world.channel.save(update_fields=["messaging_limit_tier"])


def _extra_contacts(world: World, n: int) -> list[int]:
    with workspace_context(world.ws.pk):
        made = Contact.objects.bulk_create(
            [
                Contact(workspace=world.ws, wa_id=f"49151{i:07d}", name=f"Extra {i}")
                for i in range(n)
            ]
        )
    return [c.pk for c in made]


def _nothing_planned(world: World) -> None:
    with workspace_context(world.ws.pk):
        assert not OutboundItem.objects.filter(source="broadcast").exists()


def test_monthly_quota_refuses(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _quota(world, quota=100, used=99)
    broadcast = draft(world)  # Ann and Bob
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert err.value.code == "quota_exceeded"
    assert "This audience has 2 contacts" in err.value.message
    assert "100 messages has 1 left" in err.value.message
    _nothing_planned(world)
    assert reload(world, broadcast).status == Status.DRAFT
    # With room for both it starts.
    with workspace_context(world.ws.pk):
        MonthlyUsage.objects.filter(workspace=world.ws).update(outbound=98)
    assert start(world, reload(world, broadcast)).status == Status.SENDING


def test_monthly_quota_counts_what_is_already_queued(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _quota(world, quota=10, used=0)
    others = _extra_contacts(world, 9)
    with workspace_context(world.ws.pk):
        content = outbox.create_content(workspace_id=world.ws.pk, text="hello")
        # Nine messages of something else, queued and not yet sent.
        outbox.plan(
            workspace_id=world.ws.pk,
            channel_id=world.channel.pk,
            content_id=content.pk,
            source="scheduled",
            source_id=1,
            recipients=[(pk, {}) for pk in others],
            not_before=timezone.now() + timedelta(hours=1),
        )
    broadcast = draft(world)
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert "has 1 left" in err.value.message
    assert items(world, broadcast) == []


def test_monthly_quota_refuses_a_csv_audience(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _quota(world, quota=3, used=0)
    rows = [["phone", "coupon"]] + [[f"+4479111{n:05d}", "C"] for n in range(5)]
    broadcast = csv_draft(world, csv_bytes(rows))
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert err.value.code == "quota_exceeded" and "5 contacts" in err.value.message
    _nothing_planned(world)
    with workspace_context(world.ws.pk):
        # The contacts the file would have created were rolled back with the plan.
        assert not Contact.objects.filter(wa_id__startswith="4479111").exists()


def test_tier_refuses_with_what_remains(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _tier(world, "TIER_50")
    extra = _extra_contacts(world, 60)
    now = timezone.now()
    with workspace_context(world.ws.pk):
        # 48 customers already reached in the last 24 h, one older than that.
        TierContact.objects.bulk_create(
            [
                TierContact(workspace=world.ws, channel=world.channel, contact_id=pk, last_at=now)
                for pk in extra[:48]
            ]
            + [
                TierContact(
                    workspace=world.ws,
                    channel=world.channel,
                    contact_id=extra[48],
                    last_at=now - timedelta(hours=25),
                )
            ]
        )
    # Everyone: 5 of the world (1 opted out) + 60 extra = 64 recipients, of
    # whom 48 are already counted in the tier: 16 new, 2 remain.
    with workspace_context(world.ws.pk):
        everyone = Segment.objects.create(workspace=world.ws, name="All", definition={})
    broadcast = draft(world, audience_kind=AudienceKind.SEGMENT, segment_id=everyone.pk)
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert err.value.code == "tier_exceeded"
    assert err.value.message == (
        "This audience has 64 contacts (16 of them would start a new conversation), but the "
        "channel's messaging tier allows 50 new customers per 24 hours and 2 remain. "
        "Reduce the audience or wait."
    )
    _nothing_planned(world)
    assert reload(world, broadcast).status == Status.DRAFT


def test_tier_does_not_count_open_windows_or_known_customers(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _tier(world, "TIER_50")
    extra = _extra_contacts(world, 49)
    now = timezone.now()
    c = world.contacts
    with workspace_context(world.ws.pk):
        TierContact.objects.bulk_create(
            [
                TierContact(workspace=world.ws, channel=world.channel, contact_id=pk, last_at=now)
                for pk in [*extra, c["Ann"]]
            ]
        )
        # Bob wrote an hour ago: a message to him opens no new conversation.
        Contact.objects.filter(pk=c["Bob"]).update(last_inbound_at=now - timedelta(hours=1))
    # Tier full (50 of 50), but Ann is already counted and Bob's window is open.
    started = start(world, draft(world))
    assert started.status == Status.SENDING and started.audience_size == 2
    # Dan (tag "other") would be a new customer: refused.
    with pytest.raises(ActionError) as err:
        start(world, draft(world, tag_ids=[world.other.pk]))
    assert "allows 50 new customers per 24 hours and 0 remain" in err.value.message


def test_unlimited_tier(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    _tier(world, "TIER_UNLIMITED")
    assert start(world, draft(world)).status == Status.SENDING
