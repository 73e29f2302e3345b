"""Deal history as sentences people read (page, contact timeline)."""

from __future__ import annotations

from parley.deals.models import DealEvent


def describe(event: DealEvent) -> str:
    """One sentence for a history entry (the actor is shown beside it)."""
    data = event.data or {}
    kind = event.kind
    if kind == DealEvent.Kind.CREATED:
        return f"created the deal in {data.get('stage', '?')} ({data.get('value', '')})"
    if kind == DealEvent.Kind.STAGE_CHANGED:
        return f"moved it from {data.get('from', '?')} to {data.get('to', '?')}"
    if kind == DealEvent.Kind.VALUE_CHANGED:
        return f"changed the value from {data.get('from', '?')} to {data.get('to', '?')}"
    if kind == DealEvent.Kind.OWNER_CHANGED:
        return f"changed the owner from {data.get('from', '?')} to {data.get('to', '?')}"
    if kind == DealEvent.Kind.WON:
        return f"marked it won ({data.get('value', '')})"
    if kind == DealEvent.Kind.LOST:
        return f"marked it lost: {data.get('reason', '')}"
    if kind == DealEvent.Kind.REOPENED:
        return f"reopened it (was {data.get('from', '?')})"
    if kind == DealEvent.Kind.EDITED:
        return "edited " + ", ".join(str(f) for f in data.get("fields", []))
    return str(event.get_kind_display())
