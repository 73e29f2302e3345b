"""A small, known set of contacts for segment tests: Ann, Bob and Cat differ
on every field a segment can test, so each operator has rows that must and
must not match."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, ContactTag, Tag
from parley.inbox.models import Conversation
from tests.factories import Tenant, make_channel


@dataclass
class World:
    contacts: dict[str, int]
    tags: dict[str, int]

    def names(self, ids: set[int]) -> set[str]:
        by_id = {v: k for k, v in self.contacts.items()}
        return {by_id[i] for i in ids}


def build_world(tenant: Tenant) -> World:
    now = timezone.now()
    today = timezone.localdate()
    channel = make_channel(tenant)
    ws = tenant.workspace
    with workspace_context(ws.pk):
        for key, kind, choices in (
            ("plan", "text", []),
            ("seats", "number", []),
            ("renewal", "date", []),
            ("vip", "boolean", []),
            ("tier", "choice", ["a", "b", "c"]),
        ):
            AttributeDefinition.objects.create(
                workspace=ws, key=key, label=key.title(), type=kind, choices=choices
            )
        ann = Contact.objects.create(
            workspace=ws,
            wa_id="4915100000001",
            phone_e164="+4915100000001",
            name="Ann Customer",
            email="ann@example.com",
            consent="opted_in",
            created_at=now - timedelta(days=100),
            last_inbound_at=now - timedelta(days=2),
            last_outbound_at=now - timedelta(days=40),
            attributes={
                "plan": "Gold Plus",
                "seats": 12,
                "renewal": (today - timedelta(days=5)).isoformat(),
                "vip": True,
                "tier": "a",
            },
        )
        bob = Contact.objects.create(
            workspace=ws,
            wa_id="15550002222",
            phone_e164="",
            profile_name="Bobby",
            consent="opted_out",
            created_at=now,
            attributes={
                "plan": "free",
                "seats": 3.5,
                "renewal": "2020-01-01",
                "vip": False,
                "tier": "b",
            },
        )
        cat = Contact.objects.create(
            workspace=ws,
            wa_id="447700900123",
            phone_e164="+447700900123",
            name="Cat",
            created_at=now - timedelta(days=10),
        )
        tags = {n: Tag.objects.create(workspace=ws, name=n).pk for n in ("VIP", "Lead", "Cold")}
        for contact, names in ((ann, ("VIP", "Lead")), (bob, ("Lead",))):
            for n in names:
                ContactTag.objects.create(workspace=ws, contact=contact, tag_id=tags[n])
        Conversation.objects.create(workspace=ws, contact=ann, channel=channel, status="open")
        Conversation.objects.create(workspace=ws, contact=bob, channel=channel, status="resolved")
    return World({"ann": ann.pk, "bob": bob.pk, "cat": cat.pk}, tags)


def seed_segment(tenant: Tenant) -> str:
    """One saved segment of the tenant's, by id (for the outsider walk)."""
    from parley.segments.models import Segment

    with workspace_context(tenant.workspace.pk):
        segment = Segment.objects.create(
            workspace=tenant.workspace, name="Outsider probe", definition={"conditions": []}
        )
    return str(segment.pk)
