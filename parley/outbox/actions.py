"""Planning business-initiated sends, and steering them (pause, resume,
cancel, retry). Called by broadcasts, drips and scheduled messages inside
their own transactions; the dispatcher (dispatch.py) does the sending.

These take a workspace id rather than an actor: the calling action has
already checked who may do what."""

from __future__ import annotations

import json
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from django.db import connection
from django.utils import timezone

from parley.outbox.models import OutboundContent, OutboundItem

State = OutboundItem.State
# Items written per INSERT when planning from a list.
CHUNK = 5_000


def create_content(
    *,
    workspace_id: int,
    template_id: int | None = None,
    mapping: dict[str, Any] | None = None,
    text: str = "",
    fallback_template_id: int | None = None,
    fallback_mapping: dict[str, Any] | None = None,
) -> OutboundContent:
    return OutboundContent.objects.create(
        workspace_id=workspace_id,
        template_id=template_id,
        mapping=mapping or {},
        text=text,
        fallback_template_id=fallback_template_id,
        fallback_mapping=fallback_mapping or {},
    )


def plan(
    *,
    workspace_id: int,
    channel_id: int,
    content_id: int,
    source: str,
    source_id: int,
    recipients: Iterable[tuple[int, dict[str, Any]]],
    lane: int = 0,
    not_before: datetime | None = None,
    created_by_id: int | None = None,
    held: bool = False,
) -> int:
    """One item per (contact_id, per-recipient values); returns how many."""
    when = not_before or timezone.now()
    state = State.HELD if held else State.PENDING
    now = timezone.now()
    total = 0
    chunk: list[tuple[Any, ...]] = []

    def flush() -> None:
        nonlocal total
        if not chunk:
            return
        with connection.cursor() as cursor:
            cursor.execute(
                """INSERT INTO outbox_outbounditem (workspace_id, channel_id, contact_id,
                       content_id, "values", source, source_id, lane, not_before, state,
                       reason, attempts, created_by_id, created_at)
                   SELECT %s, %s, r.contact_id, %s, r.vals, %s, %s, %s, %s, %s, '', 0, %s, %s
                     FROM unnest(%s::bigint[], %s::jsonb[]) AS r(contact_id, vals)""",
                [
                    workspace_id,
                    channel_id,
                    content_id,
                    source,
                    source_id,
                    lane,
                    when,
                    state,
                    created_by_id,
                    now,
                    [c[0] for c in chunk],
                    [json.dumps(c[1]) for c in chunk],
                ],
            )
        total += len(chunk)
        chunk.clear()

    for contact_id, values in recipients:
        chunk.append((contact_id, values))
        if len(chunk) >= CHUNK:
            flush()
    flush()
    if total and not held:
        kick(workspace_id=workspace_id, channel_id=channel_id, at=when)
    return total


def plan_query(
    *,
    workspace_id: int,
    channel_id: int,
    content_id: int,
    source: str,
    source_id: int,
    contact_ids: tuple[str, Sequence[Any]],
    lane: int = 0,
    not_before: datetime | None = None,
    created_by_id: int | None = None,
    held: bool = False,
) -> int:
    """Plan one item per contact id the SQL ``contact_ids`` = (sql, params)
    selects, in one INSERT ... SELECT (a segment of a million contacts never
    passes through Python)."""
    sql, params = contact_ids
    when = not_before or timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"""INSERT INTO outbox_outbounditem (workspace_id, channel_id, contact_id,
                   content_id, "values", source, source_id, lane, not_before, state,
                   reason, attempts, created_by_id, created_at)
               SELECT %s, %s, ids.id, %s, '{{}}'::jsonb, %s, %s, %s, %s, %s, '', 0, %s, %s
                 FROM ({sql}) AS ids(id)""",
            [
                workspace_id,
                channel_id,
                content_id,
                source,
                source_id,
                lane,
                when,
                State.HELD if held else State.PENDING,
                created_by_id,
                timezone.now(),
                *params,
            ],
        )
        total = cursor.rowcount
    if total and not held:
        kick(workspace_id=workspace_id, channel_id=channel_id, at=when)
    return int(total)


def _scope(workspace_id: int, source: str, source_id: int) -> Any:
    return OutboundItem.objects.filter(
        workspace_id=workspace_id, source=source, source_id=source_id
    )


def hold(*, workspace_id: int, source: str, source_id: int) -> int:
    """Pause: queued items wait (those already in flight finish)."""
    return int(
        _scope(workspace_id, source, source_id).filter(state=State.PENDING).update(state=State.HELD)
    )


def release(
    *, workspace_id: int, source: str, source_id: int, not_before: datetime | None = None
) -> int:
    """Resume paused items. With ``not_before``, none goes out before it."""
    items = _scope(workspace_id, source, source_id).filter(state=State.HELD)
    channel_ids = set(items.values_list("channel_id", flat=True).distinct())
    changed = int(items.update(state=State.PENDING))
    if not_before is not None:
        _scope(workspace_id, source, source_id).filter(
            state=State.PENDING, not_before__lt=not_before
        ).update(not_before=not_before)
    for channel_id in channel_ids:
        kick(workspace_id=workspace_id, channel_id=channel_id, at=not_before)
    return changed


def cancel(
    *, workspace_id: int, source: str, source_id: int, item_ids: Sequence[int] | None = None
) -> int:
    """Cancel what has not gone out yet (queued or paused)."""
    items = _scope(workspace_id, source, source_id).filter(state__in=[State.PENDING, State.HELD])
    if item_ids is not None:
        items = items.filter(pk__in=item_ids)
    return int(items.update(state=State.CANCELLED, finished_at=timezone.now(), reason="Cancelled."))


def retry_failed(*, workspace_id: int, source: str, source_id: int) -> int:
    """Queue the failed items again; each gets a new message."""
    items = _scope(workspace_id, source, source_id).filter(state=State.FAILED)
    channel_ids = set(items.values_list("channel_id", flat=True).distinct())
    changed = int(
        items.update(
            state=State.PENDING,
            reason="",
            error_code=None,
            message=None,
            attempts=0,
            finished_at=None,
            not_before=timezone.now(),
        )
    )
    for channel_id in channel_ids:
        kick(workspace_id=workspace_id, channel_id=channel_id)
    return changed


def kick(*, workspace_id: int, channel_id: int, at: datetime | None = None) -> None:
    """Make sure the channel's dispatcher runs (now, or at ``at``), once.

    Enqueued in the caller's transaction, so it exists exactly when the items
    it is for do. Items due later are found by the clock (tasks.clock): a
    dispatcher queued for later would hold the channel's queueing lock and
    delay items due before it."""
    from parley.outbox.tasks import defer_dispatch

    if at is not None and (at - timezone.now()).total_seconds() > 1:
        return  # not due yet: the clock starts the dispatcher when it is
    defer_dispatch(workspace_id, channel_id)
