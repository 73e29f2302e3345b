"""One attempt to send a queued message, in three steps:

1. claim: in a committed transaction, mark the row "sending" (attempts+1);
2. call the Cloud API with no transaction open;
3. record: in another transaction, the wamid, or the classified error.

A crash after (2) leaves the row "sending" with no wamid: the request may or
may not have reached Meta. We then resend only after a grace period in which
no status arrived for the message's idempotency key (sent to Meta as
biz_opaque_callback_data, which Meta echoes in every status). That is what
keeps a retry or a crash from sending the customer the same message twice.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

import structlog
from django.conf import settings
from django.db.models import F, Subquery, Value
from django.db.models.functions import Greatest
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.inbox.models import Conversation, Message
from parley.inbox.statuses import emit_status_changes
from parley.inbox.window import window_open
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials
from parley.whatsapp.errors import REASONS, CloudApiError
from parley.whatsapp.models import Channel

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8


@dataclass
class Attempt:
    retry_in: timedelta | None = None
    changed_conversation_id: int | None = None


def backoff(attempts: int) -> timedelta:
    return timedelta(seconds=min(300, 2 ** max(0, attempts - 1)))


def _grace() -> timedelta:
    return timedelta(seconds=settings.WHATSAPP_AMBIGUOUS_GRACE_SECONDS)


def attempt_send(*, workspace_id: int, message_id: int) -> Attempt:
    claimed = _claim(workspace_id, message_id)
    if not isinstance(claimed, Message):
        return claimed
    channel = claimed.conversation.channel
    creds = credentials(channel)
    payload = dict(claimed.payload)
    try:
        upload = payload.pop("upload", None)
        kind = str(payload.get("type"))
        if upload and not (payload.get(kind) or {}).get("id"):
            payload[kind] = {**(payload.get(kind) or {}), "id": _upload(creds, upload)}
            _remember_media_id(workspace_id, message_id, kind, payload[kind]["id"])
        wamid = cloud.send(creds, payload)
    except CloudApiError as exc:
        return _record_error(workspace_id, message_id, exc)
    return _record_sent(workspace_id, message_id, wamid)


def _upload(creds: cloud.Credentials, upload: dict[str, str]) -> str:
    from django.core.files.storage import default_storage

    with default_storage.open(upload["path"], "rb") as handle:
        content = handle.read()
    return cloud.upload_media(
        creds, filename=upload["filename"], content=content, mime_type=upload["mime"]
    )


def _remember_media_id(workspace_id: int, message_id: int, kind: str, media_id: str) -> None:
    with workspace_context(workspace_id):
        message = _locked(message_id)
        if message is not None:
            message.payload = {
                **message.payload,
                kind: {**(message.payload.get(kind) or {}), "id": media_id},
            }
            message.save(update_fields=["payload"])


def _claim(workspace_id: int, message_id: int) -> Message | Attempt:
    with workspace_context(workspace_id):
        message = (
            Message.objects.select_for_update(of=("self",))
            .select_related("conversation__channel")
            .filter(pk=message_id, direction=Message.Direction.OUTBOUND)
            .first()
        )
        if message is None:
            return Attempt()
        now = timezone.now()
        if message.status == Message.Status.SENDING:
            if message.wamid:
                return Attempt()  # a status webhook already confirmed it
            waited = now - (message.last_attempt_at or now)
            if waited < _grace():
                # A previous attempt may have reached Meta: wait for its status.
                return Attempt(retry_in=_grace() - waited + timedelta(seconds=1))
            log.warning("send_unconfirmed_resending", message_id=message_id)
        elif message.status != Message.Status.QUEUED:
            return Attempt()  # finished already: the job is idempotent
        if message.payload.get("type") != "template" and not window_open(message.conversation, now):
            _fail(message, 131047, REASONS[131047])
            return Attempt(changed_conversation_id=message.conversation_id)
        if message.conversation.channel.status != Channel.Status.ACTIVE:
            _fail(message, None, "The channel is disabled: enable it to send.")
            return Attempt(changed_conversation_id=message.conversation_id)
        message.status = Message.Status.SENDING
        message.attempts += 1
        message.last_attempt_at = now
        message.save(update_fields=["status", "attempts", "last_attempt_at"])
    return message


def _fail(message: Message, code: int | None, reason: str) -> None:
    message.status = Message.Status.FAILED
    message.error_code = code
    message.error_reason = reason[:500]
    message.save(update_fields=["status", "error_code", "error_reason"])
    emit_status_changes(message.workspace_id, [message])


def _locked(message_id: int) -> Message | None:
    return Message.objects.select_for_update().filter(pk=message_id).first()


def _record_sent(workspace_id: int, message_id: int, wamid: str) -> Attempt:
    with workspace_context(workspace_id):
        message = _locked(message_id)
        if message is None:
            return Attempt()
        if not message.wamid:
            message.wamid = wamid
        fields = ["wamid"]
        # A fast status webhook may have moved it on already: never go back.
        if message.status == Message.Status.SENDING:
            message.status = Message.Status.SENT
            message.sent_at = message.sent_at or timezone.now()
            fields += ["status", "sent_at"]
        message.save(update_fields=fields)
        if "status" in fields:
            emit_status_changes(workspace_id, [message])
        # Segments filter on it ("not messaged for 30 days"); GREATEST keeps it
        # monotonic when sends finish out of order.
        # (PostgreSQL's GREATEST ignores a NULL.)
        now = timezone.now()
        contact_id = Conversation.objects.filter(pk=message.conversation_id).values("contact_id")
        Contact.objects.filter(workspace_id=workspace_id, pk=Subquery(contact_id[:1])).update(
            last_outbound_at=Greatest(F("last_outbound_at"), Value(now))
        )
        return Attempt(changed_conversation_id=message.conversation_id)


def _record_error(workspace_id: int, message_id: int, exc: CloudApiError) -> Attempt:
    with workspace_context(workspace_id):
        message = _locked(message_id)
        if message is None or message.status != Message.Status.SENDING:
            return Attempt()
        log.warning(
            "send_failed",
            message_id=message_id,
            code=exc.code,
            http_status=exc.http_status,
            retryable=exc.retryable,
            ambiguous=exc.ambiguous,
            attempts=message.attempts,
        )
        if exc.retryable and message.attempts < MAX_ATTEMPTS:
            if exc.ambiguous:
                # Stay "sending": the claim step waits for a status first.
                return Attempt(retry_in=_grace())
            message.status = Message.Status.QUEUED
            message.save(update_fields=["status"])
            return Attempt(retry_in=backoff(message.attempts))
        _fail(message, exc.code, exc.reason)
        return Attempt(changed_conversation_id=message.conversation_id)
