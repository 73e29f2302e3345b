"""What a running import has written so far: the numbers seen (for "duplicate
of row N" across chunks and resumes) and the chunks committed.

The numbers live in a temporary table of the job's session: no row-level
security, no foreign keys, no WAL, so checking a chunk's 10,000 numbers costs
a fraction of what a tenant table did. A temporary table dies with its
session, so each committed chunk also keeps its numbers as arrays in ONE
ImportChunk row (same transaction as its contacts); a rerun refills the
table from them before going on."""

from __future__ import annotations

import contextlib

from django.db import DatabaseError, connection, transaction

from parley.core.tenant import workspace_context
from parley.transfer.models import ImportChunk
from parley.transfer.rows import Good

CHUNKS = ImportChunk._meta.db_table


def seen_table(import_id: int) -> str:
    return f"transfer_seen_{int(import_id)}"


def open_seen(workspace_id: int, import_id: int) -> str:
    """A fresh temporary table holding the numbers of the committed chunks;
    returns its name. Committed on its own, so a chunk rolled back later
    takes only its own numbers with it."""
    name = seen_table(import_id)
    _room_for_temporary_tables()
    with workspace_context(workspace_id), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")
        cursor.execute(
            f"CREATE TEMP TABLE {name} (wa_id text PRIMARY KEY, row_number int NOT NULL)"
        )
        cursor.execute(
            f"INSERT INTO pg_temp.{name} (wa_id, row_number) "
            "SELECT k.wa_id, k.row_number "
            f"FROM {CHUNKS} c, unnest(c.wa_ids, c.row_numbers) AS k(wa_id, row_number) "
            "WHERE c.workspace_id = %s AND c.contact_import_id = %s",
            [workspace_id, import_id],
        )
    return name


# A temporary table lives in its session's own buffers, 8 MB by default; 1M
# numbers and their key take about 90 MB, so lookups went to temporary files
# (1M numbers in random order: 13.4 s, and 8.3 s with this). The buffers are
# taken as the table grows and kept until the session ends.
TEMP_BUFFERS = "256MB"


def _room_for_temporary_tables() -> None:
    """Raise this session's temp_buffers, if it can still change: PostgreSQL
    refuses once the session has used a temporary table (a worker's earlier
    import), and then the table simply spills as before."""
    with contextlib.suppress(DatabaseError), transaction.atomic(), connection.cursor() as cursor:
        cursor.execute("SELECT set_config('temp_buffers', %s, false)", [TEMP_BUFFERS])


def close_seen(name: str) -> None:
    """Best effort: a session that outlives the job (a worker's) should not
    keep the table; a rerun drops it anyway."""
    with contextlib.suppress(DatabaseError), connection.cursor() as cursor:
        cursor.execute(f"DROP TABLE IF EXISTS pg_temp.{name}")


def first_seen(name: str, good: list[Good]) -> tuple[list[Good], dict[str, int]]:
    """Record this chunk's numbers. Returns the rows whose number is new, and
    for the others the row that brought the number first."""
    if not good:
        return good, {}
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO pg_temp.{name} (wa_id, row_number) "
            "SELECT * FROM unnest(%s::text[], %s::int[]) "
            "ON CONFLICT (wa_id) DO NOTHING RETURNING wa_id",
            [[g.wa_id for g in good], [g.row_number for g in good]],
        )
        fresh = {row[0] for row in cursor.fetchall()}
        if len(fresh) == len(good):
            return good, {}
        seen = [g.wa_id for g in good if g.wa_id not in fresh]
        cursor.execute(
            f"SELECT wa_id, row_number FROM pg_temp.{name} WHERE wa_id = ANY(%s)", [seen]
        )
        first_row = dict(cursor.fetchall())
    return [g for g in good if g.wa_id in fresh], first_row


def record_chunk(
    *,
    workspace_id: int,
    import_id: int,
    first_row: int,
    kept: list[Good],
    created_ids: list[int],
) -> int | None:
    """The chunk's row of ImportChunk (in the chunk's transaction); its id,
    or None when the chunk brought no number."""
    if not kept:
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {CHUNKS} (workspace_id, contact_import_id, first_row, wa_ids, "
            "row_numbers, created_ids, words_done) "
            "VALUES (%s, %s, %s, %s::text[], %s::int[], %s::bigint[], %s) RETURNING id",
            [
                workspace_id,
                import_id,
                first_row,
                [g.wa_id for g in kept],
                [g.row_number for g in kept],
                created_ids,
                not created_ids,
            ],
        )
        row = cursor.fetchone()
    return int(row[0]) if row else None
