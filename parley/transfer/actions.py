"""Every state change of imports and exports."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.files.base import File
from django.core.files.storage import default_storage
from django.db import connection, transaction
from django.utils import timezone

from parley.core.errors import ActionError, Conflict
from parley.core.jobs import enqueue
from parley.crm.models import AttributeDefinition
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.transfer import mapping as mappings
from parley.transfer.importer import TagResolver
from parley.transfer.models import (
    ContactExport,
    ContactImport,
    ExportScope,
    ExportStatus,
    FileFormat,
    ImportStatus,
)
from parley.transfer.sources import detect_format, sniff, store_upload

MAX_UPLOAD_BYTES: int = getattr(settings, "PARLEY_IMPORT_MAX_BYTES", 500 * 1024 * 1024)
EXPORTS_PER_HOUR = 5
MAX_TAGS = 20


class Throttled(ActionError):  # noqa: N818 - reads as a reason, like Conflict
    status = 429


def definitions_of(workspace_id: int) -> dict[str, AttributeDefinition]:
    return {
        d.key: d
        for d in AttributeDefinition.objects.filter(workspace_id=workspace_id).order_by("key")
    }


@transaction.atomic
def do_upload_import(*, actor: Actor, upload: File[Any]) -> ContactImport:
    """Store the file and read its headers; the mapping starts as a guess."""
    actor.require(Cap.CONTACTS_TRANSFER)
    filename = (upload.name or "upload.csv").rsplit("/", 1)[-1][:255]
    if not upload.size:
        raise ActionError(f"{filename} is empty.", code="empty_file", field="file")
    if upload.size > MAX_UPLOAD_BYTES:
        raise ActionError(
            f"{filename} is larger than {MAX_UPLOAD_BYTES // (1024 * 1024)} MB: split it.",
            code="too_large",
            field="file",
        )
    upload.seek(0)
    head = upload.read(8)
    upload.seek(0)
    fmt = detect_format(filename, head)
    path, size = store_upload(actor.workspace.pk, upload, filename)
    try:
        sniffed = sniff(path, fmt)
    except ActionError:
        default_storage.delete(path)
        raise
    definitions = definitions_of(actor.workspace.pk)
    return ContactImport.objects.create(
        workspace=actor.workspace,
        status=ImportStatus.UPLOADED,
        file=path,
        original_filename=filename,
        format=fmt,
        size=size,
        delimiter=sniffed.delimiter,
        encoding=sniffed.encoding,
        headers=sniffed.headers,
        mapping=mappings.guess(sniffed.headers, definitions.values()),
        options={
            "update_existing": True,
            "tags": [],
            "default_country": actor.workspace.default_country,
        },
        rows_total=sniffed.rows_estimate,
        created_by=actor.user,
    )


def _tag_names(names: list[str]) -> list[str]:
    cleaned: dict[str, str] = {}
    for name in names:
        for piece in name.split(","):
            tag = " ".join(piece.split())[:60]
            if tag:
                cleaned.setdefault(tag.lower(), tag)
    if len(cleaned) > MAX_TAGS:
        raise ActionError(
            f"Apply at most {MAX_TAGS} tags to an import.", code="too_many", field="tags"
        )
    return list(cleaned.values())


def _lock_editable(imp: ContactImport) -> None:
    """Lock the import's row and check, on what the row holds now, that it can still change.

    A mapping page sends an htmx preview save (on the change that the click on
    Start fires) alongside the start itself: unlocked, the save that commits
    last wins, and a stale save could put a queued import back to mapping, so
    its job would skip it and the import would never run.
    """
    imp.refresh_from_db(from_queryset=ContactImport.objects.select_for_update())
    if not imp.is_editable:
        raise Conflict(
            f"This import is {imp.get_status_display().lower()}: it can no longer be changed.",
            code="import_started",
        )


@transaction.atomic
def do_update_import(
    *,
    actor: Actor,
    imp: ContactImport,
    mapping: list[str] | None = None,
    update_existing: bool | None = None,
    tags: list[str] | None = None,
    default_country: str | None = None,
) -> ContactImport:
    """Change the column mapping and options before the import starts."""
    actor.require(Cap.CONTACTS_TRANSFER)
    _lock_editable(imp)
    if mapping is not None:
        imp.mapping = mappings.check_mapping(
            [str(t).strip() for t in mapping], imp.headers, definitions_of(actor.workspace.pk)
        )
    options = dict(imp.options)
    if update_existing is not None:
        options["update_existing"] = bool(update_existing)
    if tags is not None:
        options["tags"] = _tag_names(tags)
    if default_country is not None:
        options["default_country"] = mappings.check_country(default_country)
    imp.options = options
    imp.status = ImportStatus.MAPPING
    imp.save(update_fields=["mapping", "options", "status"])
    return imp


@transaction.atomic
def do_start_import(*, actor: Actor, imp: ContactImport) -> ContactImport:
    """Queue the import job; the tags to apply to everyone are created now."""
    from parley.transfer.tasks import run_import_job

    actor.require(Cap.CONTACTS_TRANSFER)
    _lock_editable(imp)
    mappings.check_mapping(imp.mapping, imp.headers, definitions_of(actor.workspace.pk))
    names = list(imp.options.get("tags", []))
    resolver = TagResolver(actor.workspace.pk)
    resolver.resolve(set(names))
    imp.options = {**imp.options, "tag_ids": sorted({resolver.ids[n.lower()] for n in names})}
    imp.status = ImportStatus.QUEUED
    imp.save(update_fields=["options", "status"])
    enqueue(run_import_job, workspace_id=actor.workspace.pk, import_id=imp.pk)
    return imp


def _throttle(actor: Actor) -> None:
    """One export at a time and five an hour per workspace."""
    with connection.cursor() as cursor:
        # Serialises concurrent requests of one workspace for the check below.
        cursor.execute(
            "SELECT pg_advisory_xact_lock(hashtext('transfer.export'), %s)", [actor.workspace.pk]
        )
    exports = ContactExport.objects.filter(workspace=actor.workspace)
    if exports.filter(status__in=[ExportStatus.QUEUED, ExportStatus.RUNNING]).exists():
        raise Throttled(
            "An export is already running for this workspace: wait for it to finish "
            "(usually a minute or two) and try again.",
            code="export_throttled",
        )
    since = timezone.now() - timedelta(hours=1)
    recent = list(
        exports.filter(created_at__gte=since)
        .order_by("created_at")
        .values_list("created_at", flat=True)[:EXPORTS_PER_HOUR]
    )
    if len(recent) >= EXPORTS_PER_HOUR:
        retry_at = recent[0] + timedelta(hours=1)
        minutes = max(1, int((retry_at - timezone.now()).total_seconds() // 60) + 1)
        raise Throttled(
            f"At most {EXPORTS_PER_HOUR} exports per hour: try again in {minutes} minute"
            f"{'s' if minutes != 1 else ''} (after {retry_at:%H:%M} UTC).",
            code="export_throttled",
        )


@transaction.atomic
def do_request_export(
    *,
    actor: Actor,
    format: str = FileFormat.CSV,
    scope: str = ExportScope.ALL,
    segment_id: int | None = None,
    q: str = "",
    tag_id: int | None = None,
) -> ContactExport:
    from parley.transfer.tasks import run_export_job

    actor.require(Cap.CONTACTS_TRANSFER)
    if format not in FileFormat.values:
        raise ActionError("The format is csv or xlsx.", code="invalid_format", field="format")
    if scope not in ExportScope.values:
        raise ActionError(
            "The scope is all, segment or search.", code="invalid_scope", field="scope"
        )
    description = "All contacts"
    if scope == ExportScope.SEGMENT:
        from parley.segments.access import access_segment

        if segment_id is None:
            raise ActionError("Pick the segment to export.", code="required", field="segment_id")
        description = f"Segment {access_segment(actor, segment_id).name}"
    elif scope == ExportScope.SEARCH:
        q = q.strip()[:100]
        if tag_id is not None:
            from parley.crm.access import access_tag

            tag_name = access_tag(actor, tag_id).name
        if not q and tag_id is None:
            raise ActionError(
                "Give a search (name, number or email) or a tag to export.",
                code="required",
                field="q",
            )
        parts = [f"“{q}”"] if q else []
        if tag_id is not None:
            parts.append(f"tag {tag_name}")
        description = "Search " + ", ".join(parts)
    _throttle(actor)
    exp = ContactExport.objects.create(
        workspace=actor.workspace,
        format=format,
        scope=scope,
        segment_id=segment_id if scope == ExportScope.SEGMENT else None,
        query=q if scope == ExportScope.SEARCH else "",
        tag_id=tag_id if scope == ExportScope.SEARCH else None,
        description=description[:200],
        created_by=actor.user,
    )
    enqueue(run_export_job, workspace_id=actor.workspace.pk, export_id=exp.pk)
    return exp


def import_options(imp: ContactImport) -> dict[str, Any]:
    return {
        "update_existing": bool(imp.options.get("update_existing", True)),
        "tags": list(imp.options.get("tags", [])),
        "default_country": str(imp.options.get("default_country", "")),
    }
