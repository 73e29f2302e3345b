"""The execution logs API. Thin."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from django.http import HttpRequest
from ninja import Field, Query, Router, Schema

from parley.core.pagination import paginate_recent
from parley.executions import access, actions
from parley.executions.schemas import (
    ExecutionDetailOut,
    ExecutionPage,
    KindName,
    LogSettingsIn,
    LogSettingsOut,
    StatusName,
)
from parley.tenancy.actor import actor_of

router = Router(tags=["executions"])


class ExecutionQuery(Schema):
    kind: KindName | None = Field(None, examples=["webhook"])
    status: StatusName | None = Field(None, examples=["failed"])
    source_id: int | None = Field(
        None, examples=[12], description="With kind: one workflow, sequence, endpoint or rule"
    )
    contact_id: int | None = Field(None, examples=[3301])
    since: datetime | None = Field(
        None, examples=["2026-11-20T00:00:00Z"], description="Started at or after"
    )
    until: datetime | None = Field(
        None, examples=["2026-11-21T00:00:00Z"], description="Started before"
    )
    cursor: str | None = None
    limit: int = Field(50, examples=[50], description="1 to 200")


@router.get("/executions", response=ExecutionPage, summary="List execution logs")
def list_executions(request: HttpRequest, query: Query[ExecutionQuery]) -> Any:
    """Runs of workflows, drip sends, webhook deliveries and rules, newest
    first, filtered; without their trigger and steps (get one for those).
    Admins and owners only (token scope executions:read)."""
    filters = access.Filters(
        kind=query.kind or "",
        status=query.status or "",
        source_id=query.source_id,
        since=query.since,
        until=query.until,
        contact_id=query.contact_id,
    )
    qs = access.execution_list(actor_of(request), filters)
    return paginate_recent(qs, field="started_at", cursor=query.cursor, limit=query.limit)


@router.get("/executions/{execution_id}", response=ExecutionDetailOut, summary="Get one execution")
def get_execution(request: HttpRequest, execution_id: int) -> Any:
    """The run with its trigger and each step's input, outcome, duration and error."""
    actor = actor_of(request)
    execution = access.access_execution(actor, execution_id)
    return {
        **{f: getattr(execution, f) for f in ExecutionDetailOut.model_fields if f != "steps"},
        "steps": access.steps_of(actor, execution),
    }


@router.get("/execution-settings", response=LogSettingsOut, summary="Get log retention")
def get_settings(request: HttpRequest) -> Any:
    return access.log_settings(actor_of(request))


@router.put("/execution-settings", response=LogSettingsOut, summary="Set log retention")
def put_settings(request: HttpRequest, payload: LogSettingsIn) -> Any:
    """Admins and owners. Runs older than the new retention go in the next nightly purge."""
    settings = actions.do_set_retention(actor=actor_of(request), days=payload.retention_days)
    return {"retention_days": settings.retention_days}
