"""Inbound media: fetched from the Graph API into storage (local files by
default, any S3-compatible store through django-storages by setting)."""

from __future__ import annotations

import mimetypes

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

from parley.inbox.models import Message
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials
from parley.whatsapp.errors import CloudApiError
from parley.whatsapp.payloads import MEDIA_TYPES


def store_inbound_media(message_id: int, *, max_bytes: int) -> None:
    message = (
        Message.objects.select_for_update(of=("self",))
        .select_related("conversation__channel")
        .filter(pk=message_id)
        .first()
    )
    if message is None or message.type not in MEDIA_TYPES or message.payload.get("stored_path"):
        return
    media = message.payload.get(message.type) or {}
    media_id = str(media.get("id") or "")
    if not media_id:
        return
    creds = credentials(message.conversation.channel)
    try:
        info = cloud.media_info(creds, media_id)
        content = cloud.download(creds, str(info["url"]), max_bytes=max_bytes)
    except CloudApiError as exc:
        if exc.retryable:
            raise  # the job retries with backoff
        message.payload = {**message.payload, "media_error": exc.reason}
        message.save(update_fields=["payload"])
        return
    mime = str(info.get("mime_type") or media.get("mime_type") or "application/octet-stream")
    ext = mimetypes.guess_extension(mime.split(";")[0].strip()) or ".bin"
    path = default_storage.save(
        f"ws{message.workspace_id}/media/{message.pk}-{media_id[:40]}{ext}", ContentFile(content)
    )
    message.payload = {
        **message.payload,
        "stored_path": path,
        "stored_mime": mime,
        "stored_size": len(content),
    }
    message.save(update_fields=["payload"])
