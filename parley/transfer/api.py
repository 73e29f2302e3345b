"""Contact import and export over the API. Thin."""

from __future__ import annotations

from typing import Any

from django.core.files.storage import default_storage
from django.http import FileResponse, Http404, HttpRequest
from django.urls import reverse
from ninja import File, Router, Status
from ninja.files import UploadedFile

from parley.core.pagination import paginate
from parley.tenancy.actor import actor_of
from parley.transfer import access, actions
from parley.transfer.models import ContactExport, ContactImport, ExportStatus, ImportStatus
from parley.transfer.preview import preview, sample_rows
from parley.transfer.schemas import (
    ExportIn,
    ExportOut,
    ExportPage,
    ImportCreatedOut,
    ImportOut,
    ImportPage,
    ImportUpdateIn,
    PreviewOut,
)

router = Router(tags=["import and export"])


def import_out(imp: ContactImport) -> dict[str, Any]:
    errors_url = None
    if imp.status == ImportStatus.DONE and imp.error_file:
        errors_url = reverse("api:import_errors", args=[imp.pk])
    return {
        **{f: getattr(imp, f) for f in ImportOut.model_fields if hasattr(imp, f)},
        "options": actions.import_options(imp),
        "errors_url": errors_url,
    }


def export_out(exp: ContactExport) -> dict[str, Any]:
    download = None
    if exp.status == ExportStatus.DONE:
        download = reverse("api:export_download", args=[exp.pk])
    return {
        **{f: getattr(exp, f) for f in ExportOut.model_fields if hasattr(exp, f)},
        "download_url": download,
    }


@router.post(
    "/imports",
    response={201: ImportCreatedOut},
    summary="Upload a CSV or XLSX file of contacts",
    description=(
        "Multipart upload (field `file`). Returns the file's headers, a guessed column "
        "mapping and the first rows; change the mapping with PATCH, then start the import."
    ),
)
def create_import(request: HttpRequest, file: File[UploadedFile]) -> Any:
    imp = actions.do_upload_import(actor=actor_of(request), upload=file)
    return Status(201, {**import_out(imp), "sample_rows": sample_rows(imp)})


@router.get("/imports", response=ImportPage, summary="List imports, newest first")
def list_imports(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    page = paginate(
        access.import_list(actor_of(request)), cursor=cursor, limit=limit, newest_first=True
    )
    return {**page, "items": [import_out(i) for i in page["items"]]}


@router.get(
    "/imports/{import_id}", response=ImportOut, summary="An import: status, progress, summary"
)
def get_import(request: HttpRequest, import_id: int) -> Any:
    return import_out(access.access_import(actor_of(request), import_id))


@router.patch("/imports/{import_id}", response=ImportOut, summary="Change the mapping and options")
def update_import(request: HttpRequest, import_id: int, payload: ImportUpdateIn) -> Any:
    actor = actor_of(request)
    imp = access.access_import(actor, import_id)
    return import_out(actions.do_update_import(actor=actor, imp=imp, **payload.model_dump()))


@router.get(
    "/imports/{import_id}/preview",
    response=PreviewOut,
    summary="The first 20 rows as they will be imported, or why they will be rejected",
)
def preview_import(request: HttpRequest, import_id: int) -> Any:
    imp = access.access_import(actor_of(request), import_id)
    return {"headers": imp.headers, "mapping": imp.mapping, "rows": preview(imp)}


@router.post("/imports/{import_id}/start", response=ImportOut, summary="Start the import")
def start_import(request: HttpRequest, import_id: int) -> Any:
    actor = actor_of(request)
    imp = access.access_import(actor, import_id)
    return import_out(actions.do_start_import(actor=actor, imp=imp))


@router.get(
    "/imports/{import_id}/errors",
    response={200: None},
    url_name="import_errors",
    summary="The rejected rows as CSV, as they were in the file, with a reason column",
)
def import_errors(request: HttpRequest, import_id: int) -> Any:
    imp = access.access_import(actor_of(request), import_id)
    if not imp.error_file:
        raise Http404("This import has no rejected rows (or has not finished).")
    return FileResponse(
        default_storage.open(imp.error_file, "rb"),
        as_attachment=True,
        filename=f"{imp.original_filename.rsplit('.', 1)[0]}-errors.csv",
        content_type="text/csv",
    )


@router.post(
    "/exports",
    response={202: ExportOut},
    summary="Export contacts to CSV or XLSX",
    description=(
        "Runs in the background: poll GET /exports/{id}, then download. One export at a "
        "time and five per hour per workspace (429, code `export_throttled`)."
    ),
)
def create_export(request: HttpRequest, payload: ExportIn) -> Any:
    exp = actions.do_request_export(actor=actor_of(request), **payload.model_dump())
    return Status(202, export_out(exp))


@router.get("/exports", response=ExportPage, summary="List exports, newest first")
def list_exports(request: HttpRequest, cursor: str | None = None, limit: int = 50) -> Any:
    page = paginate(
        access.export_list(actor_of(request)), cursor=cursor, limit=limit, newest_first=True
    )
    return {**page, "items": [export_out(e) for e in page["items"]]}


@router.get("/exports/{export_id}", response=ExportOut, summary="An export and its progress")
def get_export(request: HttpRequest, export_id: int) -> Any:
    return export_out(access.access_export(actor_of(request), export_id))


@router.get(
    "/exports/{export_id}/download",
    response={200: None},
    url_name="export_download",
    summary="Download a finished export",
)
def download_export(request: HttpRequest, export_id: int) -> Any:
    exp = access.access_export(actor_of(request), export_id)
    if exp.status != ExportStatus.DONE or not exp.file:
        raise Http404("This export is not ready.")
    return export_file_response(exp)


def export_file_response(exp: ContactExport) -> FileResponse:
    content_type = (
        "text/csv"
        if exp.format == "csv"
        else "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    )
    return FileResponse(
        default_storage.open(exp.file, "rb"),
        as_attachment=True,
        filename=exp.filename,
        content_type=content_type,
    )
