"""Inbox jobs: process stored webhooks, send queued messages, fetch media."""

from __future__ import annotations

import contextlib
from datetime import timedelta

import structlog
from django.conf import settings
from django.utils import timezone
from procrastinate.contrib.django import app

from parley.core.events import publish
from parley.core.jobs import enqueue, tenant_task
from parley.core.tenant import workspace_context
from parley.inbox.ingest import drain, summarize
from parley.inbox.sending import Attempt, attempt_send

log = structlog.get_logger(__name__)


@tenant_task(name="inbox.process_webhook", queue="ingest", atomic=False)
def process_webhook(*, workspace_id: int, event_id: int) -> None:
    """Deferred for each stored webhook; drains every received event of the
    workspace (``event_id`` among them), so under load most runs find their
    event already done by a sibling's batch."""
    outcome = drain(workspace_id)
    if outcome is None:
        # Another drain holds the workspace and may have looked before our
        # event committed: look again shortly (one pending look is enough).
        _look_again(workspace_id)
        return
    if outcome.events:
        log.info("webhooks_processed", event_id=event_id, **summarize(outcome))
    if outcome.unfinished:
        _look_again(workspace_id, delay_ms=0)
    for message_id in outcome.media_message_ids:
        with workspace_context(workspace_id):
            enqueue(fetch_media, workspace_id=workspace_id, message_id=message_id)


def _look_again(workspace_id: int, delay_ms: int = 300) -> None:
    from procrastinate.exceptions import AlreadyEnqueued

    task = process_webhook.configure(
        queueing_lock=f"drain-{workspace_id}",
        schedule_at=timezone.now() + timedelta(milliseconds=delay_ms),
    )
    with contextlib.suppress(AlreadyEnqueued):
        task.defer(workspace_id=workspace_id, event_id=0)


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


@app.periodic(cron="* * * * *", periodic_id="sweep_webhooks")
@app.task(name="inbox.sweep_webhooks", queueing_lock="inbox.sweep_webhooks")
def sweep_webhooks(timestamp: int) -> int:
    """Drain workspaces whose received webhooks waited too long (all
    workspaces: a scheduler). Normally finds nothing."""
    from django.db import transaction

    from parley.core.tenant import dangerously_cross_tenant
    from parley.whatsapp.models import WebhookEvent

    with transaction.atomic(), dangerously_cross_tenant(reason="scheduler: stranded webhooks"):
        stale = list(
            WebhookEvent.objects.filter(
                state=WebhookEvent.State.RECEIVED,
                workspace__isnull=False,
                received_at__lt=timezone.now() - timedelta(seconds=10),
            )
            .values_list("workspace_id", flat=True)
            .distinct()[:1000]
        )
    for workspace_id in stale:
        _look_again(workspace_id)
    return len(stale)


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
