"""The usage log of templates: who sent each one (a broadcast, a drip, a workflow,
an agent) and how often. Counters are upserted in one statement, so concurrent
senders add up instead of overwriting each other."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db import connection
from django.db.models import Max, Sum
from django.utils import timezone

from parley.msgtemplates.models import TemplateUsage
from parley.tenancy.actor import Actor
from parley.whatsapp.models import MessageTemplate

SOURCES = ("broadcast", "drip", "scheduled", "workflow", "agent")
SOURCE_LABELS = {
    "broadcast": "Broadcast",
    "drip": "Drip sequence",
    "scheduled": "Scheduled message",
    "workflow": "Workflow",
    "agent": "Agent (inbox)",
}

_UPSERT = (
    "INSERT INTO msgtemplates_templateusage "
    "(workspace_id, template_id, source, source_id, count, last_used_at) VALUES {rows} "
    "ON CONFLICT (workspace_id, template_id, source, source_id) DO UPDATE SET "
    "count = msgtemplates_templateusage.count + EXCLUDED.count, "
    "last_used_at = GREATEST(msgtemplates_templateusage.last_used_at, EXCLUDED.last_used_at)"
)


def record(
    *,
    workspace_id: int,
    template_id: int,
    source: str,
    source_id: int,
    count: int = 1,
    at: datetime | None = None,
) -> None:
    """Add ``count`` sends of the template by (source, source_id). Runs in the
    caller's transaction (and workspace context)."""
    record_many(workspace_id=workspace_id, rows=[(template_id, source, source_id, count)], at=at)


def record_many(
    *,
    workspace_id: int,
    rows: Iterable[tuple[int, str, int, int]],
    at: datetime | None = None,
) -> None:
    """Several counters at once: rows of (template_id, source, source_id, count).
    Duplicate keys are summed first (one statement may not update a row twice)."""
    summed: dict[tuple[int, str, int], int] = {}
    for template_id, source, source_id, count in rows:
        if count <= 0:
            continue
        key = (int(template_id), str(source)[:16], int(source_id))
        summed[key] = summed.get(key, 0) + int(count)
    if not summed:
        return
    when = at or timezone.now()
    params: list[Any] = []
    for (template_id, source, source_id), count in sorted(summed.items()):
        params += [workspace_id, template_id, source, source_id, count, when]
    placeholders = ", ".join(["(%s, %s, %s, %s, %s, %s)"] * len(summed))
    with connection.cursor() as cursor:
        cursor.execute(_UPSERT.format(rows=placeholders), params)


@dataclass(frozen=True)
class Totals:
    count: int
    last_used_at: datetime | None


def usage_of(workspace_id: int, template_id: int) -> list[TemplateUsage]:
    """The template's counters, most recently used first."""
    return list(
        TemplateUsage.objects.filter(workspace_id=workspace_id, template_id=template_id).order_by(
            "-last_used_at", "source", "source_id"
        )
    )


def totals(workspace_id: int, template_ids: Iterable[int]) -> dict[int, Totals]:
    """Sends and last use per template (for lists), in one query."""
    ids = list(template_ids)
    if not ids:
        return {}
    rows = (
        TemplateUsage.objects.filter(workspace_id=workspace_id, template_id__in=ids)
        .values("template_id")
        .annotate(total=Sum("count"), last=Max("last_used_at"))
    )
    return {
        int(r["template_id"]): Totals(count=int(r["total"] or 0), last_used_at=r["last"])
        for r in rows
    }


def record_agent_send(*, actor: Actor, channel_id: int, name: str, language: str) -> None:
    """An agent sent the template from the inbox. A template Parley has not synced
    is not counted (the send itself goes ahead)."""
    template_id = (
        MessageTemplate.objects.filter(
            workspace=actor.workspace,
            channel_id=channel_id,
            name=name,
            language=language or "en_US",
        )
        .values_list("id", flat=True)
        .first()
    )
    if template_id is None:
        return
    record(
        workspace_id=actor.workspace.pk,
        template_id=template_id,
        source="agent",
        source_id=actor.user_id or 0,
    )
