"""The recipients of a broadcast as a streamed CSV: every row, whatever the
size, without building the file in memory."""

from __future__ import annotations

import csv
from collections.abc import Iterator
from datetime import datetime
from typing import Any

from django.http import StreamingHttpResponse
from django.utils.text import slugify

from parley.broadcasts.access import recipients
from parley.broadcasts.models import Broadcast
from parley.core.tenant import workspace_context
from parley.outbox.models import OutboundItem
from parley.tenancy.actor import Actor

HEADER = [
    "contact_id",
    "name",
    "phone",
    "state",
    "message_status",
    "reason",
    "error_code",
    "queued_for",
    "finished_at",
    "sent_at",
    "delivered_at",
    "read_at",
    "replied",
]
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
CHUNK = 2_000


class _Echo:
    def write(self, value: str) -> str:
        return value


def _cell(value: Any, *, phone: bool = False) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "yes" if value else "no"
    text = str(value)
    # A spreadsheet would run "=..." as a formula; phone numbers keep their "+".
    if text.startswith(FORMULA_START) and not phone:
        return "'" + text
    return text


# The outbox's states by the names people (and the recipient filters) use.
STATE_NAMES: dict[str, str] = {"pending": "queued", "held": "paused"}


def state_label(item: OutboundItem) -> str:
    """queued, paused, sending, sent, failed (before or after Meta accepted
    it), skipped or cancelled."""
    message = item.message
    if item.state == OutboundItem.State.SENT and message is not None and message.status == "failed":
        return "failed"
    state = str(item.state)
    return STATE_NAMES.get(state, state)


def failure_reason(item: OutboundItem) -> str:
    message = item.message
    if item.reason:
        return item.reason
    if message is not None and message.status == "failed":
        return message.error_reason
    return ""


def replied(item: OutboundItem) -> bool:
    contact = item.contact
    return bool(
        item.state == OutboundItem.State.SENT
        and item.finished_at is not None
        and contact.last_inbound_at is not None
        and contact.last_inbound_at > item.finished_at
    )


def row(item: OutboundItem) -> list[str]:
    contact = item.contact
    message = item.message
    return [
        _cell(contact.pk),
        _cell(contact.name or contact.profile_name),
        _cell(contact.phone_e164 or f"+{contact.wa_id}", phone=True),
        _cell(state_label(item)),
        _cell(message.status if message is not None else ""),
        _cell(failure_reason(item)),
        _cell(item.error_code or (message.error_code if message is not None else None)),
        _cell(item.not_before),
        _cell(item.finished_at),
        _cell(message.sent_at if message is not None else None),
        _cell(message.delivered_at if message is not None else None),
        _cell(message.read_at if message is not None else None),
        _cell(replied(item)),
    ]


def _lines(actor: Actor, broadcast: Broadcast, state: str | None) -> Iterator[str]:
    writer = csv.writer(_Echo())
    # A BOM, so spreadsheet programs read the file as UTF-8.
    yield "\ufeff" + writer.writerow(HEADER)
    after = 0
    while True:
        # The response streams after the request's transaction ended: each
        # chunk is read in its own short transaction, in the workspace.
        with workspace_context(actor.workspace.pk):
            rows = list(recipients(actor, broadcast, state=state).filter(id__gt=after)[:CHUNK])
            lines = [writer.writerow(row(item)) for item in rows]
        yield "".join(lines)
        if len(rows) < CHUNK:
            return
        after = rows[-1].pk


def csv_response(actor: Actor, broadcast: Broadcast, *, state: str | None = None) -> Any:
    if state:
        # Invalid filters fail now, as a 400, not halfway through the download.
        recipients(actor, broadcast, state=state)
    response = StreamingHttpResponse(_lines(actor, broadcast, state), content_type="text/csv")
    name = slugify(broadcast.name) or f"broadcast-{broadcast.pk}"
    suffix = f"-{state}" if state else ""
    response["Content-Disposition"] = f'attachment; filename="{name}-recipients{suffix}.csv"'
    return response
