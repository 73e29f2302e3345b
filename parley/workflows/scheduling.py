"""Cron-triggered workflows: each fires at its next minute (in the
workspace's timezone) for every contact of its segment."""

from __future__ import annotations

from datetime import datetime

import structlog
from croniter import croniter
from django.db import transaction
from django.utils import timezone

from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.tenancy.models import Workspace
from parley.todos.actions import workspace_tz
from parley.workflows.models import Workflow

log = structlog.get_logger(__name__)

# Contacts per start job; a big segment becomes several jobs.
CHUNK = 200
# A schedule reaching more contacts than this in one firing is cut (and logged).
MAX_CONTACTS = 10_000


def next_fire(cron: str, workspace: Workspace, after: datetime) -> datetime:
    local = after.astimezone(workspace_tz(workspace))
    fire: datetime = croniter(cron, local).get_next(datetime)
    return fire


def fire_due(now: datetime | None = None) -> int:
    """Start the runs of every schedule that is due (all workspaces: a
    scheduler). Returns how many contacts were sent on their way."""
    now = now or timezone.now()
    with transaction.atomic(), dangerously_cross_tenant(reason="scheduler: workflow cron"):
        due = list(
            Workflow.objects.filter(enabled=True, trigger_type="schedule", next_fire_at__lte=now)
            .order_by("next_fire_at")
            .values_list("workspace_id", "id")[:200]
        )
    started = 0
    for workspace_id, workflow_id in due:
        try:
            with workspace_context(workspace_id):
                started += _fire(workspace_id, workflow_id, now)
        except Exception:
            # One broken schedule must not stop the others.
            log.exception("workflow_cron_failed", workflow_id=workflow_id)
    return started


def _fire(workspace_id: int, workflow_id: int, now: datetime) -> int:
    from parley.segments.compiler import contacts_matching
    from parley.segments.models import Segment
    from parley.workflows.tasks import start

    workflow = (
        Workflow.objects.select_for_update(skip_locked=True, of=("self",))
        .select_related("live_version")
        .filter(workspace_id=workspace_id, pk=workflow_id, next_fire_at__lte=now)
        .first()
    )
    if workflow is None or workflow.live_version is None:
        return 0  # another scheduler took it
    trigger = workflow.live_version.trigger
    workspace = Workspace.objects.get(pk=workspace_id)
    workflow.next_fire_at = next_fire(str(trigger.get("cron")), workspace, now)
    workflow.save(update_fields=["next_fire_at"])
    segment_id = int(trigger.get("segment_id") or 0)
    segment = Segment.objects.filter(workspace_id=workspace_id, pk=segment_id).first()
    if segment is None:
        log.warning("workflow_cron_segment_missing", workflow_id=workflow_id)
        return 0
    ids = list(
        contacts_matching(workspace_id, segment.definition)
        .order_by("id")
        .values_list("id", flat=True)[:MAX_CONTACTS]
    )
    fired = {"type": "schedule", "at": now.isoformat(), "segment_id": segment.pk}
    for i in range(0, len(ids), CHUNK):
        subjects = [{"contact_id": c, "trigger": fired} for c in ids[i : i + CHUNK]]
        start.defer(workspace_id=workspace_id, starts=[[workflow_id, subjects]], chain=[])
    return len(ids)
