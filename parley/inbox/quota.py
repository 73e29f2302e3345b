"""The monthly message quota, reserved atomically when a message is queued."""

from __future__ import annotations

from datetime import date

from django.db import connection
from django.utils import timezone

from parley.core.errors import ActionError
from parley.inbox.models import MonthlyUsage
from parley.tenancy.models import Workspace


def month_start(today: date | None = None) -> date:
    today = today or timezone.now().date()
    return today.replace(day=1)


def usage(workspace: Workspace) -> int:
    row = MonthlyUsage.objects.filter(workspace=workspace, month=month_start()).first()
    return row.outbound if row else 0


def reserve(workspace: Workspace, count: int = 1) -> int:
    """Count ``count`` messages against this month's quota, or refuse them all.

    One UPDATE with the limit in its WHERE clause: concurrent senders cannot
    overshoot the quota between a check and an increment.
    """
    month = month_start()
    MonthlyUsage.objects.get_or_create(workspace=workspace, month=month)
    with connection.cursor() as cursor:
        cursor.execute(
            """UPDATE inbox_monthlyusage SET outbound = outbound + %s
                WHERE workspace_id = %s AND month = %s AND outbound + %s <= %s
            RETURNING outbound""",
            [count, workspace.pk, month, count, workspace.monthly_message_quota],
        )
        row = cursor.fetchone()
    if row is None:
        raise ActionError(
            f"This workspace has used its {workspace.monthly_message_quota:,} messages for this "
            "month. An owner can change the plan to send more.",
            code="quota_exceeded",
        )
    return int(row[0])


def level(workspace: Workspace) -> str:
    """'ok', 'warn' (80% used) or 'full', for the UI's banner."""
    used = usage(workspace)
    quota = workspace.monthly_message_quota
    if used >= quota:
        return "full"
    if used >= quota * 0.8:
        return "warn"
    return "ok"
