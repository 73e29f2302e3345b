"""Telling an item's source how it ended (a drip plans its next step)."""

from __future__ import annotations

from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.outbox import hooks
from parley.outbox.models import OutboundItem


def notify_finished(
    workspace_id: int, item_ids: list[int], sources: set[str] | None = None
) -> None:
    """Tell each item's source (a drip plans its next step). ``sources``, when
    known, spares the lookup if none of them listens (scheduled messages don't)."""
    if not item_ids:
        return
    if sources is not None and not any(hooks.on_finished_for(s) for s in sources):
        return
    with workspace_context(workspace_id):
        items = list(
            OutboundItem.objects.filter(pk__in=item_ids).values(
                "id", "source", "source_id", "contact_id", "state", "reason", "finished_at"
            )
        )
        by_source: dict[str, list[hooks.Finished]] = {}
        for i in items:
            by_source.setdefault(i["source"], []).append(
                hooks.Finished(
                    item_id=i["id"],
                    source_id=i["source_id"],
                    contact_id=i["contact_id"],
                    state=i["state"],
                    reason=i["reason"],
                    finished_at=i["finished_at"] or timezone.now(),
                )
            )
        for source, finished in by_source.items():
            handler = hooks.on_finished_for(source)
            if handler is not None:
                handler(workspace_id, finished)
