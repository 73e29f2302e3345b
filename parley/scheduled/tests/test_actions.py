"""Scheduling, editing and cancelling through the actions: times in a
workspace's zone, the outbox item behind each message, the lock on edits."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from django.utils import timezone
from procrastinate.contrib.django.models import ProcrastinateJob

from parley.core.errors import ActionError, Conflict
from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition
from parley.outbox.models import OutboundContent, OutboundItem
from parley.scheduled.actions import (
    What,
    do_cancel_scheduled,
    do_update_scheduled,
    window_note,
)
from parley.scheduled.models import SOURCE, ScheduledMessage, Status
from parley.scheduled.tests.helpers import (
    MAPPING,
    World,
    at,
    last_sunday,
    make_template,
    make_world,
    next_year,
    schedule,
)
from tests.factories import Tenant, actor_for

pytestmark = pytest.mark.django_db


def _item(world: World, scheduled: ScheduledMessage) -> OutboundItem:
    with workspace_context(world.tenant.workspace.pk):
        return OutboundItem.objects.get(source="scheduled", source_id=scheduled.pk)


def _set_state(world: World, scheduled: ScheduledMessage, state: str) -> None:
    with workspace_context(world.tenant.workspace.pk):
        OutboundItem.objects.filter(source="scheduled", source_id=scheduled.pk).update(
            state=state, finished_at=timezone.now() if state != "sending" else None
        )


def _reload(world: World, scheduled: ScheduledMessage) -> ScheduledMessage:
    from parley.scheduled.access import access_scheduled

    with workspace_context(world.tenant.workspace.pk):
        actor = actor_for(world.tenant.workspace, world.tenant.agent)
        return access_scheduled(actor, scheduled.pk)


def test_a_text_scheduled_in_berlin_is_one_pending_outbox_item_at_the_utc_time(
    tenant_a: Tenant,
) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    y = next_year()
    scheduled = schedule(world, datetime(y, 7, 1, 9, 30), text="  Your table is ready.  ")
    assert scheduled.send_at == datetime(y, 7, 1, 7, 30, tzinfo=UTC)
    assert scheduled.local_time == f"{y}-07-01T09:30:00"
    assert scheduled.timezone_name == "Europe/Berlin"
    assert scheduled.status == Status.SCHEDULED and scheduled.is_open
    item = _item(world, scheduled)
    assert (item.source, item.source_id) == (SOURCE, scheduled.pk)
    assert item.state == "pending" and item.not_before == scheduled.send_at
    assert (item.contact_id, item.channel_id) == (world.contact.pk, world.channel.pk)
    assert item.created_by_id == tenant_a.agent.pk
    with workspace_context(tenant_a.workspace.pk):
        content = OutboundContent.objects.get(pk=item.content_id)
    assert content.text == "Your table is ready." and content.template_id is None
    assert scheduled.content_id == content.pk


def test_a_template_scheduled_in_new_york_keeps_its_mapping(tenant_a: Tenant) -> None:
    world = make_world(tenant_a, "America/New_York")
    y = next_year()
    scheduled = schedule(
        world, datetime(y, 1, 10, 9, 0), kind="template", template=world.template, mapping=MAPPING
    )
    assert scheduled.send_at == datetime(y, 1, 10, 14, 0, tzinfo=UTC)
    with workspace_context(tenant_a.workspace.pk):
        content = OutboundContent.objects.get(pk=scheduled.content_id)
    assert content.template_id == world.template.pk and content.mapping == MAPPING
    assert content.text == ""


def test_dst_gap_refused_fold_noted_past_refused(tenant_a: Tenant) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    y = next_year()
    with pytest.raises(ActionError) as caught:
        schedule(world, at(last_sunday(y, 3), 2, 30))
    assert "from 02:00 to 03:00" in caught.value.message
    folded = schedule(world, at(last_sunday(y, 10), 2, 30))
    assert folded.send_at.hour == 0 and "happens twice" in folded.time_note
    with pytest.raises(ActionError) as caught:
        schedule(world, timezone.now() - timedelta(minutes=5))
    assert caught.value.code == "in_the_past"
    # Nothing was planned for the refused ones.
    with workspace_context(tenant_a.workspace.pk):
        assert OutboundItem.objects.filter(source=SOURCE).count() == 1
        assert ScheduledMessage.objects.count() == 1


def test_templates_and_mappings_are_checked(tenant_a: Tenant) -> None:
    world = make_world(tenant_a)
    later = timezone.now() + timedelta(days=1)
    pending = make_template(tenant_a, world.channel, status="PENDING")
    other_channel_template = make_template(tenant_a, make_world(tenant_a).channel)

    def refused(**what: Any) -> ActionError:
        with pytest.raises(ActionError) as caught:
            schedule(world, later, **what)
        return caught.value

    assert refused(kind="template").field == "template_id"
    assert "not approved" in refused(kind="template", template=pending, mapping=MAPPING).message
    assert (
        "another number"
        in refused(kind="template", template=other_channel_template, mapping=MAPPING).message
    )
    missing = refused(kind="template", template=world.template, mapping={"1": MAPPING["1"]})
    assert missing.field == "mapping" and "{{2}}" in missing.message
    column = refused(
        kind="template",
        template=world.template,
        mapping={**MAPPING, "2": {"source": "column", "column": "x"}},
    )
    assert "CSV" in column.message
    with workspace_context(tenant_a.workspace.pk):
        AttributeDefinition.objects.create(
            workspace=tenant_a.workspace, key="city", label="City", type="text"
        )
    empty = refused(
        kind="template",
        template=world.template,
        mapping={**MAPPING, "2": {"source": "attribute", "key": "city", "fallback": ""}},
    )
    assert empty.code == "missing_value" and "fallback" in empty.message
    fallback = refused(fallback_template=world.template, fallback_mapping={})
    assert fallback.field == "fallback_mapping"
    assert refused(text="   ").field == "text"
    assert refused(text="x" * 4097).code == "too_long"
    assert refused(kind="voice").field == "kind"


def test_edit_while_pending_moves_the_item_and_swaps_the_content(tenant_a: Tenant) -> None:
    world = make_world(tenant_a, "Europe/Berlin")
    y = next_year()
    scheduled = schedule(world, datetime(y, 7, 1, 9, 0))
    old_content_id = scheduled.content_id
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        do_update_scheduled(
            actor=actor,
            scheduled=scheduled,
            when=datetime(y, 12, 1, 18, 15),
            what=What(
                kind="text",
                text="Moved to the evening.",
                fallback_template=world.template,
                fallback_mapping=MAPPING,
            ),
        )
        assert not OutboundContent.objects.filter(pk=old_content_id).exists()
    item = _item(world, scheduled)
    assert item.not_before == datetime(y, 12, 1, 17, 15, tzinfo=UTC)  # CET in December
    assert item.content_id == scheduled.content_id != old_content_id
    fresh = _reload(world, scheduled)
    assert fresh.send_at == item.not_before and fresh.local_time == f"{y}-12-01T18:15:00"
    assert fresh.content.text == "Moved to the evening."
    assert fresh.content.fallback_template_id == world.template.pk
    assert fresh.content.fallback_mapping == MAPPING
    # Edit to a template.
    with workspace_context(tenant_a.workspace.pk):
        do_update_scheduled(
            actor=actor,
            scheduled=fresh,
            what=What(kind="template", template=world.template, mapping=MAPPING),
        )
    fresh = _reload(world, scheduled)
    assert fresh.kind == "template" and fresh.content.template_id == world.template.pk
    assert fresh.content.text == "" and fresh.send_at == item.not_before


@pytest.mark.parametrize("state", ["sending", "sent", "failed", "cancelled"])
def test_edit_is_refused_once_it_has_gone_out(tenant_a: Tenant, state: str) -> None:
    world = make_world(tenant_a)
    scheduled = schedule(world, timezone.now() + timedelta(hours=2))
    _set_state(world, scheduled, state)
    fresh = _reload(world, scheduled)
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        with pytest.raises(Conflict) as caught:
            do_update_scheduled(
                actor=actor, scheduled=fresh, when=timezone.now() + timedelta(days=1)
            )
    assert caught.value.status == 409
    if state in ("sending", "sent"):
        assert caught.value.code == "already_sent" and "sent" in caught.value.message
    # The item was not touched.
    assert _item(world, scheduled).not_before == scheduled.send_at


def test_a_stale_copy_cannot_edit_what_was_sent_meanwhile(tenant_a: Tenant) -> None:
    """The edit reads the item under its lock, not the copy the page loaded."""
    world = make_world(tenant_a)
    scheduled = schedule(world, timezone.now() + timedelta(hours=2))
    loaded = _reload(world, scheduled)
    _set_state(world, scheduled, "sent")
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        with pytest.raises(Conflict):
            do_update_scheduled(actor=actor, scheduled=loaded, what=What(kind="text", text="x"))
        with pytest.raises(Conflict):
            do_cancel_scheduled(actor=actor, scheduled=loaded)


def test_cancel_while_pending_then_again(tenant_a: Tenant) -> None:
    world = make_world(tenant_a)
    scheduled = schedule(world, timezone.now() + timedelta(hours=2))
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        do_cancel_scheduled(actor=actor, scheduled=scheduled)
        assert scheduled.status == Status.CANCELLED
        do_cancel_scheduled(actor=actor, scheduled=_reload(world, scheduled))  # harmless
    item = _item(world, scheduled)
    assert item.state == "cancelled" and item.finished_at is not None
    assert _reload(world, scheduled).status == Status.CANCELLED


def test_viewers_may_not_schedule_edit_or_cancel(tenant_a: Tenant) -> None:
    from django.core.exceptions import PermissionDenied

    world = make_world(tenant_a)
    with pytest.raises(PermissionDenied):
        schedule(world, timezone.now() + timedelta(hours=1), user=tenant_a.viewer)
    scheduled = schedule(world, timezone.now() + timedelta(hours=1))
    with workspace_context(tenant_a.workspace.pk):
        viewer = actor_for(tenant_a.workspace, tenant_a.viewer)
        with pytest.raises(PermissionDenied):
            do_cancel_scheduled(actor=viewer, scheduled=scheduled)
        with pytest.raises(PermissionDenied):
            do_update_scheduled(actor=viewer, scheduled=scheduled, what=What(kind="text", text="x"))


def _dispatch_jobs(world: World) -> int:
    return ProcrastinateJob.objects.filter(
        task_name="outbox.dispatch",
        queueing_lock=f"outbox-dispatch-{world.channel.pk}",
        status="todo",
    ).count()


def test_due_now_kicks_the_dispatcher_and_later_leaves_it_to_the_clock(tenant_a: Tenant) -> None:
    world = make_world(tenant_a)
    later = schedule(world, timezone.now() + timedelta(hours=3))
    assert _dispatch_jobs(world) == 0
    with workspace_context(tenant_a.workspace.pk):
        actor = actor_for(tenant_a.workspace, tenant_a.agent)
        do_update_scheduled(actor=actor, scheduled=later, when=timezone.now())
    assert _dispatch_jobs(world) == 1
    schedule(world, timezone.now())
    assert _dispatch_jobs(world) == 1  # one queued dispatcher per channel is enough


def test_window_note_says_when_a_text_will_not_get_through(tenant_a: Tenant) -> None:
    from parley.inbox.models import Conversation

    world = make_world(tenant_a, "Europe/Berlin")
    scheduled = schedule(world, timezone.now() + timedelta(days=2))
    with workspace_context(tenant_a.workspace.pk):
        assert "has not written" in window_note(_reload(world, scheduled))
        Conversation.objects.create(
            workspace=tenant_a.workspace,
            contact=world.contact,
            channel=world.channel,
            last_inbound_at=timezone.now() - timedelta(hours=1),
        )
        note = window_note(_reload(world, scheduled))
        assert "closes" in note and "will fail" in note
        soon = schedule(world, timezone.now() + timedelta(hours=2))
        assert window_note(_reload(world, soon)) == ""
        with_fallback = schedule(
            world,
            timezone.now() + timedelta(days=2),
            fallback_template=world.template,
            fallback_mapping=MAPPING,
        )
        assert "fallback template" in window_note(_reload(world, with_fallback))
