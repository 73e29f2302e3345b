"""Inbox jobs: process stored webhooks, send queued messages, fetch media."""

from __future__ import annotations

from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone
from procrastinate.contrib.django import app

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


@app.periodic(cron="* * * * *", periodic_id="wake_snoozed")
@app.task(name="inbox.wake_snoozed", queueing_lock="inbox.wake_snoozed")
def wake_snoozed(timestamp: int) -> int:
    """Reopen conversations whose snooze ran out (all workspaces: a scheduler)."""
    from django.db import transaction

    from parley.core.tenant import dangerously_cross_tenant
    from parley.inbox.models import Conversation

    with (
        transaction.atomic(),
        dangerously_cross_tenant(reason="scheduler: wake snoozed conversations"),
    ):
        due = list(
            Conversation.objects.select_for_update(skip_locked=True)
            .filter(status=Conversation.Status.SNOOZED, snoozed_until__lte=timezone.now())
            .values_list("id", "workspace_id")[:1000]
        )
        Conversation.objects.filter(id__in=[c for c, _ in due]).update(
            status=Conversation.Status.OPEN, snoozed_until=None
        )
        for conversation_id, workspace_id in due:
            publish(workspace_id, "conversation", conversation_id)
    return len(due)


@tenant_task(name="inbox.mark_read", queue="send")
def mark_read(*, workspace_id: int, message_id: int) -> None:
    """Tell WhatsApp the customer's message was read (blue ticks on their phone)."""
    from parley.inbox.models import Message
    from parley.whatsapp import cloud
    from parley.whatsapp.access import credentials
    from parley.whatsapp.errors import CloudApiError

    message = Message.objects.select_related("conversation__channel").filter(pk=message_id).first()
    if message is None or not message.wamid or message.direction != Message.Direction.INBOUND:
        return
    try:
        cloud.mark_read(credentials(message.conversation.channel), message.wamid)
    except CloudApiError as exc:
        if exc.retryable:
            raise
        log.info("mark_read_refused", message_id=message_id, reason=exc.reason)


__all__ = ["Attempt", "enqueue_send", "fetch_media", "process_webhook", "send_message"]
