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
contact must not fail because a drip sequence has a bug. Handlers run in a
savepoint for that reason (see ``_dispatch``).

Events and their data (ids are of the emitting workspace):

- ``contact.created``: ``contact_ids: list[int]``
- ``contact.updated``: ``contact_ids: list[int]``, ``fields: list[str]`` (the changed
  fields; a custom attribute is ``"attributes.<key>"``)
- ``contact.tagged`` / ``contact.untagged``: ``contact_ids: list[int]``, ``tag_id: int``
- ``contact.opted_out``: ``contact_ids: list[int]``
- ``message.received``: ``messages: list[ReceivedMessage]`` (one batch of inbound messages)
- ``message.status_changed``: ``statuses: list[StatusChange]`` (one batch)
- ``conversation.opened``: ``conversation_ids: list[int]`` (new, or reopened after resolve)
- ``conversation.assigned``: ``conversation_ids: list[int]``, ``user_id: int | None``,
  ``team_id: int | None``
- ``conversation.resolved``: ``conversation_ids: list[int]``
- ``deal.changed``: ``deal_ids: list[int]``, ``created: bool``
- ``broadcast.finished``: ``broadcast_id: int``
- ``workflow.failed``: ``workflow_id: int``, ``execution_id: int``, ``error: str``
"""

from __future__ import annotations

import contextlib
import contextvars
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import structlog
from django.db import transaction

from parley.core import interest

log = structlog.get_logger(__name__)

CONTACT_CREATED = "contact.created"
CONTACT_UPDATED = "contact.updated"
CONTACT_TAGGED = "contact.tagged"
CONTACT_UNTAGGED = "contact.untagged"
CONTACT_OPTED_OUT = "contact.opted_out"
MESSAGE_RECEIVED = "message.received"
MESSAGE_STATUS_CHANGED = "message.status_changed"
CONVERSATION_OPENED = "conversation.opened"
CONVERSATION_ASSIGNED = "conversation.assigned"
CONVERSATION_RESOLVED = "conversation.resolved"
DEAL_CHANGED = "deal.changed"
BROADCAST_FINISHED = "broadcast.finished"
WORKFLOW_FAILED = "workflow.failed"
EVENTS = frozenset(
    {
        CONTACT_CREATED,
        CONTACT_UPDATED,
        CONTACT_TAGGED,
        CONTACT_UNTAGGED,
        CONTACT_OPTED_OUT,
        MESSAGE_RECEIVED,
        MESSAGE_STATUS_CHANGED,
        CONVERSATION_OPENED,
        CONVERSATION_ASSIGNED,
        CONVERSATION_RESOLVED,
        DEAL_CHANGED,
        BROADCAST_FINISHED,
        WORKFLOW_FAILED,
    }
)


@dataclass(frozen=True, slots=True)
class ReceivedMessage:
    """One inbound message, as ``message.received`` carries it."""

    message_id: int
    contact_id: int
    conversation_id: int
    text: str
    received_at: datetime
    channel_id: int = 0
    type: str = "text"
    # The id of the button or list row a customer tapped ("" for anything else).
    reply_id: str = ""
    # True when this message opened a new conversation (its first message).
    first: bool = False
    # The contact's custom attributes as the batch read them (None: not
    # passed; a subscriber that needs them reads them).
    contact_attributes: Mapping[str, Any] | None = None


@dataclass(frozen=True, slots=True)
class StatusChange:
    """One outbound message's status moving forward, as ``message.status_changed`` carries it."""

    message_id: int
    conversation_id: int
    status: str
    error_code: int | None = None


# handler(workspace_id, data)
Handler = Callable[[int, Mapping[str, Any]], None]

_handlers: dict[str, list[Handler]] = {}
# Events waiting for the end of a ``batched()`` block, when inside one.
_pending: contextvars.ContextVar[list[tuple[int, str, Mapping[str, Any]]] | None] = (
    contextvars.ContextVar("parley_domain_events_pending", default=None)
)


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
    """Tell the subscribers of ``event``; a no-op (one dict lookup) without any.
    Inside ``batched()`` the telling waits for the end of the block."""
    if not _handlers.get(event):
        return
    pending = _pending.get()
    if pending is not None:
        pending.append((workspace_id, event, data))
        return
    _dispatch([(workspace_id, event, data)])


class HandlerError(Exception):
    """A handler failed in a telling without a savepoint (``batched(savepoint=
    False)``). The caller's transaction holds part of the handlers' work, or
    is aborted: the caller rolls it back and redoes its batch with a savepoint."""


@contextlib.contextmanager
def batched(*, savepoint: bool = True) -> Iterator[None]:
    """Collect the events emitted inside and tell them all at the end, in one
    savepoint (an ingest batch emits four or five kinds of event; each
    savepoint is two round trips on the hottest path). Handlers only enqueue
    work, so telling them a few statements later changes nothing they see.

    ``savepoint=False`` saves those two round trips too, for a caller that can
    redo its whole batch: a failing handler then raises ``HandlerError``
    out of the block instead of being set apart."""
    if _pending.get() is not None:
        yield  # joins the outer batch
        return
    token = _pending.set([])
    try:
        yield
        events = _pending.get() or []
    finally:
        _pending.reset(token)
    if events:
        _dispatch(events, savepoint=savepoint)


MAX_ROUNDS = 10
# Work handlers asked to do once, when every event of the telling is told.
_at_end: contextvars.ContextVar[list[Callable[[], None]] | None] = contextvars.ContextVar(
    "parley_domain_events_at_end", default=None
)


def at_end(fn: Callable[[], None]) -> None:
    """Run ``fn`` once after the handlers of the events being told (so that a
    subscriber hearing several events of one batch can enqueue one job for
    all of them); outside a telling, now."""
    hooks = _at_end.get()
    if hooks is None:
        fn()
    elif fn not in hooks:
        hooks.append(fn)


def _dispatch(events: list[tuple[int, str, Mapping[str, Any]]], *, savepoint: bool = True) -> None:
    """Run the handlers of ``events`` in one savepoint (two round trips in all,
    and one read of each workspace's interest version). Events the handlers
    emit themselves (a rule tagging a contact) are told in the same savepoint,
    after the current ones. If a handler fails, the savepoint is rolled back
    and every handler runs again one by one, each in its own, skipping the
    failing one: the others' work still commits. Without the savepoint, a
    failure is the caller's to undo (``HandlerError``)."""
    token, end_token = _pending.set([]), _at_end.set([])
    try:
        with interest.scope(), transaction.atomic() if savepoint else contextlib.nullcontext():
            _tell(events)
        return
    except Exception as exc:
        if not savepoint:
            log.warning("domain_event_handlers_failed_batch_redone", count=len(events))
            raise HandlerError(str(exc)) from exc
        log.warning("domain_event_handlers_retried_one_by_one", count=len(events))
    finally:
        _pending.reset(token)
        _at_end.reset(end_token)
    _one_by_one(events)


def _tell(events: list[tuple[int, str, Mapping[str, Any]]]) -> None:
    queue = events
    for _round in range(MAX_ROUNDS):
        for workspace_id, event, data in queue:
            for handler in _handlers.get(event, ()):
                handler(workspace_id, data)
        queue = _take(_pending)
        if not queue:
            for hook in _take(_at_end):
                hook()
            queue = _take(_pending)
        if not queue:
            return
    log.warning("domain_events_chain_cut", rounds=MAX_ROUNDS)


def _take(var: contextvars.ContextVar[list[Any] | None]) -> list[Any]:
    taken = var.get() or []
    var.set([])
    return taken


def _one_by_one(events: list[tuple[int, str, Mapping[str, Any]]]) -> None:
    # Outside any batch here: events the handlers emit are told at once.
    for workspace_id, event, data in events:
        for handler in _handlers.get(event, ()):
            try:
                with interest.scope(), transaction.atomic():
                    handler(workspace_id, data)
            except Exception:
                log.exception(
                    "domain_event_handler_failed", domain_event=event, handler=repr(handler)
                )
