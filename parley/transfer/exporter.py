"""Running an export: contacts streamed page by page (a server-side cursor
per page) into a CSV or XLSX temp file, then stored. Each page commits its
progress, so the page shows it live; a rerun starts the file over."""

from __future__ import annotations

import csv
import datetime
import io
import tempfile
from collections.abc import Callable
from typing import IO, Any
from zoneinfo import ZoneInfo

from django.contrib.postgres.expressions import ArraySubquery
from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import F, OuterRef, QuerySet
from django.utils import timezone

from parley.core.tenant import workspace_context
from parley.crm.access import contact_list
from parley.crm.models import AttributeDefinition, Contact, ContactTag
from parley.tenancy.actor import Actor
from parley.tenancy.models import Workspace
from parley.tenancy.roles import Role
from parley.transfer.models import ContactExport, ExportScope, ExportStatus, FileFormat

PAGE = 20_000
FIXED = ["name", "phone", "email", "consent", "tags", "created_at", "last_inbound_at"]
# Cells starting with these are formulas to a spreadsheet (CSV injection).
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def scope_queryset(exp: ContactExport, workspace: Workspace) -> QuerySet[Contact]:
    if exp.scope == ExportScope.SEGMENT:
        from parley.segments.compiler import contacts_matching
        from parley.segments.models import Segment

        segment = Segment.objects.get(workspace_id=workspace.pk, pk=exp.segment_id or 0)
        return contacts_matching(workspace.pk, segment.definition)
    if exp.scope == ExportScope.SEARCH:
        # The request was authorised when the export was created.
        system = Actor(workspace=workspace, role=Role.ADMIN)
        return contact_list(system, q=exp.query, tag_id=exp.tag_id)
    return Contact.objects.filter(workspace_id=workspace.pk)


def columns(definitions: list[AttributeDefinition]) -> list[str]:
    labels = [d.label or d.key for d in definitions]
    taken = {c.lower() for c in FIXED}
    out = list(FIXED)
    for d, label in zip(definitions, labels, strict=True):
        name = label if label.lower() not in taken and labels.count(label) == 1 else d.key
        taken.add(name.lower())
        out.append(name)
    return out


class _CsvSink:
    def __init__(self, fh: IO[bytes]) -> None:
        self.text = io.TextIOWrapper(fh, encoding="utf-8-sig", newline="")
        self.writer = csv.writer(self.text)

    def row(self, values: list[Any], *, header: bool = False) -> None:
        self.writer.writerow([_csv_cell(v, phone_column=(i == 1)) for i, v in enumerate(values)])

    def close(self) -> None:
        self.text.flush()
        self.text.detach()


def _csv_cell(value: Any, *, phone_column: bool) -> str:
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return value.isoformat(timespec="seconds")
    if isinstance(value, bool):
        return "true" if value else "false"
    text = str(value)
    if text.startswith(FORMULA_START) and not phone_column:
        return "'" + text
    return text


class _XlsxSink:
    def __init__(self, fh: IO[bytes]) -> None:
        import openpyxl

        self.fh = fh
        self.book = openpyxl.Workbook(write_only=True)
        self.sheet = self.book.create_sheet("Contacts")

    def row(self, values: list[Any], *, header: bool = False) -> None:
        from openpyxl.cell import WriteOnlyCell
        from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

        cells: list[Any] = []
        for value in values:
            if isinstance(value, datetime.datetime):
                cells.append(value.replace(tzinfo=None))
            elif isinstance(value, str):
                cell = WriteOnlyCell(self.sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value))
                # A leading "=" would make the text a formula.
                cell.data_type = "s"
                cells.append(cell)
            else:
                cells.append(value)
        self.sheet.append(cells)

    def close(self) -> None:
        self.book.save(self.fh)


def run_export(
    workspace_id: int,
    export_id: int,
    *,
    page: int = PAGE,
    after_page: Callable[[], None] | None = None,
) -> None:
    with workspace_context(workspace_id):
        exp = ContactExport.objects.select_for_update().filter(pk=export_id).first()
        if exp is None or exp.status not in (ExportStatus.QUEUED, ExportStatus.RUNNING):
            return
        workspace = Workspace.objects.get(pk=workspace_id)
        definitions = list(
            AttributeDefinition.objects.filter(workspace_id=workspace_id).order_by("key")
        )
        total = scope_queryset(exp, workspace).count()
        exp.status = ExportStatus.RUNNING
        exp.started_at = timezone.now()
        exp.rows_total = total
        exp.rows_done = 0
        exp.save(update_fields=["status", "started_at", "rows_total", "rows_done"])
    zone = ZoneInfo(workspace.timezone or "UTC")
    keys = [d.key for d in definitions]
    with tempfile.TemporaryFile() as tmp:
        sink: _CsvSink | _XlsxSink = (
            _XlsxSink(tmp) if exp.format == FileFormat.XLSX else _CsvSink(tmp)
        )
        sink.row(columns(definitions), header=True)
        last_id = 0
        done = 0
        while True:
            written = 0
            with workspace_context(workspace_id):
                tags = ArraySubquery(
                    ContactTag.objects.filter(contact_id=OuterRef("pk"))
                    .order_by("tag__name")
                    .values("tag__name")
                )
                rows = (
                    scope_queryset(exp, workspace)
                    .filter(id__gt=last_id)
                    .order_by("id")
                    .annotate(tag_names=tags)
                    .values_list(
                        "id",
                        "name",
                        "profile_name",
                        "phone_e164",
                        "wa_id",
                        "email",
                        "consent",
                        "tag_names",
                        "created_at",
                        "last_inbound_at",
                        "attributes",
                    )[:page]
                )
                for (pk, name, profile, e164, wa_id, email, consent, tag_names, created,
                     inbound, attrs) in rows.iterator(chunk_size=2000):  # fmt: skip
                    sink.row(
                        [
                            name or profile,
                            e164 or ("+" + wa_id),
                            email,
                            consent,
                            ", ".join(tag_names or []),
                            created.astimezone(zone),
                            inbound.astimezone(zone) if inbound else None,
                            *((attrs or {}).get(k) for k in keys),
                        ]
                    )
                    last_id = pk
                    written += 1
                done += written
                ContactExport.objects.filter(pk=export_id).update(
                    rows_done=F("rows_done") + written
                )
            if after_page is not None:
                after_page()
            if written < page:
                break
        sink.close()
        tmp.seek(0)
        name = f"ws{workspace_id}/exports/{export_id}.{exp.format}"
        if default_storage.exists(name):
            default_storage.delete(name)
        path = default_storage.save(name, File(tmp))
    with workspace_context(workspace_id):
        exp = ContactExport.objects.select_for_update().get(pk=export_id)
        exp.file = path
        exp.status = ExportStatus.DONE
        exp.rows_done = done
        exp.rows_total = done
        exp.finished_at = timezone.now()
        exp.save(update_fields=["file", "status", "rows_done", "rows_total", "finished_at"])
