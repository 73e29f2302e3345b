"""The execution-log contract: every automation records its runs here.

Called by the workflow engine, the drip hooks, webhook deliveries and
auto-tag rules inside their own transaction (the workspace is already set),
often on hot paths. So each call is one statement: raw SQL, JSON serialised
once, the step position and the duration computed by the database. Only the
first failure of a source in an hour does more (it notifies the admins).

These functions take ids, not an actor: they record what the system did,
they are not something a member does.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import Any

import structlog
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from parley.core.errors import ActionError
from parley.executions.models import Kind, LogSettings, Status, StepStatus
from parley.tenancy.actions import record
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap

log = structlog.get_logger(__name__)

KINDS = frozenset(Kind.values)
STATUSES = frozenset(Status.values)
STEP_STATUSES = frozenset(StepStatus.values)
# Statuses that leave the run open: no finish time, no duration yet.
OPEN = frozenset({Status.RUNNING.value, Status.WAITING.value})

# A trigger, input or outcome larger than this (serialised) is kept as an
# excerpt: a webhook body of megabytes must not make each log row megabytes.
MAX_JSON_CHARS = 32_000
MAX_ERROR_CHARS = 4_000
MAX_LABEL_CHARS = 200


def _json(value: dict[str, Any] | None) -> str:
    text = json.dumps(value or {}, cls=DjangoJSONEncoder, ensure_ascii=False)
    if len(text) <= MAX_JSON_CHARS:
        return text
    return json.dumps(
        {"_truncated": True, "_chars": len(text), "excerpt": text[:MAX_JSON_CHARS]},
        ensure_ascii=False,
    )


def _check(value: str, allowed: frozenset[str], what: str) -> None:
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(sorted(allowed))}, not {value!r}")


def do_start_execution(
    *,
    workspace_id: int,
    kind: str,
    source_id: int | None,
    source_label: str,
    contact_id: int | None,
    trigger: dict[str, Any],
) -> int:
    """Open a run (status "running"); returns its id for the steps and the finish."""
    _check(kind, KINDS, "kind")
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO executions_execution (workspace_id, kind, source_id, source_label,
                   contact_id, trigger, status, error, started_at)
               VALUES (%s, %s, %s, %s, %s, %s::jsonb, 'running', '', clock_timestamp())
               RETURNING id""",
            [
                workspace_id,
                kind,
                source_id,
                source_label[:MAX_LABEL_CHARS],
                contact_id,
                _json(trigger),
            ],
        )
        row = cursor.fetchone()
    assert row is not None
    return int(row[0])


def do_record_step(
    *,
    workspace_id: int,
    execution_id: int,
    key: str,
    type: str,
    input: dict[str, Any],
    outcome: dict[str, Any],
    status: str,
    duration_ms: float,
    error: str = "",
) -> None:
    """Append a step to a run (numbered after its last one). A run that no
    longer exists (its log expired while it waited) is not an error: the
    automation goes on, the step is just not logged."""
    _check(status, STEP_STATUSES, "step status")
    with connection.cursor() as cursor:
        # INSERT ... SELECT from the run itself: the run must be this
        # workspace's (RLS applies to the SELECT; a foreign key check would not).
        cursor.execute(
            """INSERT INTO executions_executionstep (workspace_id, execution_id, position, key,
                   type, input, outcome, status, duration_ms, error, at)
               SELECT e.workspace_id, e.id,
                      (SELECT COALESCE(MAX(s.position), 0) + 1 FROM executions_executionstep s
                        WHERE s.workspace_id = e.workspace_id AND s.execution_id = e.id),
                      %s, %s, %s::jsonb, %s::jsonb, %s, %s, %s, clock_timestamp()
                 FROM executions_execution e
                WHERE e.workspace_id = %s AND e.id = %s""",
            [
                key[:100],
                type[:40],
                _json(input),
                _json(outcome),
                status,
                float(duration_ms),
                error[:MAX_ERROR_CHARS],
                workspace_id,
                execution_id,
            ],
        )
        if cursor.rowcount == 0:
            log.warning("execution_step_orphaned", execution_id=execution_id, key=key)


def do_finish_execution(
    *, workspace_id: int, execution_id: int, status: str, error: str = ""
) -> None:
    """Close a run (or park it as "waiting"). Its duration is wall-clock time
    since it started. A "failed" finish alerts the admins (once per source per hour)."""
    _check(status, STATUSES, "status")
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE executions_execution
                  SET status = %s, error = %s,
                      finished_at = CASE WHEN %s THEN NULL ELSE clock_timestamp() END,
                      duration_ms = CASE WHEN %s THEN NULL ELSE
                          EXTRACT(EPOCH FROM clock_timestamp() - started_at) * 1000 END
                WHERE workspace_id = %s AND id = %s
            RETURNING kind, source_id, source_label""",
            [
                status,
                error[:MAX_ERROR_CHARS],
                status in OPEN,
                status in OPEN,
                workspace_id,
                execution_id,
            ],
        )
        row = cursor.fetchone()
    if row is None:
        log.warning("execution_finish_orphaned", execution_id=execution_id, status=status)
        return
    if status == Status.FAILED:
        alert_failure(
            workspace_id=workspace_id,
            execution_id=execution_id,
            kind=row[0],
            source_id=row[1],
            source_label=row[2],
            error=error,
        )


def do_record_execution(
    *,
    workspace_id: int,
    kind: str,
    source_id: int | None,
    source_label: str,
    contact_id: int | None,
    trigger: dict[str, Any],
    status: str,
    error: str,
    duration_ms: float,
    steps: list[dict[str, Any]],
) -> int:
    """Record a whole run at once (a webhook delivery, a drip send, a rule):
    the run and its steps in one statement. Each step is a dict with ``key``,
    ``type``, ``input``, ``outcome``, ``status`` (ok|failed|skipped|waiting),
    ``duration_ms``, ``error`` and ``at`` (a datetime), all optional.
    Returns the run's id."""
    return do_record_executions(
        workspace_id=workspace_id,
        runs=[
            {
                "kind": kind,
                "source_id": source_id,
                "source_label": source_label,
                "contact_id": contact_id,
                "trigger": trigger,
                "status": status,
                "error": error,
                "duration_ms": duration_ms,
                "steps": steps,
            }
        ],
    )[0]


def _step_row(step: dict[str, Any]) -> dict[str, Any]:
    status = str(step.get("status") or StepStatus.OK)
    _check(status, STEP_STATUSES, "step status")
    return {
        "key": str(step.get("key") or "")[:100],
        "type": str(step.get("type") or "")[:40],
        # Serialised apart so each is capped on its own, then read back with
        # ->> and cast by the database.
        "input": _json(step.get("input")),
        "outcome": _json(step.get("outcome")),
        "status": status,
        "duration_ms": float(step.get("duration_ms") or 0),
        "error": str(step.get("error") or "")[:MAX_ERROR_CHARS],
        # When it happened, if the caller knows better than "now".
        "at": at.isoformat() if isinstance(at := step.get("at"), datetime) else None,
    }


def _run_row(run: dict[str, Any]) -> dict[str, Any]:
    kind = str(run["kind"])
    status = str(run["status"])
    _check(kind, KINDS, "kind")
    _check(status, STATUSES, "status")
    source_id = run.get("source_id")
    contact_id = run.get("contact_id")
    return {
        "kind": kind,
        "source_id": None if source_id is None else int(source_id),
        "source_label": str(run.get("source_label") or "")[:MAX_LABEL_CHARS],
        "contact_id": None if contact_id is None else int(contact_id),
        "trigger": _json(run.get("trigger")),
        "status": status,
        "open": status in OPEN,
        "error": str(run.get("error") or "")[:MAX_ERROR_CHARS],
        "duration_ms": float(run.get("duration_ms") or 0),
        "steps": [_step_row(step) for step in run.get("steps") or []],
    }


def do_record_executions(*, workspace_id: int, runs: list[dict[str, Any]]) -> list[int]:
    """Record finished runs in bulk (a batch of drip sends or webhook
    deliveries): every run and every step in ONE statement. Each run is a dict
    with the keyword arguments of ``do_record_execution``. Returns their ids,
    in order. Failed runs alert as ``do_finish_execution`` does."""
    if not runs:
        return []
    rows = [_run_row(run) for run in runs]
    with connection.cursor() as cursor:
        # The ids are drawn first (src is materialised once: nextval is
        # volatile) so the steps can point at their run without relying on
        # the order RETURNING gives. Data-modifying CTEs run whether or not
        # the outer query reads them. Started = now - duration.
        cursor.execute(
            """WITH src AS (
                 SELECT nextval(pg_get_serial_sequence('executions_execution', 'id')) AS id,
                        r.run, r.ord, clock_timestamp() AS now
                   FROM jsonb_array_elements(%s::jsonb) WITH ORDINALITY AS r(run, ord)),
               e AS (
                 INSERT INTO executions_execution (id, workspace_id, kind, source_id,
                        source_label, contact_id, trigger, status, error, started_at,
                        finished_at, duration_ms)
                 SELECT src.id, %s, src.run->>'kind', (src.run->>'source_id')::bigint,
                        src.run->>'source_label', (src.run->>'contact_id')::bigint,
                        (src.run->>'trigger')::jsonb, src.run->>'status', src.run->>'error',
                        src.now - make_interval(secs => (src.run->>'duration_ms')::float8 / 1000),
                        CASE WHEN (src.run->>'open')::boolean THEN NULL ELSE src.now END,
                        CASE WHEN (src.run->>'open')::boolean THEN NULL
                             ELSE (src.run->>'duration_ms')::float8 END
                   FROM src),
               s AS (
                 INSERT INTO executions_executionstep (workspace_id, execution_id, position,
                        key, type, input, outcome, status, duration_ms, error, at)
                 SELECT %s, src.id, st.position, st.step->>'key', st.step->>'type',
                        (st.step->>'input')::jsonb, (st.step->>'outcome')::jsonb,
                        st.step->>'status', (st.step->>'duration_ms')::float8,
                        st.step->>'error', COALESCE((st.step->>'at')::timestamptz, src.now)
                   FROM src, jsonb_array_elements(src.run->'steps')
                        WITH ORDINALITY AS st(step, position))
               SELECT id FROM src ORDER BY ord""",
            [json.dumps(rows, ensure_ascii=False), workspace_id, workspace_id],
        )
        ids = [int(row[0]) for row in cursor.fetchall()]
    alerted: set[tuple[str, int | None]] = set()
    for execution_id, row in zip(ids, rows, strict=True):
        key = (row["kind"], row["source_id"])
        if row["status"] == Status.FAILED and key not in alerted:
            alerted.add(key)
            alert_failure(
                workspace_id=workspace_id,
                execution_id=execution_id,
                kind=row["kind"],
                source_id=row["source_id"],
                source_label=row["source_label"],
                error=row["error"],
            )
    return ids


# -- alerts -------------------------------------------------------------------------------


def _hour(now: datetime) -> datetime:
    return now.replace(minute=0, second=0, microsecond=0)


def alert_failure(
    *,
    workspace_id: int,
    execution_id: int,
    kind: str,
    source_id: int | None,
    source_label: str,
    error: str,
    now: datetime | None = None,
) -> int:
    """Tell the workspace's owners and admins that an automation failed, at
    most once per source per hour. Returns how many were notified (0 when this
    source already alerted this hour)."""
    from parley.notifications.actions import do_notify
    from parley.notifications.models import Notification
    from parley.tenancy.models import Membership, Workspace
    from parley.tenancy.roles import Role

    hour = _hour(now or timezone.now())
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO executions_failurealert (workspace_id, kind, source_id, hour)
               VALUES (%s, %s, %s, %s) ON CONFLICT DO NOTHING""",
            [workspace_id, kind, source_id or 0, hour],
        )
        if cursor.rowcount == 0:
            return 0
    slug = Workspace.objects.filter(pk=workspace_id).values_list("slug", flat=True).first()
    url = reverse("executions_detail", args=[slug, execution_id]) if slug else ""
    recipients = Membership.objects.filter(
        workspace_id=workspace_id, role__in=[Role.OWNER, Role.ADMIN]
    ).values_list("user_id", flat=True)
    name = source_label or (f"{kind} #{source_id}" if source_id else kind)
    title = f"{Kind(kind).label} failed: {name}"
    dedupe = f"execfail:{kind}:{source_id or 0}:{hour:%Y%m%d%H}"
    sent = 0
    for user_id in recipients:
        sent += do_notify(
            workspace_id=workspace_id,
            user_id=user_id,
            kind=Notification.Kind.OTHER,
            title=title,
            body=error[:500],
            url=url,
            dedupe_key=dedupe,
        )
    return sent


# -- settings -----------------------------------------------------------------------------


def do_set_retention(*, actor: Actor, days: int) -> LogSettings:
    """How long the workspace keeps its execution logs (the nightly job deletes older runs)."""
    actor.require(Cap.WORKSPACE_MANAGE)
    low, high = LogSettings.MIN_RETENTION_DAYS, LogSettings.MAX_RETENTION_DAYS
    if not low <= days <= high:
        raise ActionError(
            f"Keep logs between {low} and {high} days.", code="invalid_retention", field="days"
        )
    found = LogSettings.objects.filter(workspace=actor.workspace).first()
    before = found.retention_days if found else LogSettings.DEFAULT_RETENTION_DAYS
    settings, _ = LogSettings.objects.update_or_create(
        workspace=actor.workspace,
        defaults={"retention_days": days, "updated_at": timezone.now()},
    )
    if before != days:
        record(actor, "executions.retention_changed", before=before, after=days)
    return settings
