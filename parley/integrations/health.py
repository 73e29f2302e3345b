"""Endpoint health: success rates over the last 24 hours, the hourly chart,
disabling an endpoint that has failed for the whole window (and telling its
workspace's admins), and each finished delivery in the execution log."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

import structlog
from django.conf import settings
from django.db import connection
from django.urls import reverse
from django.utils import timezone

from parley.core import interest
from parley.integrations.models import Delivery, DeliveryStatus, Endpoint

if TYPE_CHECKING:
    from parley.integrations.sender import Outgoing

log = structlog.get_logger(__name__)

HOURS = 24


@dataclass(frozen=True)
class Rate:
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed

    @property
    def percent(self) -> float | None:
        """Successful attempts / all attempts, or None without any attempt."""
        return round(100.0 * self.succeeded / self.total, 1) if self.total else None


@dataclass(frozen=True)
class Hour:
    start: datetime
    succeeded: int
    failed: int

    @property
    def total(self) -> int:
        return self.succeeded + self.failed


def success_rates(workspace_id: int, endpoint_ids: list[int]) -> dict[int, Rate]:
    """Per endpoint, its attempts of the last 24 h: answered 2xx, or not."""
    if not endpoint_ids:
        return {}
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT d.endpoint_id,
                      count(*) FILTER (WHERE a.response_status BETWEEN 200 AND 299),
                      count(*) FILTER (WHERE a.response_status IS NULL
                                          OR a.response_status NOT BETWEEN 200 AND 299)
                 FROM integrations_attempt a
                 JOIN integrations_delivery d
                   ON d.id = a.delivery_id AND d.workspace_id = a.workspace_id
                WHERE a.workspace_id = %s AND d.endpoint_id = ANY(%s)
                  AND d.created_at >= now() - interval '48 hours'
                  AND a.at >= now() - interval '24 hours'
                GROUP BY d.endpoint_id""",
            [workspace_id, endpoint_ids],
        )
        found = {int(e): Rate(int(s), int(f)) for e, s, f in cursor.fetchall()}
    return {pk: found.get(pk, Rate(0, 0)) for pk in endpoint_ids}


def hourly(workspace_id: int, endpoint_id: int) -> list[Hour]:
    """The last 24 hours of one endpoint's attempts, oldest hour first."""
    now = timezone.now()
    start = now.replace(minute=0, second=0, microsecond=0) - timedelta(hours=HOURS - 1)
    with connection.cursor() as cursor:
        cursor.execute(
            """SELECT date_trunc('hour', a.at),
                      count(*) FILTER (WHERE a.response_status BETWEEN 200 AND 299),
                      count(*) FILTER (WHERE a.response_status IS NULL
                                          OR a.response_status NOT BETWEEN 200 AND 299)
                 FROM integrations_attempt a
                 JOIN integrations_delivery d
                   ON d.id = a.delivery_id AND d.workspace_id = a.workspace_id
                WHERE a.workspace_id = %s AND d.endpoint_id = %s
                  AND d.created_at >= %s - interval '24 hours' AND a.at >= %s
                GROUP BY 1""",
            [workspace_id, endpoint_id, start, start],
        )
        rows = {r[0]: (int(r[1]), int(r[2])) for r in cursor.fetchall()}
    hours = []
    for n in range(HOURS):
        at = start + timedelta(hours=n)
        ok, bad = rows.get(at, (0, 0))
        hours.append(Hour(at, ok, bad))
    return hours


def disable_if_failing(workspace_id: int, endpoint: Endpoint, now: datetime) -> bool:
    """Disable ``endpoint`` if it has not succeeded for the whole window;
    its pending deliveries die and the workspace's admins and owners are told."""
    limit = timedelta(seconds=settings.WEBHOOKS_DISABLE_AFTER_SECONDS)
    if not endpoint.enabled or endpoint.failing_since is None:
        return False
    if now - endpoint.failing_since < limit:
        return False
    hours = limit.total_seconds() / 3600
    span = f"{hours:g} hours" if hours >= 1 else f"{limit.total_seconds():g} seconds"
    reason = (
        f"Disabled automatically: every delivery failed for {span} "
        f"({endpoint.consecutive_failures} attempts in a row)."
    )
    changed = Endpoint.objects.filter(
        workspace_id=workspace_id, pk=endpoint.pk, enabled=True
    ).update(enabled=False, disabled_reason=reason, updated_at=now)
    if not changed:
        return False
    interest.bump(workspace_id)
    endpoint.enabled, endpoint.disabled_reason = False, reason
    Delivery.objects.filter(
        workspace_id=workspace_id, endpoint_id=endpoint.pk, status=DeliveryStatus.PENDING
    ).update(status=DeliveryStatus.DEAD, error="The endpoint was disabled.", finished_at=now)
    _tell_admins(workspace_id, endpoint, reason)
    log.warning("webhook_endpoint_disabled", endpoint_id=endpoint.pk)
    return True


def _tell_admins(workspace_id: int, endpoint: Endpoint, reason: str) -> None:
    from parley.notifications.actions import do_notify
    from parley.notifications.models import Notification
    from parley.tenancy.models import Membership, Workspace
    from parley.tenancy.roles import Role

    slug = Workspace.objects.filter(pk=workspace_id).values_list("slug", flat=True).first() or ""
    url = reverse("webhooks_endpoint", args=[slug, endpoint.pk]) if slug else ""
    users = Membership.objects.filter(
        workspace_id=workspace_id, role__in=[Role.OWNER, Role.ADMIN]
    ).values_list("user_id", flat=True)
    since = int(endpoint.failing_since.timestamp()) if endpoint.failing_since else 0
    for user_id in users:
        do_notify(
            workspace_id=workspace_id,
            user_id=user_id,
            kind=Notification.Kind.OTHER,
            title=f"Webhook endpoint disabled: {endpoint.url}"[:200],
            body=reason,
            url=url,
            # Once per failing spell: a re-enabled endpoint that fails again tells again.
            dedupe_key=f"webhook-disabled:{endpoint.pk}:{since}",
        )


def record_executions(workspace_id: int, items: list[Outgoing]) -> int:
    """Each finished delivery as one run of kind "webhook" in the execution
    log (one statement per batch), if that app is installed: it is optional
    for this one."""
    if not items:
        return 0
    try:
        from parley.executions.actions import do_record_executions
    except ImportError:
        return 0
    runs: list[dict[str, Any]] = []
    for item in items:
        delivery = item.delivery
        ok = delivery.status == DeliveryStatus.SUCCEEDED
        step: dict[str, Any] = {
            "key": f"attempt-{delivery.attempts}",
            "type": "http",
            "input": {"url": item.endpoint.url, "event": delivery.event_type},
            "outcome": {
                "status_code": delivery.last_status_code,
                "body_excerpt": delivery.last_body_excerpt,
            },
            "status": "ok" if ok else "failed",
            "duration_ms": delivery.last_latency_ms or 0.0,
            "error": delivery.error,
        }
        runs.append(
            {
                "kind": "webhook",
                "source_id": item.endpoint.pk,
                "source_label": item.endpoint.description or item.endpoint.url,
                "contact_id": delivery.contact_id,
                "trigger": {
                    "event": delivery.event_type,
                    "event_id": str(delivery.event_id),
                    "delivery_id": delivery.pk,
                    "attempts": delivery.attempts,
                },
                "status": "succeeded" if ok else "failed",
                "error": delivery.error,
                "duration_ms": delivery.last_latency_ms or 0.0,
                "steps": [step],
            }
        )
    do_record_executions(workspace_id=workspace_id, runs=runs)
    return len(runs)
