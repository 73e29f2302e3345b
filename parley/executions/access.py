"""Every read of execution logs, scoped to the actor's workspace: the filtered
list, one run with its steps, the 24-hour chart and failure count, the
sources to filter by, and the retention setting."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import QuerySet
from django.http import Http404
from django.utils import timezone

from parley.core.errors import ActionError
from parley.executions.models import Execution, ExecutionStep, Kind, LogSettings, Status
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

# The source filter offers what ran among this many most recent runs: a
# bounded read, where a DISTINCT over millions of rows would not be.
SOURCE_SCAN = 5_000


@dataclass(frozen=True)
class Filters:
    kind: str = ""
    status: str = ""
    source_id: int | None = None
    since: datetime | None = None  # inclusive
    until: datetime | None = None  # exclusive
    contact_id: int | None = None

    def validate(self) -> Filters:
        if self.kind and self.kind not in Kind.values:
            raise ActionError(
                f"kind is one of {', '.join(Kind.values)}.", code="invalid_kind", field="kind"
            )
        if self.status and self.status not in Status.values:
            raise ActionError(
                f"status is one of {', '.join(Status.values)}.",
                code="invalid_status",
                field="status",
            )
        if self.source_id is not None and not self.kind:
            raise ActionError(
                "source_id needs kind too: workflow, drip, webhook and rule ids overlap.",
                code="source_needs_kind",
                field="source_id",
            )
        if self.since and self.until and self.since >= self.until:
            raise ActionError(
                "The end of the date range must come after its start.",
                code="invalid_range",
                field="until",
            )
        return self


def access_execution(actor: Actor, execution_id: int) -> Execution:
    actor.require(Cap.EXECUTIONS_READ)
    execution = (
        Execution.objects.select_related("contact")
        .filter(workspace=actor.workspace, id=execution_id)
        .first()
    )
    if execution is None:
        raise Http404("No such execution.")
    return execution


def steps_of(actor: Actor, execution: Execution) -> list[ExecutionStep]:
    actor.require(Cap.EXECUTIONS_READ)
    return list(
        ExecutionStep.objects.filter(workspace=actor.workspace, execution=execution).order_by(
            "position", "id"
        )
    )


def execution_list(actor: Actor, filters: Filters) -> QuerySet[Execution]:
    """Runs matching the filters (newest first once paginated: every filter
    combination has an index starting with the workspace)."""
    actor.require(Cap.EXECUTIONS_READ)
    filters.validate()
    qs = Execution.objects.filter(workspace=actor.workspace)
    if filters.kind:
        qs = qs.filter(kind=filters.kind)
    if filters.source_id is not None:
        qs = qs.filter(source_id=filters.source_id)
    if filters.status:
        qs = qs.filter(status=filters.status)
    if filters.since:
        qs = qs.filter(started_at__gte=filters.since)
    if filters.until:
        qs = qs.filter(started_at__lt=filters.until)
    if filters.contact_id is not None:
        qs = qs.filter(contact_id=filters.contact_id)
    return qs.select_related("contact").defer("trigger")


@dataclass(frozen=True)
class Source:
    kind: str
    source_id: int
    label: str

    @property
    def value(self) -> str:
        return f"{self.kind}:{self.source_id}"

    @property
    def title(self) -> str:
        return f"{Kind(self.kind).label}: {self.label or f'#{self.source_id}'}"


def recent_sources(actor: Actor) -> list[Source]:
    """The workflows, drip steps, endpoints and rules that ran lately, with
    their latest label."""
    actor.require(Cap.EXECUTIONS_READ)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT DISTINCT ON (kind, source_id) kind, source_id, source_label
                 FROM (SELECT kind, source_id, source_label, started_at
                         FROM executions_execution
                        WHERE workspace_id = %s
                        ORDER BY started_at DESC, id DESC LIMIT %s) recent
                WHERE source_id IS NOT NULL
                ORDER BY kind, source_id, started_at DESC""",
            [actor.workspace.pk, SOURCE_SCAN],
        )
        rows = cursor.fetchall()
    sources = [Source(kind=r[0], source_id=int(r[1]), label=r[2]) for r in rows]
    return sorted(sources, key=lambda s: (s.kind, s.label.lower(), s.source_id))


@dataclass(frozen=True)
class HourBar:
    hour: datetime
    counts: dict[str, int]

    @property
    def total(self) -> int:
        return sum(self.counts.values())


def hourly_chart(actor: Actor, *, now: datetime | None = None) -> list[HourBar]:
    """Runs per hour by status over the last 24 hours (oldest first, 24 bars)."""
    actor.require(Cap.EXECUTIONS_READ)
    now = now or timezone.now()
    first = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=23)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT date_trunc('hour', started_at, 'UTC'), status, count(*)
                 FROM executions_execution
                WHERE workspace_id = %s AND started_at >= %s
                GROUP BY 1, 2""",
            [actor.workspace.pk, first],
        )
        rows = cursor.fetchall()
    bars = {first + timedelta(hours=i): HourBar(first + timedelta(hours=i), {}) for i in range(24)}
    for hour, status, count in rows:
        bar = bars.get(hour)
        if bar is not None:
            bar.counts[status] = int(count)
    return list(bars.values())


def failures_since(actor: Actor, since: datetime) -> int:
    actor.require(Cap.EXECUTIONS_READ)
    return Execution.objects.filter(
        workspace=actor.workspace, status=Status.FAILED, started_at__gte=since
    ).count()


def retention_days(workspace_id: int) -> int:
    found = (
        LogSettings.objects.filter(workspace_id=workspace_id)
        .values_list("retention_days", flat=True)
        .first()
    )
    return int(found) if found is not None else LogSettings.DEFAULT_RETENTION_DAYS


def log_settings(actor: Actor) -> dict[str, Any]:
    actor.require(Cap.EXECUTIONS_READ)
    return {"retention_days": retention_days(actor.workspace.pk)}
