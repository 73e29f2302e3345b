"""The broadcast pages: list and new form, the draft editor (audience,
template, variables, send now, schedule), live progress, recipients and export."""

from __future__ import annotations

import csv
import io
from datetime import timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from parley.broadcasts.models import Broadcast, Status
from parley.core.tenant import workspace_context
from parley.inbox.models import Conversation, Message
from parley.outbox.models import OutboundItem
from tests.factories import Tenant

from .helpers import (
    World,
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


def _url(world: World, name: str = "", broadcast: Broadcast | None = None) -> str:
    base = f"/w/{world.ws.slug}/broadcasts/"
    if broadcast is None:
        return base + name
    return f"{base}{broadcast.pk}/{name}"


def _editor_post(world: World, **extra: Any) -> dict[str, Any]:
    return {
        "name": "Autumn sale",
        "channel_id": str(world.channel.pk),
        "audience_kind": "tags",
        "tag_ids": [str(world.vip.pk)],
        "segment_id": "",
        "template_id": str(world.template.pk),
        "var-1-source": "field:first_name",
        "var-1-fallback": "friend",
        "var-2-source": "static",
        "var-2-value": "AUTUMN",
        "intent": "save",
        **extra,
    }


def test_index_lists_and_creates(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    started = start(world, draft(world, name="Spring sale"))
    admin: Client = login(tenant_a.admin)
    page = admin.get(_url(world))
    html = page.content.decode()
    assert page.status_code == 200
    assert "Spring sale" in html and "Sending" in html and 'id="new-broadcast"' in html
    assert 'aria-valuenow="0"' in html  # nothing sent yet
    made = admin.post(_url(world, "new/"), {"name": "Winter", "channel_id": world.channel.pk})
    assert made.status_code == 302
    with workspace_context(world.ws.pk):
        winter = Broadcast.objects.get(name="Winter")
    assert made["Location"].endswith(f"/broadcasts/{winter.pk}/")
    assert winter.status == Status.DRAFT and winter.created_by_id == tenant_a.admin.pk
    # A bad channel is a message, not a 500.
    bad = admin.post(_url(world, "new/"), {"name": "X", "channel_id": "999999"}, follow=True)
    assert "Choose one of your channels." in bad.content.decode()
    # Status tabs.
    assert "Spring sale" not in admin.get(_url(world) + "?status=draft").content.decode()
    assert started.pk


def test_viewer_reads_but_cannot_manage(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    broadcast = draft(world)
    viewer: Client = login(tenant_a.viewer)
    html = viewer.get(_url(world)).content.decode()
    assert "Summer sale" in html and 'id="new-broadcast"' not in html
    editor = viewer.get(_url(world, "", broadcast)).content.decode()
    assert "<fieldset disabled>" in editor and "Send now" not in editor
    assert viewer.post(_url(world, "new/"), {"name": "X"}).status_code == 403
    assert viewer.post(_url(world, "save/", broadcast), _editor_post(world)).status_code == 403
    started = start(world, broadcast)
    for action in ("pause/", "resume/", "cancel/", "retry/", "reschedule/"):
        assert viewer.post(_url(world, action, started)).status_code == 403
    assert viewer.get(_url(world, "", started)).status_code == 200
    assert reload(world, broadcast).status == Status.SENDING


def test_editor_saves_and_sends(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    make_template(world.channel, name="not_yet", status="PENDING")
    broadcast = draft(world, template_id=None, mapping={})
    admin: Client = login(tenant_a.admin)
    html = admin.get(_url(world, "", broadcast)).content.decode()
    assert "summer_sale" in html and "not_yet" not in html  # approved templates only
    mapping = admin.get(
        _url(world, "mapping/", broadcast) + f"?template_id={world.template.pk}"
    ).content.decode()
    assert 'name="var-1-source"' in mapping and 'name="var-2-source"' in mapping
    saved = admin.post(_url(world, "save/", broadcast), _editor_post(world))
    assert saved.status_code == 302
    broadcast = reload(world, broadcast)
    assert broadcast.name == "Autumn sale"
    assert broadcast.mapping == {
        "1": {"source": "field", "field": "first_name", "fallback": "friend"},
        "2": {"source": "static", "value": "AUTUMN"},
    }
    editor = admin.get(_url(world, "", broadcast)).content.decode()
    assert "<strong>2</strong> contacts would receive it now" in editor
    assert "1 opted out" in editor
    sent = admin.post(_url(world, "save/", broadcast), _editor_post(world, intent="send"))
    assert sent.status_code == 302
    assert reload(world, broadcast).status == Status.SENDING
    assert len(items(world, broadcast)) == 2


def test_editor_shows_refusals(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    tenant_a.workspace.monthly_message_quota = 1
    tenant_a.workspace.save(update_fields=["monthly_message_quota"])
    broadcast = draft(world)
    admin: Client = login(tenant_a.admin)
    refused = admin.post(_url(world, "save/", broadcast), _editor_post(world, intent="send"))
    assert refused.status_code == 400
    html = refused.content.decode()
    assert 'role="alert"' in html and "This audience has 2 contacts" in html
    assert items(world, broadcast) == []
    # The draft's edits were kept.
    assert reload(world, broadcast).name == "Autumn sale"
    # An incomplete mapping names the variable.
    post = _editor_post(world)
    post["var-2-source"] = ""
    post["var-2-value"] = ""
    bad = admin.post(_url(world, "save/", broadcast), post)
    assert bad.status_code == 400 and "{{2}}" in bad.content.decode()


def test_editor_schedules_in_local_time(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    tenant_a.workspace.timezone = "America/New_York"
    tenant_a.workspace.save(update_fields=["timezone"])
    broadcast = draft(world)
    day = (timezone.now() + timedelta(days=3)).date()
    admin: Client = login(tenant_a.admin)
    posted = admin.post(
        _url(world, "save/", broadcast),
        _editor_post(world, intent="schedule", scheduled_at=f"{day.isoformat()}T08:15"),
    )
    assert posted.status_code == 302
    broadcast = reload(world, broadcast)
    local = broadcast.scheduled_at.astimezone(ZoneInfo("America/New_York"))  # type: ignore[union-attr]
    assert (local.date(), local.hour, local.minute) == (day, 8, 15)
    assert broadcast.status == Status.SCHEDULED
    assert {i.not_before for i in items(world, broadcast)} == {broadcast.scheduled_at}
    detail = admin.get(_url(world, "", broadcast)).content.decode()
    assert "Reschedule" in detail and f'value="{day.isoformat()}T08:15"' in detail
    later = admin.post(
        _url(world, "reschedule/", broadcast),
        {"intent": "move", "scheduled_at": f"{day.isoformat()}T09:45"},
    )
    assert later.status_code == 302
    moved = reload(world, broadcast).scheduled_at.astimezone(ZoneInfo("America/New_York"))  # type: ignore[union-attr]
    assert (moved.hour, moved.minute) == (9, 45)
    admin.post(_url(world, "cancel/", broadcast))
    assert reload(world, broadcast).status == Status.CANCELLED


def test_editor_uploads_a_csv(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    broadcast = draft(world)
    admin: Client = login(tenant_a.admin)
    data = csv_bytes([["Phone", "coupon"], ["+447911000005", "EVE"]], delimiter=";", bom=True)
    post = _editor_post(world, file=upload(data))
    post["var-2-source"] = "column:coupon"
    saved = admin.post(_url(world, "save/", broadcast), post)
    assert saved.status_code == 302, saved.content.decode()[:2000]
    broadcast = reload(world, broadcast)
    assert broadcast.audience_kind == "csv" and broadcast.csv_header == ["Phone", "coupon"]
    assert broadcast.mapping["2"] == {"source": "column", "column": "coupon", "fallback": ""}
    editor = admin.get(_url(world, "", broadcast)).content.decode()
    assert 'value="column:coupon"' in editor and "Phone number column" in editor
    post.pop("file")
    sent = admin.post(
        _url(world, "save/", broadcast), {**post, "audience_kind": "csv", "intent": "send"}
    )
    assert sent.status_code == 302, sent.content.decode()[:2000]
    planned = items(world, broadcast)
    assert [(i.contact_id, i.values) for i in planned] == [
        (world.contacts["Eve"], {"coupon": "EVE"})
    ]


def _deliver(world: World, item: OutboundItem, status: str) -> None:
    """What the dispatcher and Meta's statuses leave behind for one item."""
    now = timezone.now()
    with workspace_context(world.ws.pk):
        conversation = Conversation.objects.create(
            workspace=world.ws, contact_id=item.contact_id, channel=world.channel
        )
        message = Message.objects.create(
            workspace=world.ws,
            conversation=conversation,
            direction="out",
            type="template",
            text="Hi",
            status=status,
            sent_at=now,
            delivered_at=now if status in ("delivered", "read") else None,
            read_at=now if status == "read" else None,
        )
        OutboundItem.objects.filter(pk=item.pk).update(
            state="sent", message=message, finished_at=now
        )


def test_progress_recipients_and_export(tenant_a: Tenant, login: Any) -> None:
    world = build(tenant_a)
    broadcast = start(world, draft(world, tag_ids=[world.vip.pk, world.other.pk]))
    ann, bob, _dan = items(world, broadcast)
    _deliver(world, ann, "read")
    with workspace_context(world.ws.pk):
        OutboundItem.objects.filter(pk=bob.pk).update(
            state="failed", reason="The number is not on WhatsApp.", error_code=131026
        )
    admin: Client = login(tenant_a.admin)
    page = admin.get(_url(world, "", broadcast))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'hx-trigger="every 2s"' in html  # live
    assert "Retry failed (1)" in html
    assert "The number is not on WhatsApp." in html and "Ann Archer" in html
    assert "<svg" in html and "Read: 1" in html
    progress = admin.get(_url(world, "progress/", broadcast) + "?status=sending")
    assert progress.status_code == 200 and "66% done" in progress.content.decode()
    # The status changed since the page was drawn: the page reloads.
    changed = admin.get(_url(world, "progress/", broadcast) + "?status=scheduled")
    assert changed["HX-Refresh"] == "true"
    failed = admin.get(_url(world, "recipients/", broadcast) + "?state=failed").content.decode()
    assert "Bob Baker" in failed and "Ann Archer" not in failed
    read = admin.get(_url(world, "recipients/", broadcast) + "?state=read").content.decode()
    assert "Ann Archer" in read and "Bob Baker" not in read
    export = admin.get(_url(world, "export.csv", broadcast))
    text = b"".join(export.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [(r["name"], r["state"], r["message_status"]) for r in rows] == [
        ("Ann Archer", "sent", "read"),
        ("Bob Baker", "failed", ""),
        ("Dan Dawes", "queued", ""),
    ]
    assert (
        rows[1]["reason"] == "The number is not on WhatsApp." and rows[1]["error_code"] == "131026"
    )
    assert rows[0]["phone"] == "+447911000001"
    retried = admin.post(_url(world, "retry/", broadcast), follow=True)
    assert "1 failed recipient queued again." in retried.content.decode()
    assert [i.state for i in items(world, broadcast)] == ["sent", "pending", "pending"]
    admin.post(_url(world, "pause/", broadcast))
    paused = admin.get(_url(world, "", broadcast)).content.decode()
    assert "Resume" in paused and 'hx-trigger="every 2s"' not in paused


def test_recipient_pages_by_keyset(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    world = build(tenant_a)
    rows = [["phone", "coupon"]] + [[f"+4479111{n:05d}", "C"] for n in range(120)]
    broadcast = start(world, csv_draft(world, csv_bytes(rows)))
    admin: Client = login(tenant_a.admin)
    url = _url(world, "recipients/", broadcast)
    first = admin.get(url).content.decode()
    assert first.count("<tr>") == 51  # header + 50
    ids = [i.pk for i in items(world, broadcast)]
    assert f"after={ids[49]}" in first
    with django_assert_max_num_queries(12):
        second = admin.get(url + f"?after={ids[49]}").content.decode()
    assert "+447911100050" in second and "+447911100049" not in second
    third = admin.get(url + f"?after={ids[99]}").content.decode()
    assert third.count("<tr>") == 21 and "Next page" not in third


def test_index_pages_and_query_count(
    tenant_a: Tenant, login: Any, django_assert_max_num_queries: Any
) -> None:
    world = build(tenant_a)
    with workspace_context(world.ws.pk):
        Broadcast.objects.bulk_create(
            [
                Broadcast(workspace=world.ws, name=f"Bulk {n:03d}", channel=world.channel)
                for n in range(105)
            ]
        )
    start(world, draft(world, name="Newest"))
    admin: Client = login(tenant_a.admin)
    admin.get(_url(world))
    with django_assert_max_num_queries(16):  # the layout takes 9 of them
        first = admin.get(_url(world)).content.decode()
    # Newest first, 100 a page: "Newest", then Bulk 104 down to Bulk 006.
    assert "Newest" in first and "Bulk 006" in first and "Bulk 005" not in first
    with workspace_context(world.ws.pk):
        older = Broadcast.objects.get(name="Bulk 006").pk
    assert f"?before={older}" in first
    second = admin.get(_url(world) + f"?before={older}").content.decode()
    assert "Bulk 005" in second and "Bulk 000" in second and "Bulk 006" not in second
    assert "Older broadcasts" not in second
