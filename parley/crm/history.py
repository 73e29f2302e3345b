"""The contact's own history (tags, attributes, consent, edits, merges) and
its contribution to the contact timeline."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.utils import timezone

from parley.crm.models import ContactEvent
from parley.crm.timeline import TimelineEntry


def record(
    *,
    workspace_id: int,
    contact_id: int,
    kind: str,
    summary: str,
    actor_id: int | None,
    **data: Any,
) -> None:
    ContactEvent.objects.create(
        workspace_id=workspace_id,
        contact_id=contact_id,
        kind=kind,
        summary=summary[:300],
        actor_id=actor_id,
        data=data,
    )


def record_many(
    *,
    workspace_id: int,
    contact_ids: list[int],
    kind: str,
    summary: str,
    actor_id: int | None,
    **data: Any,
) -> None:
    """One INSERT for a bulk change (tagging thousands of contacts at once)."""
    now = timezone.now()
    ContactEvent.objects.bulk_create(
        [
            ContactEvent(
                workspace_id=workspace_id,
                contact_id=cid,
                kind=kind,
                summary=summary[:300],
                actor_id=actor_id,
                data=data,
                at=now,
            )
            for cid in contact_ids
        ],
        batch_size=2000,
    )


def timeline_source(
    *, workspace_id: int, contact_id: int, before: datetime | None, limit: int
) -> list[TimelineEntry]:
    rows = ContactEvent.objects.filter(workspace_id=workspace_id, contact_id=contact_id)
    if before is not None:
        rows = rows.filter(at__lt=before)
    return [
        TimelineEntry(
            at=e.at,
            kind=e.kind,
            title=e.summary,
            actor=e.actor.display_name if e.actor else "",
        )
        for e in rows.select_related("actor").order_by("-at")[:limit]
    ]
