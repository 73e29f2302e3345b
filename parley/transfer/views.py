"""Import / export pages: the list, the import wizard, progress fragments
(polled by htmx every second) and downloads. Thin."""

from __future__ import annotations

from typing import Any

import phonenumbers
from django.contrib import messages
from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render

from parley.core.errors import ActionError
from parley.crm.models import Tag
from parley.tenancy.actor import Actor
from parley.tenancy.roles import Cap
from parley.tenancy.web import workspace_view
from parley.transfer import access, actions
from parley.transfer import mapping as mappings
from parley.transfer.api import export_file_response
from parley.transfer.models import ExportScope, FileFormat
from parley.transfer.preview import preview, sample_rows

LISTED = 20


def _countries() -> list[tuple[str, str]]:
    return sorted(
        (
            (region, f"{region} (+{phonenumbers.country_code_for_region(region)})")
            for region in phonenumbers.SUPPORTED_REGIONS
        ),
        key=lambda c: c[0],
    )


def _segments(actor: Actor) -> list[Any]:
    from parley.segments.access import segment_list

    return list(segment_list(actor).order_by("name")[:500])


@workspace_view(Cap.CONTACTS_TRANSFER)
def index(request: HttpRequest, actor: Actor) -> HttpResponse:
    if request.method == "POST":
        return _request_export(request, actor)
    return render(
        request,
        "transfer/index.html",
        {
            "imports": list(access.import_list(actor).order_by("-created_at")[:LISTED]),
            "exports": list(access.export_list(actor).order_by("-created_at")[:LISTED]),
            "segments": _segments(actor),
            "tags": Tag.objects.filter(workspace=actor.workspace).order_by("name"),
            "formats": FileFormat.choices,
            "scopes": ExportScope.choices,
        },
    )


def _int_or_none(value: str | None) -> int | None:
    return int(value) if value and value.isdigit() else None


def _request_export(request: HttpRequest, actor: Actor) -> HttpResponse:
    scope = request.POST.get("scope", ExportScope.ALL)
    try:
        actions.do_request_export(
            actor=actor,
            format=request.POST.get("format", FileFormat.CSV),
            scope=scope,
            segment_id=_int_or_none(request.POST.get("segment_id")),
            q=request.POST.get("q", ""),
            tag_id=_int_or_none(request.POST.get("tag_id")),
        )
    except ActionError as exc:
        messages.error(request, exc.message)
    except Http404:
        messages.error(request, "That segment or tag no longer exists.")
    else:
        messages.success(request, "Export started: the download link appears when it is ready.")
    return redirect("transfer_index", actor.workspace.slug)


@workspace_view(Cap.CONTACTS_TRANSFER)
def import_new(request: HttpRequest, actor: Actor) -> HttpResponse:
    error = ""
    if request.method == "POST":
        upload = request.FILES.get("file")
        if upload is None:
            error = "Choose a CSV or XLSX file to upload."
        else:
            try:
                imp = actions.do_upload_import(actor=actor, upload=upload)
            except ActionError as exc:
                error = exc.message
            else:
                return redirect("transfer_import", actor.workspace.slug, imp.pk)
    return render(
        request, "transfer/import_new.html", {"error": error}, status=400 if error else 200
    )


def _mapping_context(actor: Actor, imp: Any, *, error: ActionError | None = None) -> dict[str, Any]:
    definitions = actions.definitions_of(actor.workspace.pk)
    rows: list[Any] = []
    mapping_error = error
    if mapping_error is None:
        try:
            rows = preview(imp)
        except ActionError as exc:
            mapping_error = exc
    samples = sample_rows(imp, 3)
    field = mapping_error.field if mapping_error is not None else None
    bad = int(field.split(".")[1]) if field and field.startswith("mapping.") else None
    columns = [
        (
            i,
            header,
            target,
            [row[i] for row in samples if i < len(row) and row[i].strip()],
            i == bad,
        )
        for i, (header, target) in enumerate(zip(imp.headers, imp.mapping, strict=False))
    ]
    return {
        "imp": imp,
        "columns": columns,
        "choices": mappings.choices(definitions.values()),
        "rows": rows,
        "error": mapping_error,
        "options": actions.import_options(imp),
        "all_tags": Tag.objects.filter(workspace=actor.workspace).order_by("name")[:500],
        "countries": _countries(),
    }


def _save_form(request: HttpRequest, actor: Actor, imp: Any) -> None:
    mapping = [request.POST.get(f"col-{i}", mappings.IGNORE) for i in range(len(imp.headers))]
    actions.do_update_import(
        actor=actor,
        imp=imp,
        mapping=mapping,
        update_existing=request.POST.get("existing", "update") == "update",
        tags=[request.POST.get("tags", "")],
        default_country=request.POST.get("default_country", imp.options.get("default_country")),
    )


@workspace_view(Cap.CONTACTS_TRANSFER)
def import_detail(request: HttpRequest, actor: Actor, import_id: int) -> HttpResponse:
    imp = access.access_import(actor, import_id)
    if request.method == "POST" and imp.is_editable:
        try:
            _save_form(request, actor, imp)
            if request.POST.get("op") == "start":
                actions.do_start_import(actor=actor, imp=imp)
                return redirect("transfer_import", actor.workspace.slug, imp.pk)
        except ActionError as exc:
            imp.refresh_from_db()
            context = _mapping_context(actor, imp, error=exc)
            return render(request, "transfer/import_detail.html", context, status=400)
        messages.success(request, "Mapping saved.")
        return redirect("transfer_import", actor.workspace.slug, imp.pk)
    context = _mapping_context(actor, imp) if imp.is_editable else {"imp": imp}
    return render(request, "transfer/import_detail.html", {**context, "imp": imp})


@workspace_view(Cap.CONTACTS_TRANSFER)
def import_preview(request: HttpRequest, actor: Actor, import_id: int) -> HttpResponse:
    """The preview fragment; a POST saves the form first (htmx, on change)."""
    imp = access.access_import(actor, import_id)
    error: ActionError | None = None
    if request.method == "POST" and imp.is_editable:
        try:
            _save_form(request, actor, imp)
        except ActionError as exc:
            error = exc
    if not imp.is_editable:
        return render(request, "transfer/_import_progress.html", {"imp": imp})
    return render(request, "transfer/_preview.html", _mapping_context(actor, imp, error=error))


@workspace_view(Cap.CONTACTS_TRANSFER)
def import_progress(request: HttpRequest, actor: Actor, import_id: int) -> HttpResponse:
    imp = access.access_import(actor, import_id)
    return render(request, "transfer/_import_progress.html", {"imp": imp})


@workspace_view(Cap.CONTACTS_TRANSFER)
def import_errors(request: HttpRequest, actor: Actor, import_id: int) -> FileResponse:
    imp = access.access_import(actor, import_id)
    if not imp.error_file:
        raise Http404("This import has no rejected rows.")
    return FileResponse(
        default_storage.open(imp.error_file, "rb"),
        as_attachment=True,
        filename=f"{imp.original_filename.rsplit('.', 1)[0]}-errors.csv",
        content_type="text/csv",
    )


@workspace_view(Cap.CONTACTS_TRANSFER)
def export_progress(request: HttpRequest, actor: Actor, export_id: int) -> HttpResponse:
    exp = access.access_export(actor, export_id)
    return render(request, "transfer/_export_row.html", {"exp": exp})


@workspace_view(Cap.CONTACTS_TRANSFER)
def export_download(request: HttpRequest, actor: Actor, export_id: int) -> FileResponse:
    exp = access.access_export(actor, export_id)
    if not exp.file:
        raise Http404("This export is not ready.")
    return export_file_response(exp)
