"""Search words for the contacts an import creates, written after their chunk
instead of by the insert trigger inside it.

Why: the words (to_tsvector over name, email and attributes, six rows of
core_searchterm per contact, each with its foreign-key check) cost the
database more than the contacts themselves. Done apart, they run on a
second connection while the main one writes the next chunks, so the two
overlap instead of adding up.

Why it stays exact: the chunk's ImportChunk row lists the contacts it
created and says whether their words are written (``words_done``). A crash
between the two leaves that flag false, and the rerun's finish writes them.
Only the import's own INSERT skips the trigger (a transaction-local setting
read by search migration 0004); every other insert, and every update,
including the import's updates of existing contacts, keeps the trigger."""

from __future__ import annotations

import queue
import threading
from collections.abc import Iterator
from contextlib import contextmanager

from django.db import connection

from parley.core.models import SearchTerm
from parley.core.tenant import workspace_context
from parley.crm.models import Contact
from parley.transfer.models import ImportChunk

# Read by parley_contact_terms_insert() (search migration 0004).
SETTING = "parley.contact_terms"
# Chunks filled in one transaction by the words thread when it lags behind.
MAX_CHUNKS_PER_FILL = 5


@contextmanager
def words_deferred() -> Iterator[None]:
    """Inside the block, contacts inserted on this connection get no words
    from the trigger: the caller owes them (ImportChunk.created_ids)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT set_config(%s, 'deferred', true)", [SETTING])
        try:
            yield
        finally:
            cursor.execute("SELECT set_config(%s, '', true)", [SETTING])


def fill_words(workspace_id: int, import_id: int, chunk_ids: list[int] | None = None) -> int:
    """Write the words of the contacts created by the import's chunks whose
    words are pending (only those of ``chunk_ids`` when given); returns how
    many chunks. Runs inside the caller's workspace transaction.

    The chunks are locked first, so two fillers (the words thread and a
    rerun's finish) never write the same chunk at once. ON CONFLICT covers a
    contact edited between its chunk and its words: the update trigger
    already wrote the new words."""
    chunks = ImportChunk._meta.db_table
    with connection.cursor() as cursor:
        only = " AND id = ANY(%s)" if chunk_ids is not None else ""
        cursor.execute(
            f"SELECT id FROM {chunks} WHERE workspace_id = %s AND contact_import_id = %s "
            f"AND NOT words_done{only} ORDER BY id FOR UPDATE",
            [workspace_id, import_id, *([chunk_ids] if chunk_ids is not None else [])],
        )
        ids = [row[0] for row in cursor.fetchall()]
        if not ids:
            return 0
        cursor.execute(
            f"INSERT INTO {SearchTerm._meta.db_table} (workspace_id, kind, term, object_id) "
            "SELECT c.workspace_id, %s, t, c.id "
            f"FROM {chunks} k CROSS JOIN LATERAL unnest(k.created_ids) AS n(id) "
            f"JOIN {Contact._meta.db_table} c ON c.workspace_id = k.workspace_id AND c.id = n.id "
            "CROSS JOIN LATERAL parley_contact_terms("
            "c.name, c.profile_name, c.email, c.wa_id, c.attributes) AS t "
            "WHERE k.workspace_id = %s AND k.id = ANY(%s) "
            "ON CONFLICT DO NOTHING",
            [int(SearchTerm.Kind.CONTACT), workspace_id, ids],
        )
        cursor.execute(
            f"UPDATE {chunks} SET words_done = true WHERE workspace_id = %s AND id = ANY(%s)",
            [workspace_id, ids],
        )
    return len(ids)


_STOP = -1


class WordsWriter:
    """Fills the words of committed chunks, behind the chunk loop.

    Threaded, it uses a connection of its own (Django's connections are per
    thread). Inline, for a caller already inside a transaction (tests, a
    shell): another connection would not see the chunks, so each one is
    filled right after it is written."""

    def __init__(self, workspace_id: int, import_id: int, *, threaded: bool) -> None:
        self.workspace_id = workspace_id
        self.import_id = import_id
        self.error: BaseException | None = None
        self._queue: queue.Queue[int] = queue.Queue()
        self._thread: threading.Thread | None = None
        if threaded:
            self._thread = threading.Thread(
                target=self._run, name=f"import-{import_id}-words", daemon=True
            )
            self._thread.start()

    def submit(self, chunk_id: int | None) -> None:
        if self.error is not None:
            raise self.error
        if chunk_id is None:
            return
        if self._thread is None:
            self._fill([chunk_id])
        else:
            self._queue.put(chunk_id)

    def close(self) -> None:
        """Wait for the words of every submitted chunk; raise its error."""
        if self._thread is not None:
            self._queue.put(_STOP)
            self._thread.join()
            self._thread = None
        if self.error is not None:
            raise self.error

    def _fill(self, chunk_ids: list[int]) -> None:
        with workspace_context(self.workspace_id):
            fill_words(self.workspace_id, self.import_id, chunk_ids)

    def _run(self) -> None:
        try:
            stopping = False
            while not stopping:
                batch = [self._queue.get()]
                while len(batch) < MAX_CHUNKS_PER_FILL:
                    try:
                        batch.append(self._queue.get_nowait())
                    except queue.Empty:
                        break
                stopping = _STOP in batch
                ids = [i for i in batch if i != _STOP]
                if ids:
                    self._fill(ids)
        except BaseException as exc:  # handed to the chunk loop, raised there
            self.error = exc
        finally:
            connection.close()
