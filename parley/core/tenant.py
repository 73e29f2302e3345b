"""The database wall: which workspace the current transaction may see.

Every tenant-owned table carries a row-level-security policy that compares
``workspace_id`` with the transaction-local setting ``parley.workspace_id``.
Requests and jobs set it at their start; a query that forgot its filter
therefore sees nothing of other tenants.

Cross-tenant work (schedulers scanning due rows, the operator console, token
and invitation lookups) goes through ``dangerously_cross_tenant``, the one
escape hatch, which names its reason and is logged every time.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import structlog
from django.db import connection, transaction

WORKSPACE_SETTING = "parley.workspace_id"
USER_SETTING = "parley.user_id"
CROSS_TENANT_SETTING = "parley.cross_tenant"

log = structlog.get_logger(__name__)


def _set(name: str, value: str) -> None:
    if not connection.in_atomic_block:
        # set_config(..., true) outside a transaction is silently lost.
        raise RuntimeError(f"{name} can only be set inside transaction.atomic()")
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, %s, true)", [name, value])


def activate_workspace(workspace_id: int | None) -> None:
    """Let the current transaction see one workspace's rows (None: none)."""
    _set(WORKSPACE_SETTING, "" if workspace_id is None else str(int(workspace_id)))
    structlog.contextvars.bind_contextvars(workspace_id=workspace_id)


def clear_transaction_settings() -> None:
    """Forget the workspace and user of this transaction (log context stays,
    so lines logged after the response still name the workspace)."""
    _set(WORKSPACE_SETTING, "")
    _set(USER_SETTING, "")


def activate_user(user_id: int | None) -> None:
    """Let the current transaction see the user's own memberships."""
    _set(USER_SETTING, "" if user_id is None else str(int(user_id)))


def current_workspace_id() -> int | None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT current_setting(%s, true)", [WORKSPACE_SETTING])
        row = cursor.fetchone()
    value = row[0] if row else None
    return int(value) if value else None


@contextmanager
def workspace_context(workspace_id: int) -> Iterator[None]:
    """A transaction that sees exactly one workspace (jobs, scripts, tests)."""
    with transaction.atomic():
        previous = current_workspace_id()
        activate_workspace(workspace_id)
        yield
        # On an exception the savepoint rollback restores the setting.
        activate_workspace(previous)


@contextmanager
def dangerously_cross_tenant(*, reason: str) -> Iterator[None]:
    """The single escape hatch through the row-level-security wall.

    Inside it every tenant row is visible. Keep the block small and give a
    reason a reviewer can check; each use is logged.
    """
    if not reason.strip():
        raise ValueError("dangerously_cross_tenant needs a reason")
    log.info("cross_tenant_access", reason=reason)
    with transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute("SELECT current_setting(%s, true)", [CROSS_TENANT_SETTING])
            row = cursor.fetchone()
        previous = (row[0] if row else None) or "off"
        _set(CROSS_TENANT_SETTING, "on")
        yield
        # Restore rather than switch off, so nesting keeps an outer hatch open.
        # On an exception the savepoint rollback restores the setting.
        _set(CROSS_TENANT_SETTING, previous)
