"""Drip sends in the execution log: each step that went out, failed or was
skipped becomes one run of kind "drip" (source: the sequence), recorded
from hooks.on_finished for the enrolments it moves on. Those are locked and
moved exactly once, so a send reported twice (the dispatcher and the
stranded sweep) is logged once. One INSERT per batch of finished items."""

from __future__ import annotations

from typing import Any

import structlog
from django.db import transaction

from parley.drips.models import Enrolment
from parley.outbox.hooks import Finished

log = structlog.get_logger(__name__)

# The outbox item's final state -> (run status, step status).
STATUSES: dict[str, tuple[str, str]] = {
    "sent": ("succeeded", "ok"),
    "failed": ("failed", "failed"),
    "skipped": ("stopped", "skipped"),
}


def run_of(f: Finished, e: Enrolment) -> dict[str, Any] | None:
    """The log entry of one finished step send (None for a state not final)."""
    found = STATUSES.get(f.state)
    if found is None:
        return None
    status, step_status = found
    step = e.current_step
    position = step.position if step is not None else None
    return {
        "kind": "drip",
        "source_id": e.sequence_id,
        "source_label": e.sequence.name,
        "contact_id": f.contact_id,
        "trigger": {
            "sequence_id": e.sequence_id,
            "enrolment_id": e.pk,
            "enrolled_at": e.enrolled_at,
            "step_id": f.source_id,
            "step_position": position,
        },
        "status": status,
        "error": f.reason if status != "succeeded" else "",
        "duration_ms": 0,
        "steps": [
            {
                "key": f"step-{position}" if position is not None else f"step#{f.source_id}",
                "type": "send_message",
                "input": {
                    "step_id": f.source_id,
                    "content_id": step.content_id if step is not None else None,
                    "channel_id": e.sequence.channel_id,
                },
                "outcome": {"item_id": f.item_id, "state": f.state, "reason": f.reason},
                "status": step_status,
                "error": f.reason if step_status == "failed" else "",
                "at": f.finished_at,
            }
        ],
    }


def record_sends(workspace_id: int, pairs: list[tuple[Finished, Enrolment]]) -> None:
    """Log the sends; a logging failure never stops the drip (its own savepoint)."""
    from parley.executions.actions import do_record_executions

    runs = [run for f, e in pairs if (run := run_of(f, e)) is not None]
    if not runs:
        return
    try:
        with transaction.atomic():
            do_record_executions(workspace_id=workspace_id, runs=runs)
    except Exception:
        log.exception("drip_execution_log_failed", count=len(runs))
