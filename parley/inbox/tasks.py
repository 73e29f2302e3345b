"""Inbox jobs: process stored webhooks, send queued messages, fetch media."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone

from parley.core.events import publish
from parley.core.jobs import enqueue, tenant_task
from parley.inbox.ingest import process_event, summarize
from parley.inbox.sending import Attempt, attempt_send
from parley.whatsapp.models import WebhookEvent

log = structlog.get_logger(__name__)


@tenant_task(name="inbox.process_webhook", queue="ingest")
def process_webhook(*, workspace_id: int, event_id: int) -> None:
    event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
    if event is None or event.state != WebhookEvent.State.RECEIVED:
        return  # already processed: jobs are idempotent
    outcome = process_event(event)
    log.info("webhook_processed", event_id=event_id, **summarize(outcome))
    for message_id in outcome.media_message_ids:
        enqueue(fetch_media, workspace_id=workspace_id, message_id=message_id)
    for conversation_id in outcome.conversation_ids:
        publish(workspace_id, "conversation", conversation_id)


@tenant_task(name="inbox.send_message", queue="send", retry=False, atomic=False)
def send_message(*, workspace_id: int, message_id: int) -> None:
    """One attempt to send; the retry schedule is ours, not Procrastinate's,
    because it depends on what Meta answered."""
    attempt = attempt_send(workspace_id=workspace_id, message_id=message_id)
    if attempt.retry_in is not None:
        enqueue_send(workspace_id=workspace_id, message_id=message_id, delay=attempt.retry_in)
    if attempt.changed_conversation_id is not None:
        publish(workspace_id, "conversation", attempt.changed_conversation_id)


def enqueue_send(*, workspace_id: int, message_id: int, delay: timedelta | None = None) -> None:
    task = send_message
    if delay:
        task = send_message.configure(schedule_at=timezone.now() + delay)
    enqueue(task, workspace_id=workspace_id, message_id=message_id)


@tenant_task(name="inbox.fetch_media", queue="media")
def fetch_media(*, workspace_id: int, message_id: int) -> None:
    from parley.inbox.media import store_inbound_media

    store_inbound_media(message_id, max_bytes=settings.WHATSAPP_MEDIA_MAX_BYTES)


__all__ = ["Attempt", "enqueue_send", "fetch_media", "process_webhook", "send_message"]
