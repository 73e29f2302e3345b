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
