"""A small world for broadcast tests: a channel, an approved template with
two variables, contacts with tags and consent, and shortcuts."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone

from parley.broadcasts import actions
from parley.broadcasts.models import AudienceKind, Broadcast
from parley.core.tenant import workspace_context
from parley.crm.models import Consent, Contact, ContactTag, Tag
from parley.outbox.models import OutboundItem
from parley.segments.models import Segment
from parley.tenancy.actor import Actor
from parley.whatsapp.models import Channel, MessageTemplate
from tests.factories import Tenant, actor_for, make_channel

BODY = "Hi {{1}}, your code is {{2}}."
MAPPING = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "static", "value": "SUMMER24"},
}
CSV_MAPPING = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "column", "column": "coupon", "fallback": "WELCOME"},
}


@dataclass
class World:
    tenant: Tenant
    channel: Channel
    template: MessageTemplate
    vip: Tag
    other: Tag
    segment: Segment
    # name -> contact id
    contacts: dict[str, int]

    @property
    def ws(self) -> Any:
        return self.tenant.workspace

    @property
    def admin(self) -> Actor:
        return actor_for(self.tenant.workspace, self.tenant.admin)


def make_template(
    channel: Channel, *, name: str = "summer_sale", status: str = "APPROVED", body: str = BODY
) -> MessageTemplate:
    with workspace_context(channel.workspace_id):
        return MessageTemplate.objects.create(
            workspace_id=channel.workspace_id,
            channel=channel,
            name=name,
            language="en",
            category="MARKETING",
            status=status,
            components=[
                {
                    "type": "BODY",
                    "text": body,
                    "example": {"body_text": [["Ada", "CODE1"]]},
                }
            ],
        )


def build(tenant: Tenant) -> World:
    """Ann and Bob (VIP, opted in), Cat (VIP, opted out), Dan (other tag),
    Eve (no tag, unknown consent). The segment is "name contains er" (Ann, Bob, Cat)."""
    channel = make_channel(tenant)
    template = make_template(channel)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        vip = Tag.objects.create(workspace=ws, name="VIP")
        other = Tag.objects.create(workspace=ws, name="Other")
        people = {
            "Ann Archer": ("447911000001", Consent.OPTED_IN, [vip]),
            "Bob Baker": ("447911000002", Consent.OPTED_IN, [vip, other]),
            "Cat Carter": ("447911000003", Consent.OPTED_OUT, [vip]),
            "Dan Dawes": ("447911000004", Consent.UNKNOWN, [other]),
            "Eve Evans": ("447911000005", Consent.UNKNOWN, []),
        }
        contacts = {}
        for name, (wa_id, consent, tags) in people.items():
            contact = Contact.objects.create(
                workspace=ws, wa_id=wa_id, phone_e164=f"+{wa_id}", name=name, consent=consent
            )
            for tag in tags:
                ContactTag.objects.create(workspace=ws, contact=contact, tag=tag)
            contacts[name.split()[0]] = contact.pk
        segment = Segment.objects.create(
            workspace=ws,
            name="Has er",
            definition={"conditions": [{"field": "name", "op": "contains", "value": "er"}]},
        )
    return World(tenant, channel, template, vip, other, segment, contacts)


def draft(world: World, **kwargs: Any) -> Broadcast:
    options: dict[str, Any] = {
        "name": "Summer sale",
        "channel_id": world.channel.pk,
        "template_id": world.template.pk,
        "mapping": MAPPING,
        "audience_kind": AudienceKind.TAGS,
        "tag_ids": [world.vip.pk],
        **kwargs,
    }
    with workspace_context(world.ws.pk):
        return actions.do_create_broadcast(actor=world.admin, **options)


def csv_bytes(rows: Iterable[Iterable[str]], *, delimiter: str = ",", bom: bool = False) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, delimiter=delimiter, lineterminator="\r\n")
    for row in rows:
        writer.writerow(list(row))
    data = out.getvalue().encode()
    return (b"\xef\xbb\xbf" + data) if bom else data


def upload(data: bytes, name: str = "audience.csv") -> SimpleUploadedFile:
    return SimpleUploadedFile(name, data, content_type="text/csv")


def csv_draft(world: World, data: bytes, **kwargs: Any) -> Broadcast:
    broadcast = draft(world, audience_kind=AudienceKind.CSV, mapping={}, tag_ids=[], **kwargs)
    with workspace_context(world.ws.pk):
        broadcast = actions.do_upload_audience_csv(
            actor=world.admin, broadcast=broadcast, upload=upload(data)
        )
        return actions.do_update_broadcast(
            actor=world.admin, broadcast=broadcast, mapping=CSV_MAPPING
        )


def start(world: World, broadcast: Broadcast, when: datetime | None = None) -> Broadcast:
    with workspace_context(world.ws.pk):
        return actions.do_start_broadcast(actor=world.admin, broadcast=broadcast, scheduled_at=when)


def items(world: World, broadcast: Broadcast) -> list[OutboundItem]:
    with workspace_context(world.ws.pk):
        return list(
            OutboundItem.objects.filter(source="broadcast", source_id=broadcast.pk).order_by("id")
        )


def reload(world: World, broadcast: Broadcast) -> Broadcast:
    with workspace_context(world.ws.pk):
        return Broadcast.objects.get(pk=broadcast.pk)


def finish(world: World, broadcast: Broadcast, state: str, *, reason: str = "") -> list[int]:
    """Move every pending item to ``state``, as the dispatcher would, and
    tell the hook. Returns the item ids."""
    from parley.broadcasts.actions import on_items_finished
    from parley.outbox.hooks import Finished

    now = timezone.now()
    with workspace_context(world.ws.pk):
        pending = list(
            OutboundItem.objects.filter(source="broadcast", source_id=broadcast.pk, state="pending")
        )
        OutboundItem.objects.filter(pk__in=[i.pk for i in pending]).update(
            state=state, reason=reason, finished_at=now
        )
        on_items_finished(
            world.ws.pk,
            [Finished(i.pk, broadcast.pk, i.contact_id, state, reason, now) for i in pending],
        )
    return [i.pk for i in pending]
