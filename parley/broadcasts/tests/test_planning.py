"""Starting a broadcast plans one outbox item per sendable recipient: from a
segment, tags or an uploaded CSV, with opted-out, invalid and duplicate
numbers skipped and counted."""

from __future__ import annotations

from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from django.utils import timezone

from parley.broadcasts import actions
from parley.broadcasts.models import AudienceKind, Status
from parley.core.errors import ActionError
from parley.core.tenant import workspace_context
from parley.crm.models import Consent, Contact
from parley.outbox.models import OutboundContent
from tests.factories import Tenant

from .helpers import (
    CSV_MAPPING,
    MAPPING,
    build,
    csv_bytes,
    csv_draft,
    draft,
    items,
    make_template,
    reload,
    start,
    upload,
)

pytestmark = pytest.mark.django_db


def test_tags_any_of_skips_opted_out(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = draft(world, tag_ids=[world.vip.pk, world.other.pk])
    started = start(world, broadcast)
    planned = items(world, started)
    # Ann, Bob (both tags: once), Dan; Cat opted out.
    c = world.contacts
    assert sorted(i.contact_id for i in planned) == sorted([c["Ann"], c["Bob"], c["Dan"]])
    assert {i.state for i in planned} == {"pending"}
    assert started.status == Status.SENDING and started.started_at is not None
    assert started.audience_size == 3
    assert started.skipped_opted_out == 1
    assert started.skipped_invalid == started.skipped_duplicate == 0
    with workspace_context(world.ws.pk):
        content = OutboundContent.objects.get(pk=started.content.pk)  # type: ignore[union-attr]
    assert content.template_id == world.template.pk and content.mapping == MAPPING
    assert {i.content_id for i in planned} == {content.pk}
    assert {i.channel_id for i in planned} == {world.channel.pk}
    assert {i.created_by_id for i in planned} == {tenant_a.admin.pk}


def test_segment_audience(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = draft(world, audience_kind=AudienceKind.SEGMENT, segment_id=world.segment.pk)
    started = start(world, broadcast)
    c = world.contacts
    assert sorted(i.contact_id for i in items(world, started)) == sorted([c["Ann"], c["Bob"]])
    assert (started.audience_size, started.skipped_opted_out) == (2, 1)


def test_csv_audience_counts_and_values(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    tenant_a.workspace.default_country = "GB"
    tenant_a.workspace.save(update_fields=["default_country"])
    data = csv_bytes(
        [
            ["Name", "Mobile", "coupon"],
            ["Ann", "+44 7911 000001", "ANN10"],  # existing, opted in
            ["Cat", "07911 000003", "CAT10"],  # existing, opted out (national format)
            ["New Person", "07912 345678", "NEW10"],  # unknown: becomes a contact
            ["Ann again", "00447911000001", "DUP"],  # the same number as row 2
            ["Broken", "12345", "X"],  # invalid
            ["Empty", "", "Y"],  # invalid
            [],  # blank lines are not rows
            ["Dan", "447911000004", ""],  # no coupon: the fallback renders it
        ]
    )
    broadcast = csv_draft(world, data)
    assert broadcast.csv_header == ["Name", "Mobile", "coupon"]
    assert broadcast.csv_phone_column == "Mobile"  # guessed
    started = start(world, broadcast)
    planned = items(world, started)
    with workspace_context(world.ws.pk):
        new = Contact.objects.get(workspace=world.ws, wa_id="447912345678")
    assert new.consent == Consent.UNKNOWN and new.phone_e164 == "+447912345678"
    c = world.contacts
    assert [(i.contact_id, i.values) for i in planned] == [
        (c["Ann"], {"coupon": "ANN10"}),
        (new.pk, {"coupon": "NEW10"}),
        (c["Dan"], {"coupon": ""}),
    ]
    assert started.audience_size == 3
    assert started.skipped_opted_out == 1
    assert started.skipped_invalid == 2
    assert started.skipped_duplicate == 1


def test_csv_with_bom_and_semicolons(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    data = csv_bytes(
        [
            ["Téléphone", "coupon", "Notes"],
            ["+447911000002", "BOB;5", "a; b"],
            ["+1 415 555 0100", "Z", ""],
        ],
        delimiter=";",
        bom=True,
    )
    broadcast = csv_draft(world, data)
    # The BOM is not part of the first column's name.
    assert broadcast.csv_header == ["Téléphone", "coupon", "Notes"]
    assert broadcast.csv_delimiter == ";"
    assert broadcast.csv_phone_column == "Téléphone"
    started = start(world, broadcast)
    planned = items(world, started)
    assert [i.values for i in planned] == [{"coupon": "BOB;5"}, {"coupon": "Z"}]
    assert planned[0].contact_id == world.contacts["Bob"]


def test_csv_phone_column_chosen_by_hand(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    data = csv_bytes([["a", "b", "coupon"], ["x", "+447911000001", "C1"]])
    broadcast = csv_draft(world, data)
    assert broadcast.csv_phone_column == "a"  # no phone-like name: the first column
    with workspace_context(world.ws.pk), pytest.raises(ActionError) as err:
        actions.do_update_broadcast(actor=world.admin, broadcast=broadcast, csv_phone_column="zz")
    assert err.value.field == "csv_phone_column"
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert err.value.code == "empty_audience" and "1 invalid" in err.value.message
    with workspace_context(world.ws.pk):
        broadcast = actions.do_update_broadcast(
            actor=world.admin, broadcast=reload(world, broadcast), csv_phone_column="b"
        )
    started = start(world, broadcast)
    assert [i.contact_id for i in items(world, started)] == [world.contacts["Ann"]]


def test_csv_column_mapping_checked_against_the_file(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    with_coupon = csv_bytes([["phone", "coupon"], ["+447911000001", "X"]])
    broadcast = csv_draft(world, with_coupon)
    assert broadcast.mapping == CSV_MAPPING
    # A new file without the column the mapping uses: refused at the start.
    with workspace_context(world.ws.pk):
        broadcast = actions.do_upload_audience_csv(
            actor=world.admin,
            broadcast=broadcast,
            upload=upload(csv_bytes([["phone", "code"], ["+447911000001", "X"]])),
        )
    with pytest.raises(ActionError) as err:
        start(world, reload(world, broadcast))
    assert err.value.field == "mapping" and "coupon" in err.value.message
    assert items(world, broadcast) == []
    # And when the mapping is set.
    with workspace_context(world.ws.pk), pytest.raises(ActionError) as err:
        actions.do_update_broadcast(actor=world.admin, broadcast=broadcast, mapping=CSV_MAPPING)
    assert "coupon" in err.value.message
    # A column source without a CSV audience is refused too.
    with pytest.raises(ActionError) as err:
        draft(world, mapping=CSV_MAPPING)
    assert "not a CSV" in err.value.message


def test_csv_100k_rows_are_streamed_and_planned(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    rows = [["phone", "coupon"]]
    rows += [[f"+4479{n:08d}", f"C{n}"] for n in range(100_000)]
    broadcast = csv_draft(world, csv_bytes(rows))
    tenant_a.workspace.monthly_message_quota = 200_000
    tenant_a.workspace.save(update_fields=["monthly_message_quota"])
    with workspace_context(world.ws.pk):
        world.channel.messaging_limit_tier = "TIER_UNLIMITED"
        world.channel.save(update_fields=["messaging_limit_tier"])
    started = start(world, reload(world, broadcast))
    assert started.audience_size == 100_000
    assert started.skipped_invalid == started.skipped_duplicate == 0
    with workspace_context(world.ws.pk):
        assert Contact.objects.filter(workspace=world.ws).count() >= started.audience_size


def test_only_approved_templates_of_the_channel(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    pending = make_template(world.channel, name="pending_one", status="PENDING")
    with pytest.raises(ActionError) as err:
        draft(world, template_id=pending.pk)
    assert err.value.code == "template_not_approved"
    from tests.factories import make_channel

    elsewhere = make_template(make_channel(tenant_a), name="other_line")
    with pytest.raises(ActionError) as err:
        draft(world, template_id=elsewhere.pk)
    assert "another channel" in err.value.message
    # Approved at drafting, paused by Meta before the start: refused, nothing planned.
    broadcast = draft(world)
    with workspace_context(world.ws.pk):
        world.template.status = "PAUSED"
        world.template.save(update_fields=["status"])
    with pytest.raises(ActionError) as err:
        start(world, broadcast)
    assert err.value.code == "template_not_approved"
    assert items(world, broadcast) == []
    assert reload(world, broadcast).status == Status.DRAFT


def test_incomplete_mapping_refused(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    with pytest.raises(ActionError) as err:
        draft(world, mapping={"1": MAPPING["1"]})
    assert err.value.field == "mapping" and "{{2}}" in err.value.message


def test_schedule_in_workspace_time(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    tenant_a.workspace.timezone = "Asia/Tokyo"
    tenant_a.workspace.save(update_fields=["timezone"])
    local = (timezone.now() + timedelta(days=2)).astimezone(ZoneInfo("Asia/Tokyo"))
    naive = datetime(local.year, local.month, local.day, 9, 30)
    started = start(world, draft(world), naive)
    expected = naive.replace(tzinfo=ZoneInfo("Asia/Tokyo"))
    assert started.status == Status.SCHEDULED
    assert started.scheduled_at == expected and started.started_at is None
    assert {i.not_before for i in items(world, started)} == {expected}
    # Moved, then sent now instead.
    later = expected + timedelta(hours=3)
    with workspace_context(world.ws.pk):
        moved = actions.do_reschedule_broadcast(
            actor=world.admin, broadcast=started, scheduled_at=later
        )
    assert moved.scheduled_at == later
    assert {i.not_before for i in items(world, started)} == {later}
    with workspace_context(world.ws.pk):
        now = actions.do_reschedule_broadcast(actor=world.admin, broadcast=moved, scheduled_at=None)
    assert now.status == Status.SENDING and now.started_at is not None
    assert all(i.not_before <= timezone.now() for i in items(world, started))


def test_schedule_in_the_past_refused(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    broadcast = draft(world)
    with pytest.raises(ActionError) as err:
        start(world, broadcast, timezone.now() - timedelta(hours=1))
    assert err.value.field == "scheduled_at"
    assert items(world, broadcast) == []


def test_started_broadcast_is_not_edited_or_started_twice(tenant_a: Tenant) -> None:
    world = build(tenant_a)
    started = start(world, draft(world))
    with pytest.raises(ActionError) as err:
        start(world, started)
    assert err.value.code == "not_draft"
    with workspace_context(world.ws.pk), pytest.raises(ActionError):
        actions.do_update_broadcast(actor=world.admin, broadcast=started, name="Again")
    assert len(items(world, started)) == 2
