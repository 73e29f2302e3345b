"""The broadcasts API. Thin: access checks here, rules in actions."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest
from ninja import File, Router, Status
from ninja.files import UploadedFile

from parley.broadcasts import access, actions, exports
from parley.broadcasts.models import Broadcast
from parley.broadcasts.schemas import (
    BroadcastIn,
    BroadcastOut,
    BroadcastPage,
    BroadcastUpdateIn,
    RecipientPage,
    RescheduleIn,
    RetryOut,
    StartIn,
)
from parley.core.errors import ActionError
from parley.core.pagination import decode_cursor, encode_cursor, paginate
from parley.outbox.models import OutboundItem
from parley.outbox.stats import Progress
from parley.tenancy.actor import Actor, actor_of

router = Router(tags=["broadcasts"])

FIELDS = [f for f in BroadcastOut.model_fields if f != "progress"]


def broadcast_out(broadcast: Broadcast, progress: Progress | None) -> dict[str, Any]:
    out = {f: getattr(broadcast, f) for f in FIELDS}
    out["progress"] = progress.as_dict() if progress is not None else None
    return out


def _one(actor: Actor, broadcast: Broadcast) -> dict[str, Any]:
    progress = None if broadcast.is_draft else access.progress_of(actor, [broadcast])[broadcast.pk]
    return broadcast_out(broadcast, progress)


def recipient_out(item: OutboundItem) -> dict[str, Any]:
    contact, message = item.contact, item.message
    return {
        "id": item.pk,
        "contact_id": contact.pk,
        "name": contact.display_name,
        "phone": contact.phone_e164 or f"+{contact.wa_id}",
        "state": exports.state_label(item),
        "message_status": message.status if message is not None else None,
        "reason": exports.failure_reason(item),
        "error_code": item.error_code or (message.error_code if message is not None else None),
        "values": item.values,
        "queued_for": item.not_before,
        "finished_at": item.finished_at,
        "sent_at": message.sent_at if message is not None else None,
        "delivered_at": message.delivered_at if message is not None else None,
        "read_at": message.read_at if message is not None else None,
        "replied": exports.replied(item),
    }


@router.get("/broadcasts", response=BroadcastPage, summary="List broadcasts, newest first")
def list_broadcasts(
    request: HttpRequest, status: str | None = None, cursor: str | None = None, limit: int = 50
) -> Any:
    actor = actor_of(request)
    page = paginate(
        access.broadcast_list(actor, status=status), cursor=cursor, limit=limit, newest_first=True
    )
    progress = access.progress_of(actor, page["items"])
    return {
        "items": [broadcast_out(b, None if b.is_draft else progress[b.pk]) for b in page["items"]],
        "next_cursor": page["next_cursor"],
    }


@router.post(
    "/broadcasts",
    response={201: BroadcastOut},
    summary="Create a draft broadcast",
    description="Nothing is sent until it is started. For a CSV audience, upload the file next.",
)
def create_broadcast(request: HttpRequest, payload: BroadcastIn) -> Any:
    actor = actor_of(request)
    broadcast = actions.do_create_broadcast(
        actor=actor,
        name=payload.name,
        channel_id=payload.channel_id,
        template_id=payload.template_id,
        mapping=payload.mapping,
        audience_kind=payload.audience_kind,
        segment_id=payload.segment_id,
        tag_ids=payload.tag_ids,
    )
    return Status(201, broadcast_out(broadcast, None))


@router.get("/broadcasts/{broadcast_id}", response=BroadcastOut, summary="Get a broadcast")
def get_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    return _one(actor, access.access_broadcast(actor, broadcast_id))


@router.patch("/broadcasts/{broadcast_id}", response=BroadcastOut, summary="Edit a draft")
def update_broadcast(request: HttpRequest, broadcast_id: int, payload: BroadcastUpdateIn) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    sent = payload.model_fields_set
    changes: dict[str, Any] = {}
    for name in ("name", "channel_id", "audience_kind", "csv_phone_column"):
        if name in sent and getattr(payload, name) is not None:
            changes[name] = getattr(payload, name)
    for name in ("template_id", "mapping", "segment_id", "tag_ids"):
        if name in sent:
            changes[name] = getattr(payload, name)
    return _one(actor, actions.do_update_broadcast(actor=actor, broadcast=broadcast, **changes))


@router.delete("/broadcasts/{broadcast_id}", response={204: None}, summary="Delete a draft")
def delete_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    actions.do_delete_broadcast(actor=actor, broadcast=access.access_broadcast(actor, broadcast_id))
    return Status(204, None)


@router.post(
    "/broadcasts/{broadcast_id}/audience-csv",
    response=BroadcastOut,
    summary="Upload the CSV audience of a draft",
    description=(
        "Multipart upload (field `file`): a CSV (any delimiter, UTF-8 with or without BOM) "
        "or XLSX file with a header row: a phone column and any per-recipient columns, "
        "which the mapping uses with source `column`. The phone column is guessed from the "
        "header; change it with PATCH `csv_phone_column`."
    ),
)
def upload_audience(request: HttpRequest, broadcast_id: int, file: File[UploadedFile]) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    return _one(
        actor, actions.do_upload_audience_csv(actor=actor, broadcast=broadcast, upload=file)
    )


@router.post(
    "/broadcasts/{broadcast_id}/start",
    response=BroadcastOut,
    summary="Send now, or schedule",
    description=(
        "Plans one message per recipient, after skipping opted-out contacts, invalid and "
        "duplicate numbers. Refused (nothing planned) when the audience exceeds what is left "
        "of the workspace's monthly quota or of the channel's messaging tier."
    ),
)
def start_broadcast(request: HttpRequest, broadcast_id: int, payload: StartIn) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    started = actions.do_start_broadcast(
        actor=actor, broadcast=broadcast, scheduled_at=payload.scheduled_at
    )
    return _one(actor, started)


@router.post(
    "/broadcasts/{broadcast_id}/reschedule",
    response=BroadcastOut,
    summary="Move a scheduled broadcast (null: send now)",
)
def reschedule_broadcast(request: HttpRequest, broadcast_id: int, payload: RescheduleIn) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    moved = actions.do_reschedule_broadcast(
        actor=actor, broadcast=broadcast, scheduled_at=payload.scheduled_at
    )
    return _one(actor, moved)


@router.post("/broadcasts/{broadcast_id}/pause", response=BroadcastOut, summary="Pause")
def pause_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    return _one(actor, actions.do_pause_broadcast(actor=actor, broadcast=broadcast))


@router.post("/broadcasts/{broadcast_id}/resume", response=BroadcastOut, summary="Resume")
def resume_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    return _one(actor, actions.do_resume_broadcast(actor=actor, broadcast=broadcast))


@router.post("/broadcasts/{broadcast_id}/cancel", response=BroadcastOut, summary="Cancel")
def cancel_broadcast(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    return _one(actor, actions.do_cancel_broadcast(actor=actor, broadcast=broadcast))


@router.post(
    "/broadcasts/{broadcast_id}/retry-failed",
    response=RetryOut,
    summary="Queue the failed recipients again",
)
def retry_failed(request: HttpRequest, broadcast_id: int) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    return {"retried": actions.do_retry_failed(actor=actor, broadcast=broadcast)}


@router.get(
    "/broadcasts/{broadcast_id}/recipients",
    response=RecipientPage,
    summary="Recipients with their state, in planning order",
    description=(
        "`state`: queued, paused, sending, sent, delivered, read, failed (before or after "
        "Meta accepted it), skipped or cancelled."
    ),
)
def list_recipients(
    request: HttpRequest,
    broadcast_id: int,
    state: str | None = None,
    cursor: str | None = None,
    limit: int = 50,
) -> Any:
    actor = actor_of(request)
    broadcast = access.access_broadcast(actor, broadcast_id)
    if not 1 <= limit <= 200:
        raise ActionError("limit must be between 1 and 200.", code="invalid_limit", field="limit")
    page = access.recipient_page(
        actor,
        broadcast,
        state=state,
        after=decode_cursor(cursor) if cursor else None,
        limit=limit,
    )
    return {
        "items": [recipient_out(item) for item in page.items],
        "next_cursor": encode_cursor(page.next_after) if page.next_after else None,
    }


@router.get(
    "/broadcasts/{broadcast_id}/recipients.csv",
    response={200: None},
    summary="Export the recipients as CSV",
    description="Every recipient with state, message status, failure reason and times.",
)
def export_recipients(request: HttpRequest, broadcast_id: int, state: str | None = None) -> Any:
    actor = actor_of(request)
    return exports.csv_response(actor, access.access_broadcast(actor, broadcast_id), state=state)
