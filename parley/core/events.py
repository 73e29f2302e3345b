"""Live events: PostgreSQL NOTIFY with ids only. NOTIFY is transactional, so
listeners hear of a change exactly when it commits, never of a rolled-back one.
Each web process holds one LISTEN connection and fans out to its browsers."""

from __future__ import annotations

import json

from django.db import connection

CHANNEL = "parley_events"


def publish(workspace_id: int, kind: str, object_id: int) -> None:
    payload = json.dumps({"w": workspace_id, "k": kind, "id": object_id}, separators=(",", ":"))
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, %s)", [CHANNEL, payload])


def publish_many(workspace_id: int, kind: str, object_ids: list[int]) -> None:
    """One statement for many events (a batch touching many conversations)."""
    if not object_ids:
        return
    payloads = [
        json.dumps({"w": workspace_id, "k": kind, "id": i}, separators=(",", ":"))
        for i in object_ids
    ]
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_notify(%s, p) FROM unnest(%s::text[]) AS p", [CHANNEL, payloads])
