"""Outbound message statuses from Meta: they may arrive late, twice or out
of order, so a status only ever moves forward."""

from __future__ import annotations

import uuid
from typing import Any

from parley.inbox.models import Message
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.models import Channel
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


def _find(channel: Channel, status: dict[str, Any]) -> Message | None:
    wamid = str(status.get("id") or "")
    message = (
        Message.objects.select_for_update()
        .filter(workspace_id=channel.workspace_id, wamid=wamid)
        .first()
    )
    if message is None and status.get("biz_opaque_callback_data"):
        # The send succeeded but the wamid was never saved (a crash between
        # Meta's answer and our commit): our idempotency key finds the row.
        try:
            key = uuid.UUID(str(status["biz_opaque_callback_data"]))
        except ValueError:
            return None
        message = (
            Message.objects.select_for_update()
            .filter(workspace_id=channel.workspace_id, idempotency_key=key, wamid__isnull=True)
            .first()
        )
        if message is not None:
            message.wamid = wamid
            message.save(update_fields=["wamid"])
    return message


def apply_status(channel: Channel, status: dict[str, Any]) -> bool:
    """Apply one status object; True when it changed a message."""
    new = str(status.get("status") or "")
    if new not in (*TIME_FIELD, Message.Status.FAILED):
        return False
    message = _find(channel, status)
    if message is None or not may_move(message.status, new):
        return False
    at = timestamp(status.get("timestamp"))
    fields = ["status"]
    message.status = new
    if new == Message.Status.FAILED:
        errors = status.get("errors") or [{}]
        first = errors[0] if isinstance(errors[0], dict) else {}
        code = first.get("code") if isinstance(first.get("code"), int) else None
        detail = str((first.get("error_data") or {}).get("details") or first.get("title") or "")
        message.error_code = code
        message.error_reason = CloudApiError(message=detail, code=code).reason[:500]
        fields += ["error_code", "error_reason"]
    else:
        # Fill the skipped steps too (a "read" implies "delivered" and "sent").
        for step, name in TIME_FIELD.items():
            if RANK[step] <= RANK[Message.Status(new)] and getattr(message, name) is None:
                setattr(message, name, at)
                fields.append(name)
    message.save(update_fields=fields)
    return True
