"""Test data for scheduled messages: a workspace in a timezone, a number, a
contact, approved templates, and DST dates computed for next year (so the
tests keep meaning the same thing whatever year they run in)."""

from __future__ import annotations

import itertools
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.scheduled.actions import What, do_schedule_message
from parley.scheduled.models import ScheduledMessage
from parley.tenancy.models import Workspace
from parley.whatsapp.models import Channel, MessageTemplate
from tests.factories import Tenant, actor_for, make_channel

_seq = itertools.count(1)

BODY = {
    "type": "BODY",
    "text": "Hi {{1}}, your appointment is on {{2}}.",
    "example": {"body_text": [["Ann", "Friday 10:00"]]},
}
MAPPING = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "static", "value": "Friday 10:00"},
}


@dataclass
class World:
    tenant: Tenant
    channel: Channel
    contact: Contact
    template: MessageTemplate


def set_zone(tenant: Tenant, name: str) -> None:
    Workspace.objects.filter(pk=tenant.workspace.pk).update(timezone=name)
    tenant.workspace.timezone = name


def make_template(
    tenant: Tenant, channel: Channel, *, name: str = "", status: str = "APPROVED"
) -> MessageTemplate:
    with workspace_context(tenant.workspace.pk):
        return MessageTemplate.objects.create(
            workspace=tenant.workspace,
            channel=channel,
            name=name or f"appointment_{next(_seq)}",
            language="en",
            category="UTILITY",
            status=status,
            components=[BODY],
        )


def make_world(tenant: Tenant, zone: str | None = "UTC", *, wa_id: str = "") -> World:
    if zone is not None:
        set_zone(tenant, zone)
    channel = make_channel(tenant)
    with workspace_context(tenant.workspace.pk):
        contact = Contact.objects.create(
            workspace=tenant.workspace,
            wa_id=wa_id or f"49151{next(_seq):07d}",
            name="Ann Customer",
        )
    return World(tenant, channel, contact, make_template(tenant, channel))


def schedule(
    world: World,
    when: datetime,
    *,
    text: str = "See you tomorrow!",
    user: Any = None,
    **what: Any,
) -> ScheduledMessage:
    tenant = world.tenant
    with workspace_context(tenant.workspace.pk):
        actor = actor_for(tenant.workspace, user or tenant.agent)
        return do_schedule_message(
            actor=actor,
            contact=world.contact,
            channel=world.channel,
            when=when,
            what=What(**({"kind": "text", "text": text} | what)),
        )


def next_year() -> int:
    return timezone.now().year + 1


def last_sunday(year: int, month: int) -> date:
    day = date(year, month + 1, 1) - timedelta(days=1) if month < 12 else date(year, 12, 31)
    return day - timedelta(days=(day.weekday() - 6) % 7)


def nth_sunday(year: int, month: int, n: int) -> date:
    first = date(year, month, 1)
    first_sunday = first + timedelta(days=(6 - first.weekday()) % 7)
    return first_sunday + timedelta(weeks=n - 1)


def at(day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute)
