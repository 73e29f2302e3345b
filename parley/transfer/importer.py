"""Running an import: the file streamed in chunks, each chunk written in ONE
transaction together with the checkpoint and the counters.

A crash (or a killed worker) loses at most the chunk in flight; the rerun
skips the records before the checkpoint and goes on. Nothing is doubled:
contacts are upserted on (workspace_id, wa_id), the numbers seen so far live
in the chunks' ImportChunk rows (so "duplicate of row N" holds across chunks
and resumes, see ledger), and rejected rows live in ImportReject keyed by
row number until the error file is rendered from them at the end. The
search words of created contacts follow their chunk on a second connection
(see words); the finish completes any a crash left pending.

COPY is refused on tables under row-level security, so every write is one
INSERT ... SELECT FROM unnest(arrays) per chunk."""

from __future__ import annotations

import contextlib
import csv
import io
import queue
import tempfile
import threading
from collections.abc import Callable, Generator, Iterator
from dataclasses import dataclass, field
from itertools import islice
from typing import Any

import structlog
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import connection
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.models import AttributeDefinition, Contact, Tag
from parley.transfer.ledger import close_seen, first_seen, open_seen, record_chunk
from parley.transfer.models import ContactImport, ImportChunk, ImportReject, ImportStatus
from parley.transfer.rows import Good, RowCleaner
from parley.transfer.sources import SourceError, is_blank, iter_records
from parley.transfer.words import WordsWriter, fill_words, words_deferred

log = structlog.get_logger(__name__)

CHUNK_ROWS = 10_000


@dataclass
class ChunkResult:
    created: int = 0
    updated: int = 0
    skipped: int = 0
    rejects: list[tuple[int, list[str], str]] = field(default_factory=list)
    chunk_id: int | None = None  # its ImportChunk row, None when it brought no number


def cleaner_for(imp: ContactImport) -> RowCleaner:
    definitions = {
        d.key: d for d in AttributeDefinition.objects.filter(workspace_id=imp.workspace_id)
    }
    return RowCleaner(imp.mapping, definitions, imp.options.get("default_country") or "US")


def records_of(imp: ContactImport) -> Iterator[tuple[int, list[str]]]:
    return iter_records(imp.file, imp.format, encoding=imp.encoding, delimiter=imp.delimiter)


def data_records(imp: ContactImport, skip: int = 0) -> Iterator[tuple[int, list[str]]]:
    """The records after the header row (and after ``skip`` consumed records)."""
    records = records_of(imp)
    header_seen = skip > 0
    for number, cells in records:
        if number <= skip:
            continue
        if not header_seen:
            if not is_blank(cells):
                header_seen = True
            continue
        yield number, cells


def run_import(
    workspace_id: int,
    import_id: int,
    *,
    chunk_rows: int = CHUNK_ROWS,
    after_chunk: Callable[[ContactImport], None] | None = None,
) -> None:
    """The job's body. Manages its own transactions (one per chunk)."""
    # Inside a caller's transaction (tests, a shell) a second connection
    # would not see the chunks: their words are then written inline.
    threaded = not connection.in_atomic_block
    with workspace_context(workspace_id):
        imp = ContactImport.objects.select_for_update().filter(pk=import_id).first()
        if imp is None or imp.status not in (ImportStatus.QUEUED, ImportStatus.RUNNING):
            return
        if imp.status == ImportStatus.QUEUED:
            imp.status = ImportStatus.RUNNING
            imp.started_at = timezone.now()
            imp.save(update_fields=["status", "started_at"])
        cleaner = cleaner_for(imp)
        tag_ids = [int(t) for t in imp.options.get("tag_ids", [])]
    update = bool(imp.options.get("update_existing", True))
    tags = TagResolver(workspace_id)
    expected = imp.checkpoint
    seen = open_seen(workspace_id, import_id)
    words = WordsWriter(workspace_id, import_id, threaded=threaded)
    chunks = _prepared_chunks(imp, cleaner, chunk_rows)
    try:
        for chunk in chunks:
            with workspace_context(workspace_id):
                locked = ContactImport.objects.select_for_update().get(pk=import_id)
                if locked.status != ImportStatus.RUNNING or locked.checkpoint != expected:
                    # Another run of this job moved on (or the import was
                    # stopped): this one must not write the chunk again.
                    log.warning("import_superseded", import_id=import_id)
                    return
                result = write_chunk(
                    locked, chunk, update=update, tag_ids=tag_ids, tags=tags, seen=seen
                )
                locked.rows_done += chunk.rows
                locked.created += result.created
                locked.updated += result.updated
                locked.skipped += result.skipped
                locked.rejected += len(result.rejects)
                locked.checkpoint = chunk.consumed
                locked.rows_total = max(locked.rows_total, locked.rows_done)
                locked.save(
                    update_fields=[
                        "rows_done",
                        "created",
                        "updated",
                        "skipped",
                        "rejected",
                        "checkpoint",
                        "rows_total",
                    ]
                )
            expected = chunk.consumed
            words.submit(result.chunk_id)
            if after_chunk is not None:
                after_chunk(locked)
        words.close()
    except SourceError as exc:
        words.close()
        _fail(workspace_id, import_id, str(exc))
        return
    finally:
        chunks.close()
        # After an error: let the words thread finish what it has (its
        # chunks stay pending otherwise, for the rerun) and drop its error.
        with contextlib.suppress(Exception):
            words.close()
        close_seen(seen)
    finish(workspace_id, import_id)


@dataclass
class Prepared:
    """A chunk read and checked, ready to write: no query has run yet."""

    first: int  # the first record number of the chunk
    consumed: int  # the last record number of the chunk
    rows: int  # non-blank records
    good: list[Good]
    cells_of: dict[int, list[str]]
    rejects: list[tuple[int, list[str], str]]


def prepare_chunk(batch: list[tuple[int, list[str]]], cleaner: RowCleaner) -> Prepared:
    chunk = Prepared(
        first=batch[0][0], consumed=batch[-1][0], rows=0, good=[], cells_of={}, rejects=[]
    )
    first_in_chunk: dict[str, int] = {}
    for number, cells in batch:
        if is_blank(cells):
            continue
        chunk.rows += 1
        outcome = cleaner.clean(number, cells)
        if isinstance(outcome, str):
            chunk.rejects.append((number, cells, outcome))
            continue
        earlier = first_in_chunk.get(outcome.wa_id)
        if earlier is not None:
            chunk.rejects.append((number, cells, f"duplicate of row {earlier}"))
            continue
        first_in_chunk[outcome.wa_id] = number
        chunk.cells_of[number] = cells
        chunk.good.append(outcome)
    return chunk


_DONE = object()


def _prepared_chunks(
    imp: ContactImport, cleaner: RowCleaner, chunk_rows: int
) -> Generator[Prepared, None, None]:
    """Chunks read and checked by a thread of their own, one or two ahead:
    parsing numbers (CPU) overlaps with the database writing the previous
    chunk (the main thread waits on the socket, without the GIL)."""
    ahead: queue.Queue[Any] = queue.Queue(maxsize=2)
    stop = threading.Event()

    def read() -> None:
        try:
            records = data_records(imp, skip=imp.checkpoint)
            while not stop.is_set():
                batch = list(islice(records, chunk_rows))
                if not batch:
                    break
                ahead.put(prepare_chunk(batch, cleaner))
            ahead.put(_DONE)
        except BaseException as exc:  # handed to the consumer, raised there
            ahead.put(exc)

    reader = threading.Thread(target=read, name=f"import-{imp.pk}-reader", daemon=True)
    reader.start()
    try:
        while True:
            item = ahead.get()
            if item is _DONE:
                return
            if isinstance(item, BaseException):
                raise item
            yield item
    finally:
        stop.set()
        while reader.is_alive():
            # Unblock a reader waiting on a full queue.
            with contextlib.suppress(queue.Empty):
                ahead.get(timeout=0.05)
        reader.join()


def write_chunk(
    imp: ContactImport,
    chunk: Prepared,
    *,
    update: bool,
    tag_ids: list[int],
    tags: TagResolver,
    seen: str,
) -> ChunkResult:
    """The chunk's contacts, tags, rejects and ImportChunk row; the caller's
    transaction holds them all. ``seen`` is the ledger's table of numbers."""
    result = ChunkResult(rejects=list(chunk.rejects))
    good, first_row = first_seen(seen, chunk.good)
    if first_row:
        # Rows whose number an earlier chunk brought are duplicates of that row.
        for g in chunk.good:
            if g.wa_id in first_row:
                reason = f"duplicate of row {first_row[g.wa_id]}"
                result.rejects.append((g.row_number, chunk.cells_of[g.row_number], reason))
        result.rejects.sort(key=lambda r: r[0])
    with words_deferred():
        written = _upsert_contacts(imp.workspace_id, good, update=update)
    if update:
        result.created = sum(1 for _id, inserted in written.values() if inserted)
        result.updated = len(written) - result.created
    else:
        result.created = len(written)
        result.skipped = len(good) - len(written)
    _tag(imp.workspace_id, good, written, tag_ids, tags)
    _store_rejects(imp, result.rejects)
    result.chunk_id = record_chunk(
        workspace_id=imp.workspace_id,
        import_id=imp.pk,
        first_row=chunk.first,
        kept=good,
        created_ids=[pk for pk, inserted in written.values() if inserted],
    )
    return result


def _contact_defaults() -> tuple[list[str], list[Any]]:
    """Columns of crm_contact the import does not set, with their model
    defaults (so a field added to Contact later needs no change here)."""
    own = {"id", "workspace", "wa_id", "phone_e164", "name", "email", "attributes"}
    own |= {"created_at", "updated_at"}
    columns, values = [], []
    for f in Contact._meta.concrete_fields:
        if f.name in own or (f.null and not f.has_default()):
            continue
        columns.append(connection.ops.quote_name(str(f.column)))
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return columns, values


def _upsert_contacts(
    workspace_id: int, good: list[Good], *, update: bool
) -> dict[str, tuple[int, bool]]:
    """wa_id -> (contact id, inserted) for the contacts written."""
    if not good:
        return {}
    table = Contact._meta.db_table
    extra_cols, extra_vals = _contact_defaults()
    now = timezone.now()
    extra_sql = "".join(f", {c}" for c in extra_cols)
    extra_params = "".join(", %s" for _ in extra_vals)
    if update:
        conflict = (
            "DO UPDATE SET "
            f"name = CASE WHEN EXCLUDED.name <> '' THEN EXCLUDED.name ELSE {table}.name END, "
            f"email = CASE WHEN EXCLUDED.email <> '' THEN EXCLUDED.email ELSE {table}.email END, "
            f"attributes = {table}.attributes || EXCLUDED.attributes, "
            "updated_at = EXCLUDED.updated_at"
        )
    else:
        conflict = "DO NOTHING"
    sql = (
        f"INSERT INTO {table} (workspace_id, wa_id, phone_e164, name, email, attributes, "
        f"created_at, updated_at{extra_sql}) "
        f"SELECT %s, v.wa_id, v.e164, v.name, v.email, v.attrs::jsonb, %s, %s{extra_params} "
        "FROM unnest(%s::text[], %s::text[], %s::text[], %s::text[], %s::text[]) "
        "AS v(wa_id, e164, name, email, attrs) "
        f"ON CONFLICT (workspace_id, wa_id) {conflict} "
        "RETURNING wa_id, id, (xmax = 0)"
    )
    params = [
        workspace_id,
        now,
        now,
        *extra_vals,
        [g.wa_id for g in good],
        [g.e164 for g in good],
        [g.name for g in good],
        [g.email for g in good],
        [g.attributes for g in good],
    ]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {wa_id: (pk, inserted) for wa_id, pk, inserted in cursor.fetchall()}


class TagResolver:
    """Tag names to ids, matched case-insensitively like the tag form does,
    created when missing."""

    def __init__(self, workspace_id: int) -> None:
        self.workspace_id = workspace_id
        self.ids: dict[str, int] = {}

    def resolve(self, names: set[str]) -> None:
        missing = {n.lower(): n for n in names if n.lower() not in self.ids}
        if not missing:
            return
        self._load(list(missing))
        new = [n for low, n in missing.items() if low not in self.ids]
        if new:
            Tag.objects.bulk_create(
                [Tag(workspace_id=self.workspace_id, name=n) for n in new], ignore_conflicts=True
            )
            self._load([n.lower() for n in new])

    def _load(self, lowered: list[str]) -> None:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT lower(name), min(id) FROM {Tag._meta.db_table} "
                "WHERE workspace_id = %s AND lower(name) = ANY(%s) GROUP BY lower(name)",
                [self.workspace_id, lowered],
            )
            self.ids.update(dict(cursor.fetchall()))


def _tag(
    workspace_id: int,
    good: list[Good],
    written: dict[str, tuple[int, bool]],
    tag_ids: list[int],
    tags: TagResolver,
) -> None:
    names = {t for g in good if g.wa_id in written for t in g.tags}
    tags.resolve(names)
    contact_ids: list[int] = []
    tag_list: list[int] = []
    for g in good:
        hit = written.get(g.wa_id)
        if hit is None:
            continue
        wanted = set(tag_ids) | {tags.ids[t.lower()] for t in g.tags}
        for tag_id in wanted:
            contact_ids.append(hit[0])
            tag_list.append(tag_id)
    if not contact_ids:
        return
    with connection.cursor() as cursor:
        cursor.execute(
            "INSERT INTO crm_contacttag (workspace_id, contact_id, tag_id, created_at) "
            "SELECT %s, t.contact_id, t.tag_id, %s FROM unnest(%s::bigint[], %s::bigint[]) "
            "AS t(contact_id, tag_id) "
            "ON CONFLICT (workspace_id, contact_id, tag_id) DO NOTHING",
            [workspace_id, timezone.now(), contact_ids, tag_list],
        )


def _store_rejects(imp: ContactImport, rejects: list[tuple[int, list[str], str]]) -> None:
    if not rejects:
        return
    import json

    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {ImportReject._meta.db_table} "
            "(workspace_id, contact_import_id, row_number, cells, reason) "
            "SELECT %s, %s, r.row_number, r.cells::jsonb, r.reason "
            "FROM unnest(%s::int[], %s::text[], %s::text[]) AS r(row_number, cells, reason) "
            "ON CONFLICT (workspace_id, contact_import_id, row_number) DO NOTHING",
            [
                imp.workspace_id,
                imp.pk,
                [r[0] for r in rejects],
                [json.dumps(r[1]) for r in rejects],
                [r[2][:500] for r in rejects],
            ],
        )


def finish(workspace_id: int, import_id: int) -> None:
    """Complete the search words a crash left pending, render the error
    file, forget the chunks, mark the import done."""
    with workspace_context(workspace_id):
        imp = ContactImport.objects.select_for_update().get(pk=import_id)
        if imp.status != ImportStatus.RUNNING:
            return
        fill_words(workspace_id, import_id)
        if imp.rejected:
            imp.error_file = _render_errors(imp)
        ImportChunk.objects.filter(workspace_id=workspace_id, contact_import=imp).delete()
        imp.status = ImportStatus.DONE
        imp.rows_total = imp.rows_done
        imp.rows_total_exact = True
        imp.finished_at = timezone.now()
        imp.save(
            update_fields=[
                "status",
                "rows_total",
                "rows_total_exact",
                "finished_at",
                "error_file",
            ]
        )
        _notify(imp)


def _render_errors(imp: ContactImport) -> str:
    """The rejected rows as they were in the file, plus a reason column."""
    width = len(imp.headers)
    delimiter = imp.delimiter or ","
    with tempfile.TemporaryFile() as tmp:
        text = io.TextIOWrapper(tmp, encoding="utf-8-sig", newline="")
        writer = csv.writer(text, delimiter=delimiter)
        writer.writerow([*imp.headers, "reason"])
        rows = (
            ImportReject.objects.filter(workspace_id=imp.workspace_id, contact_import=imp)
            .order_by("row_number")
            .values_list("cells", "reason")
        )
        for cells, reason in rows.iterator(chunk_size=5000):
            padded = list(cells) + [""] * (width - len(cells))
            writer.writerow([*padded, reason])
        text.flush()
        tmp.seek(0)
        name = f"ws{imp.workspace_id}/imports/{imp.pk}-errors.csv"
        if default_storage.exists(name):
            default_storage.delete(name)
        path = default_storage.save(name, File(tmp))
        text.detach()
    return path


def _fail(workspace_id: int, import_id: int, reason: str) -> None:
    with workspace_context(workspace_id):
        imp = ContactImport.objects.select_for_update().get(pk=import_id)
        imp.status = ImportStatus.FAILED
        imp.error = reason
        imp.finished_at = timezone.now()
        imp.save(update_fields=["status", "error", "finished_at"])
        _notify(imp)


def _notify(imp: ContactImport) -> None:
    """Tell the person who started the import (in the finishing transaction)."""
    if imp.created_by_id is None:
        return
    from django.urls import reverse

    from parley.notifications.actions import do_notify
    from parley.tenancy.models import Workspace

    slug = Workspace.objects.filter(pk=imp.workspace_id).values_list("slug", flat=True).first()
    if imp.status == ImportStatus.DONE:
        title = f"Import of {imp.original_filename} finished"
        body = (
            f"{imp.created} created, {imp.updated} updated, {imp.skipped} skipped, "
            f"{imp.rejected} rejected."
        )
    else:
        title = f"Import of {imp.original_filename} failed"
        body = imp.error[:300]
    url = reverse("transfer_import", args=[slug, imp.pk]) if slug else ""
    do_notify(
        workspace_id=imp.workspace_id,
        user_id=imp.created_by_id,
        kind="other",
        title=title,
        body=body,
        url=url,
        dedupe_key=f"transfer.import.{imp.pk}",
    )
