"""WhatsApp jobs: template sync."""

from __future__ import annotations

from parley.core.jobs import tenant_task
from parley.whatsapp import cloud
from parley.whatsapp.access import credentials
from parley.whatsapp.actions import store_templates
from parley.whatsapp.models import Channel


@tenant_task(name="whatsapp.sync_templates", queue="default")
def sync_templates(*, workspace_id: int, channel_id: int) -> None:
    channel = Channel.objects.filter(pk=channel_id).first()
    if channel is None:
        return
    # CloudApiError propagates: retryable ones are retried with backoff.
    store_templates(channel, cloud.list_templates(credentials(channel)))
