"""Domain-event handlers on the inbound hot path: each does at most one query
of its own and one enqueue; the work happens in routing.tasks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.core import domain_events, interest
from parley.core.jobs import enqueue
from parley.routing.hours import schedule
from parley.routing.models import ChannelRouting


def _assigns(workspace_id: int) -> bool:
    return (
        ChannelRouting.objects.filter(workspace_id=workspace_id)
        .exclude(mode=ChannelRouting.Mode.NONE)
        .exists()
    )


def on_conversation_opened(workspace_id: int, data: Mapping[str, Any]) -> None:
    from parley.routing.tasks import assign_new

    ids = [int(i) for i in data.get("conversation_ids") or []]
    if not ids:
        return
    # Does any channel here assign automatically (cached until routing
    # settings change: core/interest)? The job sorts out which conversations
    # are on such a channel and unassigned.
    if not interest.cached(workspace_id, "routing", lambda: _assigns(workspace_id)):
        return
    enqueue(assign_new, workspace_id=workspace_id, conversation_ids=ids)


def on_message_received(workspace_id: int, data: Mapping[str, Any]) -> None:
    from parley.routing.tasks import away_reply

    messages: list[domain_events.ReceivedMessage] = list(data.get("messages") or [])
    if not messages:
        return
    # Cached until the hours or the workspace's zone change (core/interest).
    plan = interest.cached(workspace_id, "hours", lambda: schedule(workspace_id))
    if not (plan.enabled and plan.away_enabled):
        return
    # Judged at the newest message's time: a late redelivery of a message
    # written during opening hours sends nothing.
    at = max(m.received_at for m in messages)
    if plan.is_open(at):
        return
    ids = sorted({m.conversation_id for m in messages if m.type != "reaction"})
    if ids:
        enqueue(away_reply, workspace_id=workspace_id, conversation_ids=ids, at=at.isoformat())


def subscribe() -> None:
    domain_events.subscribe(domain_events.CONVERSATION_OPENED, on_conversation_opened)
    domain_events.subscribe(domain_events.MESSAGE_RECEIVED, on_message_received)
