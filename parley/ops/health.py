"""Liveness and readiness probes."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.db import DatabaseError, connection
from django.db.migrations.executor import MigrationExecutor


def check_database() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True, "ok"
    except DatabaseError as exc:
        return False, f"unreachable: {exc.__class__.__name__}"


def check_migrations() -> tuple[bool, str]:
    try:
        executor = MigrationExecutor(connection)
        plan = executor.migration_plan(executor.loader.graph.leaf_nodes())
    except DatabaseError as exc:
        return False, f"unknown: {exc.__class__.__name__}"
    if plan:
        return False, f"{len(plan)} migration(s) not applied"
    return True, "ok"


def check_worker() -> tuple[bool, str]:
    try:
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT EXTRACT(EPOCH FROM (NOW() - MAX(last_heartbeat)))"
                " FROM procrastinate_workers"
            )
            row = cursor.fetchone()
    except DatabaseError as exc:
        return False, f"unknown: {exc.__class__.__name__}"
    age = row[0] if row else None
    if age is None:
        return False, "no worker has reported"
    limit = settings.PARLEY_READY_HEARTBEAT_SECONDS
    if float(age) > limit:
        return False, f"last worker heartbeat {float(age):.0f}s ago (limit {limit}s)"
    return True, f"heartbeat {float(age):.0f}s ago"


def readiness() -> dict[str, Any]:
    checks = {}
    db_ok, db_detail = check_database()
    checks["database"] = {"ok": db_ok, "detail": db_detail}
    if db_ok:
        for name, fn in (("migrations", check_migrations), ("worker", check_worker)):
            ok, detail = fn()
            checks[name] = {"ok": ok, "detail": detail}
    return {"ready": all(c["ok"] for c in checks.values()), "checks": checks}
