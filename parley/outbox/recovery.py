"""Items left "sending" by a crash (or an unanswered request).

Each has its message and that message's idempotency key, which Meta echoes
in every status as biz_opaque_callback_data. After the grace period:
- a status arrived (the message has a wamid, or moved on): it was sent;
- the message failed: so did the item;
- nothing arrived: Meta never took it, so it goes back in line with the
  same message and key. That is how a killed worker neither skips nor
  doubles anyone."""

from __future__ import annotations

from datetime import timedelta

from django.conf import settings
from django.db import connection
from django.utils import timezone

from parley.whatsapp.models import Channel, WebhookEvent


def grace() -> timedelta:
    return timedelta(seconds=settings.WHATSAPP_AMBIGUOUS_GRACE_SECONDS)


def recover(channel: Channel) -> tuple[list[int], int]:
    """Settle stale items of the channel: (ids now finished, ids requeued count)."""
    cutoff = timezone.now() - grace()
    ws = channel.workspace_id
    # Statuses that would settle these items may sit in webhooks not yet
    # processed (a worker died with them): settle nothing until the ingest
    # has caught up, or a message Meta took would be sent again.
    if WebhookEvent.objects.filter(
        workspace_id=ws,
        state=WebhookEvent.State.RECEIVED,
        received_at__lt=timezone.now() - timedelta(seconds=1),
    ).exists():
        return [], 0
    with connection.cursor() as cursor:
        cursor.execute(
            """WITH stale AS (
                   SELECT i.id, m.status, m.wamid, m.error_reason, m.error_code,
                          m.last_attempt_at
                     FROM outbox_outbounditem i
                     LEFT JOIN inbox_message m
                       ON m.id = i.message_id AND m.workspace_id = i.workspace_id
                    WHERE i.workspace_id = %s AND i.channel_id = %s AND i.state = 'sending'
                      AND i.claimed_at < %s
                      AND (m.last_attempt_at IS NULL OR m.last_attempt_at < %s)
                      FOR UPDATE OF i SKIP LOCKED)
               UPDATE outbox_outbounditem i
                  SET state = CASE
                        WHEN s.status = 'failed' THEN 'failed'
                        WHEN s.wamid IS NOT NULL OR s.status IN ('sent', 'delivered', 'read')
                          THEN 'sent'
                        ELSE 'pending' END,
                      finished_at = CASE
                        WHEN s.status = 'failed' OR s.wamid IS NOT NULL
                          OR s.status IN ('sent', 'delivered', 'read') THEN now() END,
                      reason = CASE WHEN s.status = 'failed' THEN left(s.error_reason, 300)
                        ELSE '' END,
                      error_code = s.error_code,
                      not_before = now()
                 FROM stale s WHERE i.id = s.id
               RETURNING i.id, i.state""",
            [ws, channel.pk, cutoff, cutoff],
        )
        rows = cursor.fetchall()
        # Messages of requeued items were never taken by Meta: queued again.
        cursor.execute(
            """UPDATE inbox_message m SET status = 'queued'
                 FROM outbox_outbounditem i
                WHERE i.id = ANY(%s) AND m.id = i.message_id AND m.workspace_id = %s
                  AND m.status = 'sending' AND m.wamid IS NULL""",
            [[r[0] for r in rows if r[1] == "pending"], ws],
        )
        # A status webhook may have put the wamid on the message without
        # moving its status (it only moves forward from "sending").
        cursor.execute(
            """UPDATE inbox_message m SET status = 'sent', sent_at = COALESCE(m.sent_at, now())
                 FROM outbox_outbounditem i
                WHERE i.id = ANY(%s) AND m.id = i.message_id AND m.workspace_id = %s
                  AND m.status = 'sending'""",
            [[r[0] for r in rows if r[1] == "sent"], ws],
        )
    finished = [int(r[0]) for r in rows if r[1] != "pending"]
    return finished, len(rows) - len(finished)
