"""What scheduled messages add to the contact page: a panel with the
contact's upcoming ones and a quick "schedule a message" form, and timeline
entries (scheduled, sent, failed, skipped, cancelled)."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from django.utils import timezone

from parley.crm.models import Contact
from parley.crm.panels import ContactPanel
from parley.crm.timeline import TimelineEntry
from parley.inbox.models import Conversation
from parley.inbox.window import WINDOW
from parley.scheduled import access, display
from parley.scheduled import when as when_
from parley.scheduled.models import Kind, ScheduledMessage
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import Cap

PANEL_LIMIT = 10


def contact_panel_context(actor: Actor, contact: Contact) -> dict[str, Any]:
    if not actor.can(Cap.CONVERSATIONS_READ):
        return {"hidden": True}
    upcoming = list(
        access.scheduled_list(actor, status="upcoming", contact_id=contact.pk)
        .select_related(*access.RELATED)
        .order_by("send_at", "id")[:PANEL_LIMIT]
    )
    can_work = actor.can(Cap.CONVERSATIONS_WORK)
    context: dict[str, Any] = {
        "rows": display.rows(upcoming, actor.workspace.timezone),
        "can_work": can_work,
        "zone": when_.zone_summary(actor.workspace.timezone),
    }
    if can_work:
        channels = access.active_channels(actor)
        last_inbound = (
            Conversation.objects.filter(workspace=actor.workspace, contact=contact)
            .order_by("-last_inbound_at")
            .values_list("last_inbound_at", flat=True)
            .first()
        )
        now = timezone.now()
        closes = last_inbound + WINDOW if last_inbound is not None else None
        start = now + timedelta(hours=1)
        context.update(
            {
                "channels": channels,
                "default_time": display.local_input(
                    start.replace(minute=0, second=0, microsecond=0), actor.workspace.timezone
                ),
                "window_closes": (
                    when_.label(closes, when_.zone(actor.workspace.timezone))
                    if closes is not None and closes > now
                    else ""
                ),
            }
        )
    return context


CONTACT_PANEL = ContactPanel(
    name="scheduled", order=25, template="scheduled/_panel.html", context=contact_panel_context
)


def _what(s: ScheduledMessage) -> str:
    if s.kind == Kind.TEMPLATE:
        return f"Template {display.template_label(s.content.template)}"
    return s.content.text[:300]


def timeline_source(
    *, workspace_id: int, contact_id: int, before: datetime | None = None, limit: int = 50
) -> list[TimelineEntry]:
    """Scheduling and what became of it are two entries."""
    base = ScheduledMessage.objects.filter(workspace_id=workspace_id, contact_id=contact_id)
    created = base
    finished = base.filter(item__finished_at__isnull=False)
    if before is not None:
        created = created.filter(created_at__lt=before)
        finished = finished.filter(item__finished_at__lt=before)
    related = ("created_by", "item", "content", "content__template")
    created_rows = list(created.select_related(*related).order_by("-created_at", "-id")[:limit])
    finished_rows = list(
        finished.select_related(*related).order_by("-item__finished_at", "-id")[:limit]
    )
    if not created_rows and not finished_rows:
        return []
    tz = when_.zone(Workspace.objects.values_list("timezone", flat=True).get(pk=workspace_id))
    entries = [
        TimelineEntry(
            at=s.created_at,
            kind="scheduled",
            title=f"Message scheduled for {when_.label(s.send_at, tz)}",
            body=_what(s),
            actor=s.created_by.display_name if s.created_by is not None else "",
            url=f"scheduled/{s.pk}/",
        )
        for s in created_rows
    ]
    titles = {
        "sent": "Scheduled message sent",
        "failed": "Scheduled message failed",
        "skipped": "Scheduled message skipped",
        "cancelled": "Scheduled message cancelled",
    }
    for s in finished_rows:
        item = s.item
        if item is None or item.finished_at is None or item.state not in titles:
            continue
        detail = item.reason if item.state in ("failed", "skipped") else _what(s)
        entries.append(
            TimelineEntry(
                at=item.finished_at,
                kind="scheduled",
                title=titles[item.state],
                body=detail,
                url=f"scheduled/{s.pk}/",
            )
        )
    entries.sort(key=lambda e: e.at, reverse=True)
    return entries[:limit]
