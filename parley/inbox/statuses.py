"""Outbound message statuses from Meta: they may arrive late, twice or out
of order, so a status only ever moves forward."""

from __future__ import annotations

import uuid
from typing import Any

from django.db.models import Q

from parley.core import domain_events
from parley.core.bulk import update_rows
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

# What applying a status reads and writes: not the payload or the text (a
# broadcast's statuses arrive by the thousand a second, and decoding every
# message's payload to change its status cost more than the update).
LOADED = (
    "id",
    "workspace_id",
    "conversation_id",
    "wamid",
    "idempotency_key",
    "status",
    "error_code",
    "error_reason",
    "sent_at",
    "delivered_at",
    "read_at",
)


def may_move(current: str, new: str) -> bool:
    if current == Message.Status.FAILED:
        return False
    if new == Message.Status.FAILED:
        # A failure after delivery would be a contradiction: keep the delivery.
        return RANK.get(Message.Status(current), 0) < RANK[Message.Status.DELIVERED]
    return RANK.get(Message.Status(new), -1) > RANK.get(Message.Status(current), 99)


def apply_statuses(workspace_id: int, statuses: list[dict[str, Any]]) -> int:
    """Apply a batch of status objects (in arrival order); returns how many
    changed a message. Two queries for the lookup, one bulk update."""
    wanted = [
        s for s in statuses if str(s.get("status") or "") in (*TIME_FIELD, Message.Status.FAILED)
    ]
    if not wanted:
        return 0
    wamids = {str(s.get("id") or "") for s in wanted}
    # A crash (or a slow write-back) between Meta's answer and our commit
    # leaves a row without its wamid: the idempotency key Meta echoes back
    # finds it.
    keys: dict[uuid.UUID, str] = {}
    for status in wanted:
        if status.get("biz_opaque_callback_data"):
            try:
                keys[uuid.UUID(str(status["biz_opaque_callback_data"]))] = str(
                    status.get("id") or ""
                )
            except ValueError:
                continue
    found = Q(wamid__in=wamids)
    if keys:
        found |= Q(idempotency_key__in=keys, wamid__isnull=True)
    # One statement, rows locked in id order: the outbox's write-back locks
    # the same messages in that order too (a different order deadlocked).
    by_wamid: dict[str, Message] = {}
    for message in (
        Message.objects.select_for_update()
        .filter(found, workspace_id=workspace_id)
        .order_by("id")
        .only(*LOADED)
    ):
        if message.wamid is None:
            message.wamid = keys[message.idempotency_key]
        by_wamid.setdefault(message.wamid, message)
    changed: dict[int, Message] = {}
    for status in wanted:
        target = by_wamid.get(str(status.get("id") or ""))
        if target is not None and _apply(target, status):
            changed[target.pk] = target
    if changed:
        update_rows(
            list(changed.values()),
            ["wamid", "status", "error_code", "error_reason", "sent_at", "delivered_at", "read_at"],
        )
        emit_status_changes(workspace_id, list(changed.values()))
    return len(changed)


def emit_status_changes(workspace_id: int, messages: list[Message]) -> None:
    """Tell subscribers (webhooks, workflows) which messages moved on, in one call."""
    domain_events.emit(
        workspace_id,
        domain_events.MESSAGE_STATUS_CHANGED,
        statuses=[
            domain_events.StatusChange(
                message_id=m.pk,
                conversation_id=m.conversation_id,
                status=m.status,
                error_code=m.error_code,
            )
            for m in messages
        ],
    )


def _apply(message: Message, status: dict[str, Any]) -> bool:
    new = str(status.get("status") or "")
    if not may_move(message.status, new):
        return False
    at = timestamp(status.get("timestamp"))
    message.status = new
    if new == Message.Status.FAILED:
        errors = status.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), int) else None
        detail = str((first.get("error_data") or {}).get("details") or first.get("title") or "")
        message.error_code = code
        message.error_reason = CloudApiError(message=detail, code=code).reason[:500]
    else:
        # Fill the skipped steps too (a "read" implies "delivered" and "sent").
        for step, name in TIME_FIELD.items():
            if RANK[step] <= RANK[Message.Status(new)] and getattr(message, name) is None:
                setattr(message, name, at)
    return True
