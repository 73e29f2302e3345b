"""Uploaded files: stored in chunks, sniffed (format, encoding, delimiter,
headers, a row estimate) and read back as a stream of records.

A record is the list of a row's cells as text, exactly as the file holds
them; records are numbered from 1 like a spreadsheet's rows (header
included), so "row 12" in an error means what the user sees in Excel."""

from __future__ import annotations

import codecs
import csv
import datetime
import io
import uuid
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import PurePath
from typing import IO, Any

from django.core.files.base import File
from django.core.files.storage import default_storage

from parley.core.errors import ActionError
from parley.transfer.models import FileFormat

READ_CHUNK = 1024 * 1024
SAMPLE = 64 * 1024
DELIMITERS = ",;\t|"
# A CSV record may be long (notes columns); the csv module's default is 128 KiB.
csv.field_size_limit(4 * 1024 * 1024)


class SourceError(Exception):
    """The file cannot be read (corrupt, not what its name says)."""


@dataclass(frozen=True)
class Sniffed:
    encoding: str
    delimiter: str
    headers: list[str]
    rows_estimate: int


def detect_format(filename: str, head: bytes) -> str:
    ext = PurePath(filename).suffix.lower()
    if head.startswith(b"PK\x03\x04"):
        if ext in (".xlsx", ".xlsm", ""):
            return FileFormat.XLSX
        raise ActionError(
            f"{filename} is a zip archive, not a CSV or XLSX file.",
            code="unsupported_file",
            field="file",
        )
    if ext in (".xls",) or head.startswith(b"\xd0\xcf\x11\xe0"):
        raise ActionError(
            "Old Excel files (.xls) cannot be read: save it as .xlsx or .csv first.",
            code="unsupported_file",
            field="file",
        )
    if ext in (".csv", ".txt", ".tsv", ""):
        return FileFormat.CSV
    raise ActionError(
        f"Upload a .csv or .xlsx file ({filename} is neither).",
        code="unsupported_file",
        field="file",
    )


def store_upload(workspace_id: int, upload: File[Any], filename: str) -> tuple[str, int]:
    """Save the upload (Django streams it chunk by chunk); returns (path, size)."""
    ext = PurePath(filename).suffix.lower()[:6] or ".bin"
    name = f"ws{workspace_id}/imports/{uuid.uuid4().hex}{ext}"
    path = default_storage.save(name, upload)
    return path, default_storage.size(path)


def cell_text(value: Any) -> str:
    """A spreadsheet cell as text, numbers without float artefacts
    (447911123456.0 -> "447911123456", dates as ISO)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if value.is_integer() and abs(value) < 1e17:
            return str(int(value))
        return repr(value)
    if isinstance(value, datetime.datetime):
        if value.time() == datetime.time(0, 0):
            return value.date().isoformat()
        return value.isoformat(sep=" ")
    if isinstance(value, datetime.date | datetime.time):
        return value.isoformat()
    return str(value)


def _header_names(record: list[str]) -> list[str]:
    names = []
    for i, cell in enumerate(record):
        name = " ".join(cell.replace("\ufeff", "").split())
        names.append(name or f"Column {i + 1}")
    return names


def is_blank(record: list[str]) -> bool:
    return not any(cell.strip() for cell in record)


def _scan_csv(path: str) -> tuple[str, int, bytes]:
    """One streamed pass: the encoding (UTF-8 with or without BOM, else
    cp1252, else latin-1, which accepts any byte), the line count and a sample."""
    utf8 = codecs.getincrementaldecoder("utf-8")()
    cp1252 = codecs.getincrementaldecoder("cp1252")()
    utf8_ok = cp1252_ok = True
    lines = 0
    sample = b""
    last = b""
    with default_storage.open(path, "rb") as fh:
        while chunk := fh.read(READ_CHUNK):
            if len(sample) < SAMPLE:
                sample += chunk[: SAMPLE - len(sample)]
            lines += chunk.count(b"\n")
            last = chunk
            if utf8_ok:
                try:
                    utf8.decode(chunk)
                except UnicodeDecodeError:
                    utf8_ok = False
            if not utf8_ok and cp1252_ok:
                try:
                    cp1252.decode(chunk)
                except UnicodeDecodeError:
                    cp1252_ok = False
    if utf8_ok:
        try:
            utf8.decode(b"", final=True)
        except UnicodeDecodeError:
            utf8_ok = False
    if last and not last.endswith(b"\n"):
        lines += 1
    if sample.startswith(codecs.BOM_UTF8) and utf8_ok:
        encoding = "utf-8-sig"
    elif utf8_ok:
        encoding = "utf-8"
    elif cp1252_ok:
        encoding = "cp1252"
    else:
        encoding = "latin-1"
    return encoding, lines, sample


def _delimiter(text: str) -> str:
    lines = [line for line in text.splitlines() if line.strip()][:50]
    if not lines:
        return ","
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=DELIMITERS).delimiter
    except csv.Error:
        # The sniffer gives up on ragged files: the header line decides.
        counts = {d: lines[0].count(d) for d in DELIMITERS}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] else ","


def sniff(path: str, fmt: str) -> Sniffed:
    if fmt == FileFormat.XLSX:
        return _sniff_xlsx(path)
    encoding, lines, sample = _scan_csv(path)
    text = sample.decode(encoding, errors="ignore")
    delimiter = _delimiter(text)
    headers: list[str] = []
    header_row = 0
    for number, record in iter_records(path, fmt, encoding=encoding, delimiter=delimiter):
        if not is_blank(record):
            headers, header_row = _header_names(record), number
            break
        if number > 1000:
            break
    if not headers:
        raise ActionError(
            "The file has no header row: the first line must name the columns.",
            code="empty_file",
            field="file",
        )
    return Sniffed(encoding, delimiter, headers, max(0, lines - header_row))


def _open_workbook(fh: IO[bytes]) -> Any:
    import openpyxl

    try:
        return openpyxl.load_workbook(fh, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as exc:
        raise SourceError(f"The XLSX file cannot be read ({exc}).") from exc


def _sniff_xlsx(path: str) -> Sniffed:
    with default_storage.open(path, "rb") as fh:
        try:
            book = _open_workbook(fh)
        except SourceError as exc:
            raise ActionError(str(exc), code="unreadable_file", field="file") from exc
        try:
            sheet = book.worksheets[0]
            estimate = int(sheet.max_row or 0)
            headers: list[str] = []
            header_row = 0
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                record = [cell_text(v) for v in row]
                if not is_blank(record):
                    headers, header_row = _header_names(record), number
                    break
                if number > 1000:
                    break
        finally:
            book.close()
    if not headers:
        raise ActionError(
            "The first sheet has no header row: its first row must name the columns.",
            code="empty_file",
            field="file",
        )
    return Sniffed("", "", headers, max(0, estimate - header_row))


def iter_records(
    path: str, fmt: str, *, encoding: str, delimiter: str
) -> Iterator[tuple[int, list[str]]]:
    """(row number, cells) for every record of the file, blank ones included."""
    if fmt == FileFormat.XLSX:
        yield from _iter_xlsx(path)
        return
    with default_storage.open(path, "rb") as raw:
        text = io.TextIOWrapper(raw, encoding=encoding, newline="")
        reader = csv.reader(text, delimiter=delimiter)
        try:
            yield from enumerate(reader, start=1)
        except csv.Error as exc:
            raise SourceError(
                f"The CSV file is malformed near row {reader.line_num}: {exc}."
            ) from exc


def _iter_xlsx(path: str) -> Iterator[tuple[int, list[str]]]:
    with default_storage.open(path, "rb") as fh:
        book = _open_workbook(fh)
        try:
            sheet = book.worksheets[0]
            for number, row in enumerate(sheet.iter_rows(values_only=True), start=1):
                yield number, [cell_text(v) for v in row]
        finally:
            book.close()
