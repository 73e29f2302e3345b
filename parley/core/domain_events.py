"""Domain events: "this happened to these contacts", told in-process to the
apps that react to it (drip sequences now, automation workflows later)
without the emitting app importing them.

``emit`` runs every handler at once, inside the emitting transaction. That is
the point: a handler reacts by enqueueing a job (``parley.core.jobs.enqueue``),
and the job row then commits or rolls back with the change that caused it,
exactly like every other side effect here. Handlers must therefore be cheap
(at most a query or two, then an enqueue) and do the real work in the job:
some call sites are hot (inbound messages arrive by the thousand per second;
ingest emits once per batch, with a list).

A failing handler is logged and does not undo the caller's change: tagging a
contact must not fail because a drip sequence has a bug. Each handler runs in
a savepoint for that reason.

Events and their data (ids are of the emitting workspace):

- ``contact.created``: ``contact_ids: list[int]``
- ``contact.tagged`` / ``contact.untagged``: ``contact_ids: list[int]``, ``tag_id: int``
- ``contact.opted_out``: ``contact_ids: list[int]``
- ``message.received``: ``messages: list[ReceivedMessage]`` (one batch of inbound messages)
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.db import transaction

log = structlog.get_logger(__name__)

CONTACT_CREATED = "contact.created"
CONTACT_TAGGED = "contact.tagged"
CONTACT_UNTAGGED = "contact.untagged"
CONTACT_OPTED_OUT = "contact.opted_out"
MESSAGE_RECEIVED = "message.received"
EVENTS = frozenset(
    {CONTACT_CREATED, CONTACT_TAGGED, CONTACT_UNTAGGED, CONTACT_OPTED_OUT, MESSAGE_RECEIVED}
)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One inbound message, as ``message.received`` carries it."""

    message_id: int
    contact_id: int
    conversation_id: int
    text: str
    received_at: datetime


# handler(workspace_id, data)
Handler = Callable[[int, Mapping[str, Any]], None]

_handlers: dict[str, list[Handler]] = {}


def subscribe(event: str, handler: Handler) -> None:
    """Call ``handler`` on each ``event`` (from an AppConfig.ready). Idempotent."""
    if event not in EVENTS:
        raise ValueError(f"unknown domain event {event!r}")
    handlers = _handlers.setdefault(event, [])
    if handler not in handlers:
        handlers.append(handler)


def unsubscribe(event: str, handler: Handler) -> None:
    handlers = _handlers.get(event, [])
    if handler in handlers:
        handlers.remove(handler)


def emit(workspace_id: int, event: str, **data: Any) -> None:
    """Tell the subscribers of ``event``; a no-op (one dict lookup) without any."""
    handlers = _handlers.get(event)
    if not handlers:
        return
    for handler in handlers:
        try:
            with transaction.atomic():
                handler(workspace_id, data)
        except Exception:
            log.exception("domain_event_handler_failed", domain_event=event, handler=repr(handler))
