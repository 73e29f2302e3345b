"""The notes panel on the contact page and the notes timeline source,
registered with crm from NotesConfig.ready (crm never imports notes)."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from parley.crm.models import Contact
from parley.crm.panels import ContactPanel
from parley.crm.panels import register as register_panel
from parley.crm.timeline import TimelineEntry
from parley.crm.timeline import register as register_timeline
from parley.notes.access import contact_notes
from parley.notes.actions import can_change
from parley.notes.models import BODY_MAX, ContactNote
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

PANEL_NOTES = 20


def panel_context(actor: Actor, contact: Contact) -> dict[str, Any]:
    """What notes/_panel.html needs: the newest notes (pinned first) and
    what this actor may do with each."""
    rows = list(contact_notes(actor, contact.pk)[: PANEL_NOTES + 1])
    more = len(rows) > PANEL_NOTES
    rows = rows[:PANEL_NOTES]
    for note in rows:
        note.changeable = can_change(actor, note)  # type: ignore[attr-defined]
    return {
        "notes": rows,
        "notes_more": more,
        "notes_can_write": actor.can(Cap.CONTACTS_WRITE),
        "body_max": BODY_MAX,
    }


def timeline_source(
    *, workspace_id: int, contact_id: int, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    qs = ContactNote.objects.filter(workspace_id=workspace_id, contact_id=contact_id)
    if before is not None:
        qs = qs.filter(created_at__lt=before)
    entries = []
    for note in qs.select_related("author").order_by("-created_at", "-id")[:limit]:
        body = note.body if len(note.body) <= 300 else note.body[:299] + "…"
        entries.append(
            TimelineEntry(
                at=note.created_at,
                kind="note",
                title=f"{note.author_name} added a{' pinned' if note.pinned else ''} note",
                body=body,
                actor=note.author_name,
                url=f"#note-{note.pk}",
            )
        )
    return entries


def register() -> None:
    register_panel(
        ContactPanel(name="notes", order=20, template="notes/_panel.html", context=panel_context)
    )
    register_timeline("notes", timeline_source)
