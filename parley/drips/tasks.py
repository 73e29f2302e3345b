"""Drip jobs: react to domain events, enrol segment entrants, and move on
enrolments whose step finished while nobody was told."""

from __future__ import annotations

from collections import defaultdict
from datetime import timedelta
from typing import Any

import structlog
from django.db import connection, transaction
from django.utils import timezone
from procrastinate.contrib.django import app

from parley.core.jobs import tenant_task
from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.drips import engine, triggers
from parley.drips.models import Sequence, Trigger

log = structlog.get_logger(__name__)

# Enrolments moved on per sweep; a backlog drains over the next runs.
SWEEP_BATCH = 1000
# How long after its item finished an enrolment may wait for on_finished.
SWEEP_GRACE = timedelta(minutes=2)


@tenant_task(name="drips.handle_event")
def handle_event(*, workspace_id: int, event: str, payload: dict[str, Any]) -> None:
    changed = triggers.process(workspace_id, event, payload)
    if changed:
        log.info("drips_event", drip_event=event, changed=changed)


@app.periodic(cron="* * * * *", periodic_id="drips_segment_entries")
@app.task(name="drips.segment_entries", queueing_lock="drips.segment_entries")
def segment_entries(timestamp: int) -> int:
    return check_segment_entries()


def check_segment_entries() -> int:
    """Enrol the contacts who entered the segment of an active
    segment-triggered sequence since the last check (all workspaces: a
    scheduler). Returns how many were enrolled."""
    with transaction.atomic(), dangerously_cross_tenant(reason="scheduler: drip segment triggers"):
        found = list(
            Sequence.objects.filter(
                active=True, trigger=Trigger.SEGMENT_ENTERED, trigger_segment__isnull=False
            )
            .order_by("workspace_id", "id")
            .values_list("workspace_id", "id")
        )
    enrolled = 0
    for workspace_id, sequence_id in found:
        try:
            with workspace_context(workspace_id):
                enrolled += _segment_check(workspace_id, sequence_id)
        except Exception:
            # One broken segment must not stop every other workspace's drips.
            log.exception("drips_segment_check_failed", sequence_id=sequence_id)
    return enrolled


def _segment_check(workspace_id: int, sequence_id: int) -> int:
    # SKIP LOCKED: a check still running for this sequence keeps it.
    sequence = (
        Sequence.objects.select_for_update(skip_locked=True)
        .filter(workspace_id=workspace_id, pk=sequence_id, active=True)
        .first()
    )
    if sequence is None:
        return 0
    entered = engine.segment_entries(workspace_id, sequence)
    if not entered:
        return 0
    return len(
        engine.enrol(
            workspace_id=workspace_id,
            sequence=sequence,
            contact_ids=entered,
            source=Trigger.SEGMENT_ENTERED,
        )
    )


@app.periodic(cron="*/5 * * * *", periodic_id="drips_sweep_finished")
@app.task(name="drips.sweep_finished", queueing_lock="drips.sweep_finished")
def sweep_finished(timestamp: int) -> int:
    return advance_stranded()


def advance_stranded(grace: timedelta = SWEEP_GRACE) -> int:
    """Enrolments whose current item finished a while ago but were not moved
    on (the dispatcher died between recording a send and telling drips):
    tell drips now. Normally finds nothing."""
    from parley.drips.hooks import on_finished
    from parley.outbox.hooks import Finished

    cutoff = timezone.now() - grace
    with (
        transaction.atomic(),
        dangerously_cross_tenant(reason="scheduler: drip enrolments stranded after a send"),
        connection.cursor() as cursor,
    ):
        cursor.execute(
            """SELECT i.workspace_id, i.id, i.source_id, i.contact_id, i.state, i.reason,
                      i.finished_at
                 FROM drips_enrolment e
                 JOIN outbox_outbounditem i
                   ON i.id = e.current_item_id AND i.workspace_id = e.workspace_id
                WHERE e.state = 'active' AND i.state IN ('sent', 'failed', 'skipped')
                  AND i.finished_at < %s
                LIMIT %s""",
            [cutoff, SWEEP_BATCH],
        )
        rows = cursor.fetchall()
    by_workspace: dict[int, list[Finished]] = defaultdict(list)
    for workspace_id, item_id, source_id, contact_id, state, reason, finished_at in rows:
        by_workspace[workspace_id].append(
            Finished(
                item_id=item_id,
                source_id=source_id,
                contact_id=contact_id,
                state=state,
                reason=reason,
                finished_at=finished_at,
            )
        )
    for workspace_id, finished in by_workspace.items():
        with workspace_context(workspace_id):
            on_finished(workspace_id, finished)
    if rows:
        log.warning("drips_stranded_advanced", enrolments=len(rows))
    return len(rows)
