"""Routing jobs: assign new conversations, send away replies. Both take ids
and are idempotent (see actions.assign_new and actions.send_away_replies)."""

from __future__ import annotations

from datetime import datetime

import structlog

from parley.core.jobs import tenant_task
from parley.routing import actions

log = structlog.get_logger(__name__)


@tenant_task(name="routing.assign_new")
def assign_new(*, workspace_id: int, conversation_ids: list[int]) -> None:
    assigned = actions.assign_new(workspace_id=workspace_id, conversation_ids=conversation_ids)
    if assigned:
        log.info("routing_assigned", assigned=assigned)


@tenant_task(name="routing.away_reply")
def away_reply(*, workspace_id: int, conversation_ids: list[int], at: str) -> None:
    sent = actions.send_away_replies(
        workspace_id=workspace_id,
        conversation_ids=conversation_ids,
        at=datetime.fromisoformat(at),
    )
    if sent:
        log.info("routing_away_replies", sent=sent)
