"""Outbound message statuses from Meta: they may arrive late, twice or out
of order, so a status only ever moves forward."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any

from django.db import connection

from parley.core import domain_events
from parley.core.bulk import array_literal, int_array
from parley.inbox.models import Message
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.payloads import timestamp

RANK = {
    Message.Status.QUEUED: 0,
    Message.Status.SENDING: 1,
    Message.Status.SENT: 2,
    Message.Status.DELIVERED: 3,
    Message.Status.READ: 4,
}
TIME_FIELD = {
    Message.Status.SENT: "sent_at",
    Message.Status.DELIVERED: "delivered_at",
    Message.Status.READ: "read_at",
}


def may_move(current: str, new: str) -> bool:
    if current == Message.Status.FAILED:
        return False
    if new == Message.Status.FAILED:
        # A failure after delivery would be a contradiction: keep the delivery.
        return RANK.get(Message.Status(current), 0) < RANK[Message.Status.DELIVERED]
    return RANK.get(Message.Status(new), -1) > RANK.get(Message.Status(current), 99)


@dataclass(slots=True)
class _Target:
    """A message a batch of statuses moves, as the batch sees it."""

    id: int
    conversation_id: int
    status: str
    # Set when the message had no wamid and the idempotency key found it.
    wamid: str | None = None
    # Unix times for the timestamps still empty in the row (the UPDATE keeps
    # one already there).
    times: dict[str, float] = field(default_factory=dict)
    error_code: int | None = None
    error_reason: str = ""


def apply_statuses(workspace_id: int, statuses: list[dict[str, Any]]) -> int:
    """Apply a batch of status objects (in arrival order); returns how many
    changed a message. One locking SELECT and one UPDATE, both on plain rows:
    a broadcast's statuses arrive by the thousand a second, and building
    model instances and quoting each id cost several times the statements."""
    wanted = [
        s
        for s in statuses
        if str(s.get("status") or "") in (*TIME_FIELD, Message.Status.FAILED)
        # PostgreSQL's text cannot hold NUL, so no message has such a wamid.
        and "\x00" not in str(s.get("id") or "")
    ]
    if not wanted:
        return 0
    wamids = {str(s.get("id") or "") for s in wanted}
    # A crash (or a slow write-back) between Meta's answer and our commit
    # leaves a row without its wamid: the idempotency key Meta echoes back
    # finds it.
    keys: dict[str, str] = {}
    for status in wanted:
        if status.get("biz_opaque_callback_data"):
            try:
                key = uuid.UUID(str(status["biz_opaque_callback_data"]))
            except ValueError:
                continue
            keys[str(key)] = str(status.get("id") or "")
    by_key = ""
    if keys:
        by_key = " OR (wamid IS NULL AND idempotency_key = ANY(%s::uuid[]))"
    # Rows locked in id order: the outbox's write-back locks the same
    # messages in that order too (a different order deadlocked).
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT id, conversation_id, status, wamid, idempotency_key::text FROM inbox_message "
            f"WHERE workspace_id = %s AND (wamid = ANY(%s::text[]){by_key}) ORDER BY id FOR UPDATE",
            [workspace_id, array_literal(sorted(wamids)), *([array_literal(keys)] if keys else [])],
        )
        rows = cursor.fetchall()
    by_wamid: dict[str, _Target] = {}
    for pk, conversation_id, current, wamid, key in rows:
        row = _Target(id=pk, conversation_id=conversation_id, status=current)
        if wamid is None:
            wamid = row.wamid = keys[key]
        by_wamid.setdefault(wamid, row)
    changed: dict[int, _Target] = {}
    for status in wanted:
        target = by_wamid.get(str(status.get("id") or ""))
        if target is not None and _apply(target, status):
            changed[target.id] = target
    if changed:
        _write(list(changed.values()))
        emit_changes(
            workspace_id,
            [
                domain_events.StatusChange(
                    message_id=t.id,
                    conversation_id=t.conversation_id,
                    status=t.status,
                    error_code=t.error_code,
                )
                for t in changed.values()
            ],
        )
    return len(changed)


def _write(targets: list[_Target]) -> None:
    """One UPDATE for the batch. A timestamp is only filled, never replaced;
    the error columns change only with a failure."""
    failed = Message.Status.FAILED.value
    with connection.cursor() as cursor:
        cursor.execute(
            "UPDATE inbox_message AS t SET status = v.status,"
            " wamid = COALESCE(t.wamid, v.wamid),"
            " sent_at = COALESCE(t.sent_at, to_timestamp(v.sent_at)),"
            " delivered_at = COALESCE(t.delivered_at, to_timestamp(v.delivered_at)),"
            " read_at = COALESCE(t.read_at, to_timestamp(v.read_at)),"
            f" error_code = CASE WHEN v.status = '{failed}' THEN v.error_code"
            " ELSE t.error_code END,"
            f" error_reason = CASE WHEN v.status = '{failed}' THEN v.error_reason"
            " ELSE t.error_reason END"
            " FROM unnest(%s::bigint[], %s::text[], %s::text[], %s::float8[], %s::float8[],"
            " %s::float8[], %s::int[], %s::text[])"
            " AS v(id, status, wamid, sent_at, delivered_at, read_at, error_code, error_reason)"
            " WHERE t.id = v.id",
            [
                int_array(t.id for t in targets),
                array_literal(t.status for t in targets),
                array_literal(t.wamid for t in targets),
                *(
                    array_literal(t.times.get(name) for t in targets)
                    for name in ("sent_at", "delivered_at", "read_at")
                ),
                array_literal(t.error_code for t in targets),
                array_literal(t.error_reason for t in targets),
            ],
        )


def emit_status_changes(workspace_id: int, messages: list[Message]) -> None:
    """Tell subscribers (webhooks, workflows) which messages moved on, in one call."""
    emit_changes(
        workspace_id,
        [
            domain_events.StatusChange(
                message_id=m.pk,
                conversation_id=m.conversation_id,
                status=m.status,
                error_code=m.error_code,
            )
            for m in messages
        ],
    )


def emit_changes(workspace_id: int, changes: list[domain_events.StatusChange]) -> None:
    domain_events.emit(workspace_id, domain_events.MESSAGE_STATUS_CHANGED, statuses=changes)


def _apply(target: _Target, status: dict[str, Any]) -> bool:
    new = str(status.get("status") or "")
    if not may_move(target.status, new):
        return False
    target.status = new
    if new == Message.Status.FAILED:
        errors = status.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), int) else None
        detail = str((first.get("error_data") or {}).get("details") or first.get("title") or "")
        target.error_code = code
        target.error_reason = (
            CloudApiError(message=detail, code=code).reason[:500].replace("\x00", "")
        )
    else:
        # Fill the skipped steps too (a "read" implies "delivered" and "sent");
        # the first status of the batch to reach a step gives its time.
        at = timestamp(status.get("timestamp")).timestamp()
        for step, name in TIME_FIELD.items():
            if RANK[step] <= RANK[Message.Status(new)]:
                target.times.setdefault(name, at)
    return True
