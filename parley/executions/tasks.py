"""The nightly retention job: delete each workspace's runs older than its
retention setting, in bounded batches."""

from __future__ import annotations

from datetime import datetime, timedelta

import structlog
from django.db import connection
from django.utils import timezone
from procrastinate.contrib.django import app

from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.executions.models import LogSettings

log = structlog.get_logger(__name__)

# Runs deleted per statement (each its own short transaction, so the job
# never holds long locks nor builds a huge WAL burst), and statements per
# workspace per night: a backlog beyond that drains over the next nights.
BATCH = 2_000
MAX_BATCHES_PER_WORKSPACE = 250
# A run still open (running, waiting) is kept past its workspace's retention
# so a long wait can still log its steps, but no longer than this.
OPEN_RUN_MAX_DAYS = LogSettings.MAX_RETENTION_DAYS


@app.periodic(cron="41 3 * * *", periodic_id="executions_retention")
@app.task(name="executions.retention", queueing_lock="executions.retention")
def retention(timestamp: int) -> int:
    return purge_expired()


def purge_expired(*, now: datetime | None = None, batch: int = BATCH) -> int:
    """Delete expired runs (and their steps) of every workspace; returns how many runs."""
    now = now or timezone.now()
    # The settings of every workspace are RLS-protected rows: reading them all
    # is the one cross-tenant step. The deletes then run inside each
    # workspace's own context, so the wall still holds for the writes.
    with dangerously_cross_tenant(reason="scheduler: execution log retention"):
        with connection.cursor() as cursor:
            cursor.execute(
                """SELECT w.id, COALESCE(s.retention_days, %s)
                     FROM tenancy_workspace w
                     LEFT JOIN executions_logsettings s ON s.workspace_id = w.id
                    ORDER BY w.id""",
                [LogSettings.DEFAULT_RETENTION_DAYS],
            )
            plan = [(int(r[0]), int(r[1])) for r in cursor.fetchall()]
        # Old alert dedupe rows are only needed for the current hour.
        with connection.cursor() as cursor:
            cursor.execute(
                "DELETE FROM executions_failurealert WHERE hour < %s", [now - timedelta(hours=2)]
            )
    deleted = 0
    for workspace_id, days in plan:
        try:
            deleted += _purge_workspace(workspace_id, now - timedelta(days=days), now, batch)
        except Exception:
            # One workspace's trouble must not keep every other's logs forever.
            log.exception("executions_retention_failed", workspace_id=workspace_id)
    if deleted:
        log.info("executions_retention", deleted=deleted)
    return deleted


def _purge_workspace(workspace_id: int, cutoff: datetime, now: datetime, batch: int) -> int:
    open_cutoff = now - timedelta(days=OPEN_RUN_MAX_DAYS)
    deleted = 0
    for _ in range(MAX_BATCHES_PER_WORKSPACE):
        with workspace_context(workspace_id), connection.cursor() as cursor:
            # The candidates come off exec_ws_idx (workspace, started_at):
            # the oldest first, a bounded slice.
            cursor.execute(
                """WITH doomed AS (
                     SELECT id FROM executions_execution
                      WHERE workspace_id = %s AND started_at < %s
                        AND (status NOT IN ('running', 'waiting') OR started_at < %s)
                      ORDER BY started_at, id
                      LIMIT %s),
                   steps AS (
                     DELETE FROM executions_executionstep
                      WHERE workspace_id = %s AND execution_id IN (SELECT id FROM doomed))
                   DELETE FROM executions_execution
                    WHERE workspace_id = %s AND id IN (SELECT id FROM doomed)""",
                [workspace_id, cutoff, open_cutoff, batch, workspace_id, workspace_id],
            )
            count = int(cursor.rowcount)
        deleted += count
        if count < batch:
            break
    return deleted
