"""Who a broadcast goes to: the contacts of a segment or of tags (planned in
SQL, never through Python), or the rows of an uploaded CSV (streamed in
chunks: each chunk's numbers are normalised, deduplicated, matched to
contacts, created when unknown, and planned)."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any

from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection
from django.db.models import Count, Exists, OuterRef, Q, QuerySet
from django.utils import timezone

from parley.broadcasts.models import AudienceKind, Broadcast
from parley.core.errors import ActionError
from parley.crm.models import Consent, Contact, ContactTag
from parley.segments.compiler import contacts_matching
from parley.transfer.rows import PhoneError, normalize_number
from parley.transfer.sources import (
    SourceError,
    detect_format,
    is_blank,
    iter_records,
    sniff,
)

MAX_UPLOAD_BYTES = 100 * 1024 * 1024
# Rows resolved to contacts per round trip.
CHUNK = 5_000
PHONE_HEADER = re.compile(r"phone|mobile|whats|wa_?id|msisdn|number|cell|tel", re.IGNORECASE)


@dataclass
class Counts:
    """What the audience held, and why some of it is not sent to."""

    planned: int = 0
    opted_out: int = 0
    invalid: int = 0
    duplicate: int = 0
    created: int = 0
    # The first few invalid numbers, to show what was wrong.
    invalid_examples: list[str] = field(default_factory=list)


# --- Segment and tags ---------------------------------------------------------


def audience_queryset(broadcast: Broadcast) -> QuerySet[Contact]:
    """Every contact of a segment or tags audience (opted-out ones included)."""
    ws = broadcast.workspace_id
    if broadcast.audience_kind == AudienceKind.SEGMENT:
        if broadcast.segment is None:
            raise ActionError(
                "Choose the segment to send to.", code="no_audience", field="segment_id"
            )
        return contacts_matching(ws, broadcast.segment.definition)
    if broadcast.audience_kind == AudienceKind.TAGS:
        if not broadcast.tag_ids:
            raise ActionError(
                "Choose at least one tag to send to.", code="no_audience", field="tag_ids"
            )
        tagged = ContactTag.objects.filter(
            workspace_id=ws, contact_id=OuterRef("pk"), tag_id__in=list(broadcast.tag_ids)
        )
        return Contact.objects.filter(workspace_id=ws).filter(Exists(tagged))
    raise ValueError(broadcast.audience_kind)


def _sendable(qs: QuerySet[Contact]) -> QuerySet[Contact]:
    return qs.exclude(consent=Consent.OPTED_OUT).exclude(wa_id="")


def query_counts(broadcast: Broadcast) -> Counts:
    """Sizes of a segment or tags audience, in one query."""
    row = audience_queryset(broadcast).aggregate(
        total=Count("id"),
        opted_out=Count("id", filter=Q(consent=Consent.OPTED_OUT)),
        invalid=Count("id", filter=Q(wa_id="") & ~Q(consent=Consent.OPTED_OUT)),
    )
    opted_out, invalid = int(row["opted_out"]), int(row["invalid"])
    return Counts(
        planned=int(row["total"]) - opted_out - invalid, opted_out=opted_out, invalid=invalid
    )


def sendable_ids_sql(broadcast: Broadcast) -> tuple[str, Sequence[Any]]:
    """The SELECT of the contact ids to plan (for outbox.plan_query)."""
    qs = _sendable(audience_queryset(broadcast)).order_by("id").values("id")
    sql, params = qs.query.sql_with_params()
    return sql, params


# --- CSV ----------------------------------------------------------------------


@dataclass(frozen=True)
class StoredCsv:
    path: str
    filename: str
    fmt: str
    encoding: str
    delimiter: str
    header: list[str]
    rows_estimate: int


def guess_phone_column(header: list[str]) -> str:
    for name in header:
        if PHONE_HEADER.search(name):
            return name
    return header[0] if header else ""


def store_csv(workspace_id: int, upload: File[Any]) -> StoredCsv:
    """Save the upload (streamed to storage) and read its header."""
    filename = (upload.name or "audience.csv").rsplit("/", 1)[-1][:255]
    if not upload.size:
        raise ActionError(f"{filename} is empty.", code="empty_file", field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ActionError(
            f"{filename} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it "
            "into several broadcasts.",
            code="too_large",
            field="file",
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    fmt = detect_format(filename, head)
    ext = PurePath(filename).suffix.lower()[:6] or ".csv"
    path = default_storage.save(f"ws{workspace_id}/broadcasts/{uuid.uuid4().hex}{ext}", upload)
    try:
        sniffed = sniff(path, fmt)
    except ActionError:
        default_storage.delete(path)
        raise
    if len(set(sniffed.headers)) != len(sniffed.headers):
        default_storage.delete(path)
        raise ActionError(
            "Two columns of the file have the same name: give each column its own name.",
            code="duplicate_columns",
            field="file",
        )
    return StoredCsv(
        path=path,
        filename=filename,
        fmt=fmt,
        encoding=sniffed.encoding,
        delimiter=sniffed.delimiter,
        header=sniffed.headers,
        rows_estimate=sniffed.rows_estimate,
    )


def _data_rows(broadcast: Broadcast) -> Iterator[tuple[int, list[str]]]:
    """The file's records after its header row (the first non-blank one)."""
    records = iter_records(
        broadcast.csv_file,
        broadcast.csv_format,
        encoding=broadcast.csv_encoding,
        delimiter=broadcast.csv_delimiter,
    )
    try:
        for _number, record in records:
            if not is_blank(record):
                break
        yield from records
    except SourceError as exc:
        raise ActionError(str(exc), code="unreadable_file", field="file") from exc
    except FileNotFoundError as exc:
        raise ActionError(
            "The uploaded file is gone: upload it again.", code="file_missing", field="file"
        ) from exc


def _contact_defaults() -> tuple[list[str], list[Any]]:
    """Columns of crm_contact a CSV recipient does not set, with the model's
    defaults (a field added to Contact later needs no change here)."""
    own = {"id", "workspace", "wa_id", "phone_e164", "created_at", "updated_at"}
    columns, values = [], []
    for f in Contact._meta.concrete_fields:
        if f.name in own or (f.null and not f.has_default()):
            continue
        columns.append(connection.ops.quote_name(str(f.column)))
        values.append(f.get_db_prep_save(f.get_default(), connection))
    return columns, values


def _resolve(
    workspace_id: int, numbers: list[tuple[str, str]], counts: Counts
) -> dict[str, tuple[int, str]]:
    """wa_id -> (contact id, consent) for the chunk's (wa_id, e164), creating
    the contacts not known yet (consent unknown) in one statement each way."""
    table = Contact._meta.db_table
    extra_cols, extra_vals = _contact_defaults()
    now = timezone.now()
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (workspace_id, wa_id, phone_e164, created_at, updated_at"
            f"{''.join(', ' + c for c in extra_cols)}) "
            f"SELECT %s, v.wa_id, v.e164, %s, %s{', %s' * len(extra_vals)} "
            "FROM unnest(%s::text[], %s::text[]) AS v(wa_id, e164) "
            "ON CONFLICT (workspace_id, wa_id) DO NOTHING",
            [
                workspace_id,
                now,
                now,
                *extra_vals,
                [n[0] for n in numbers],
                [n[1] for n in numbers],
            ],
        )
        counts.created += cursor.rowcount
        cursor.execute(
            f"SELECT wa_id, id, consent FROM {table} WHERE workspace_id = %s AND wa_id = ANY(%s)",
            [workspace_id, [n[0] for n in numbers]],
        )
        return {wa_id: (pk, consent) for wa_id, pk, consent in cursor.fetchall()}


def csv_recipients(
    broadcast: Broadcast, *, columns: list[str], country: str, counts: Counts
) -> Iterator[tuple[int, dict[str, str]]]:
    """(contact id, {column: value}) for every sendable row of the file, in
    file order, counting the skipped ones into ``counts``. Only the columns
    the mapping uses are kept per recipient."""
    header = broadcast.csv_header
    if broadcast.csv_phone_column not in header:
        raise ActionError(
            "Choose the column of the file that holds the phone numbers.",
            code="no_phone_column",
            field="csv_phone_column",
        )
    phone_at = header.index(broadcast.csv_phone_column)
    value_at = [(name, header.index(name)) for name in columns]
    seen: set[str] = set()
    chunk: list[tuple[str, str, dict[str, str]]] = []

    def flush() -> Iterator[tuple[int, dict[str, str]]]:
        contacts = _resolve(broadcast.workspace_id, [(w, e) for w, e, _v in chunk], counts)
        for wa_id, _e164, values in chunk:
            contact_id, consent = contacts[wa_id]
            if consent == Consent.OPTED_OUT:
                counts.opted_out += 1
                continue
            counts.planned += 1
            yield contact_id, values
        chunk.clear()

    for _number, record in _data_rows(broadcast):
        if is_blank(record):
            continue
        raw = record[phone_at] if phone_at < len(record) else ""
        try:
            e164 = normalize_number(raw, country)
        except PhoneError:
            counts.invalid += 1
            if len(counts.invalid_examples) < 5:
                counts.invalid_examples.append(raw.strip()[:40] or "(empty)")
            continue
        wa_id = e164.lstrip("+")
        if wa_id in seen:
            counts.duplicate += 1
            continue
        seen.add(wa_id)
        values = {name: (record[i].strip() if i < len(record) else "") for name, i in value_at}
        chunk.append((wa_id, e164, values))
        if len(chunk) >= CHUNK:
            yield from flush()
    if chunk:
        yield from flush()


def delete_file(path: str) -> None:
    if path and default_storage.exists(path):
        default_storage.delete(path)
