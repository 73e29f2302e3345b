"""Write what Meta answered for a set of sends, in one transaction: the
messages (wamid, sent or failed), the items, the contacts' last outbound
time. A status webhook may have moved a message on already: never back."""

from __future__ import annotations

import json
import random
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import structlog
from django.db import connection
from django.utils import timezone

from parley.core import domain_events
from parley.core.bulk import int_array
from parley.outbox.models import OutboundItem
from parley.outbox.pacing import Result

log = structlog.get_logger(__name__)

MAX_ATTEMPTS = 8


def backoff(attempts: int) -> timedelta:
    # Jitter spreads the retries of a whole failed burst.
    return timedelta(seconds=min(300.0, 2 ** max(0, attempts - 1)) * random.uniform(0.8, 1.2))


@dataclass
class Outcome:
    sent: int = 0
    failed: int = 0
    retried: int = 0
    ambiguous: int = 0
    throttled: bool = False
    # (item id, source) of the items that ended.
    finished: list[tuple[int, str]] = field(default_factory=list)


def record(workspace_id: int, results: list[Result]) -> Outcome:
    outcome = Outcome()
    if not results:
        return outcome
    now = timezone.now()
    sent = [r for r in results if r.error is None]
    errors = [r.send.item_id for r in results if r.error is not None]
    attempts = (
        dict(OutboundItem.objects.filter(pk__in=errors).values_list("id", "attempts"))
        if errors
        else {}
    )
    failed: list[tuple[Result, str, int | None]] = []
    retry: list[tuple[Result, datetime]] = []
    for r in results:
        exc = r.error
        if exc is None:
            continue
        if exc.code == 130429 or exc.http_status == 429:
            outcome.throttled = True
        if exc.retryable and exc.ambiguous:
            # It may have reached Meta: stay "sending"; recovery resends only
            # if no status for its idempotency key arrives within the grace.
            outcome.ambiguous += 1
        elif exc.retryable and attempts.get(r.send.item_id, MAX_ATTEMPTS) < MAX_ATTEMPTS:
            log.warning(
                "outbox_retry",
                item_id=r.send.item_id,
                code=exc.code,
                http=exc.http_status,
                error=exc.message[:200],
            )
            retry.append((r, now + backoff(attempts.get(r.send.item_id, 1))))
        else:
            failed.append((r, exc.reason[:300], exc.code))
    changes: list[tuple[int, int, str, int | None]] = []
    with connection.cursor() as cursor:
        # Every message this writes, locked first and in id order: status
        # webhooks lock the same messages in that order (the updates below,
        # each locking in its own join order, deadlocked with them).
        cursor.execute(
            """SELECT id FROM inbox_message WHERE id = ANY(%s::bigint[]) AND workspace_id = %s
                ORDER BY id FOR UPDATE""",
            [int_array(sorted({r.send.message_id for r in results})), workspace_id],
        )
        if sent:
            # Ids as one array literal and wamids as one JSON document: psycopg
            # adapts list parameters item by item in Python, and this runs for
            # every few hundred sends.
            cursor.execute(
                """UPDATE inbox_message m
                      SET wamid = COALESCE(m.wamid, v.w),
                          status = CASE WHEN m.status IN ('queued', 'sending') THEN 'sent'
                                        ELSE m.status END,
                          sent_at = COALESCE(m.sent_at, to_timestamp(v.a))
                     FROM jsonb_to_recordset(%s::jsonb) AS v(i bigint, w text, a float8)
                    WHERE m.id = v.i AND m.workspace_id = %s
                RETURNING m.id, m.conversation_id, m.status, m.error_code""",
                [
                    # When Meta answered, not when the answer was saved.
                    json.dumps([{"i": r.send.message_id, "w": r.wamid, "a": r.at} for r in sent]),
                    workspace_id,
                ],
            )
            changes += cursor.fetchall()
            cursor.execute(
                """UPDATE outbox_outbounditem SET state = 'sent', finished_at = %s, reason = ''
                    WHERE id = ANY(%s::bigint[]) AND workspace_id = %s""",
                [now, int_array([r.send.item_id for r in sent]), workspace_id],
            )
            cursor.execute(
                """UPDATE crm_contact SET last_outbound_at = %s
                    WHERE id = ANY(%s::bigint[]) AND workspace_id = %s
                      AND (last_outbound_at IS NULL OR last_outbound_at < %s)""",
                [now, int_array(sorted({r.send.contact_id for r in sent})), workspace_id, now],
            )
        if failed:
            cursor.execute(
                """UPDATE inbox_message m
                      SET status = 'failed', error_code = v.code, error_reason = v.reason
                     FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, code, reason)
                    WHERE m.id = v.id AND m.workspace_id = %s
                      AND m.status IN ('queued', 'sending')
                RETURNING m.id, m.conversation_id, m.status, m.error_code""",
                [
                    [r.send.message_id for r, _reason, _code in failed],
                    [code for _r, _reason, code in failed],
                    [reason for _r, reason, _code in failed],
                    workspace_id,
                ],
            )
            changes += cursor.fetchall()
            cursor.execute(
                """UPDATE outbox_outbounditem i
                      SET state = 'failed', finished_at = %s, reason = v.reason, error_code = v.code
                     FROM unnest(%s::bigint[], %s::int[], %s::text[]) AS v(id, code, reason)
                    WHERE i.id = v.id AND i.workspace_id = %s""",
                [
                    now,
                    [r.send.item_id for r, _reason, _code in failed],
                    [code for _r, _reason, code in failed],
                    [reason for _r, reason, _code in failed],
                    workspace_id,
                ],
            )
        if retry:
            # Meta did not take it: the message waits as queued, the item
            # goes back in line after its backoff (keeping its message).
            cursor.execute(
                """UPDATE inbox_message SET status = 'queued'
                    WHERE id = ANY(%s) AND workspace_id = %s AND status = 'sending'""",
                [[r.send.message_id for r, _at in retry], workspace_id],
            )
            cursor.execute(
                """UPDATE outbox_outbounditem i
                      SET state = 'pending', not_before = v.at, reason = v.reason
                     FROM unnest(%s::bigint[], %s::timestamptz[], %s::text[]) AS v(id, at, reason)
                    WHERE i.id = v.id AND i.workspace_id = %s""",
                [
                    [r.send.item_id for r, _at in retry],
                    [at for _r, at in retry],
                    [f"Retrying: {r.error.reason}"[:300] if r.error else "" for r, _at in retry],
                    workspace_id,
                ],
            )
    if changes:
        domain_events.emit(
            workspace_id,
            domain_events.MESSAGE_STATUS_CHANGED,
            statuses=[
                domain_events.StatusChange(
                    message_id=m, conversation_id=c, status=st, error_code=code
                )
                for m, c, st, code in changes
            ],
        )
    outcome.sent = len(sent)
    outcome.failed = len(failed)
    outcome.retried = len(retry)
    outcome.finished = [(r.send.item_id, r.send.source) for r in sent] + [
        (r.send.item_id, r.send.source) for r, _x, _y in failed
    ]
    return outcome
