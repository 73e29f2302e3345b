"""Graph API media: upload, look up (URL + hash), download through that URL, delete."""

from __future__ import annotations

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors
from .plumbing import graph_endpoint, require_number, require_token, sim_of
from .state import MediaItem

MAX_UPLOAD_BYTES = 100 * 1024 * 1024  # Meta's largest limit (documents)


@graph_endpoint
async def upload_media(request: Request) -> Response:
    number = require_number(request, request.path_params["object_id"])
    try:
        form = await request.form(max_files=1, max_fields=10)
    except Exception:  # malformed multipart; Starlette raises several types for it
        raise errors.invalid_parameter("The request must be multipart/form-data.") from None
    try:
        if form.get("messaging_product") != "whatsapp":
            raise errors.invalid_parameter("The parameter messaging_product is required.")
        upload = form.get("file")
        if not isinstance(upload, UploadFile):
            raise errors.invalid_parameter("The parameter file is required.")
        mime_type = form.get("type") or upload.content_type
        if not isinstance(mime_type, str) or "/" not in mime_type:
            raise errors.invalid_parameter("The parameter type is required.")
        data = await upload.read(MAX_UPLOAD_BYTES + 1)
        if len(data) > MAX_UPLOAD_BYTES:
            raise errors.invalid_parameter("The file is larger than the maximum allowed size.")
        if not data:
            raise errors.invalid_parameter("The parameter file is empty.")
        item = sim_of(request).store_media(number, data, mime_type, upload.filename)
    finally:
        await form.close()
    return JSONResponse({"id": item.id})


def _owned_media(request: Request, media_id: str) -> MediaItem:
    token = require_token(request)
    sim = sim_of(request)
    item = sim.media.get(media_id)
    if item is None or not sim.token_covers_waba(token, item.waba_id):
        raise errors.unknown_object(media_id, request.method)
    return item


async def media_info(request: Request, media_id: str) -> Response:
    item = _owned_media(request, media_id)
    sim = sim_of(request)
    return JSONResponse(
        {
            "messaging_product": "whatsapp",
            "url": sim.media_url(item, str(request.base_url)),
            "mime_type": item.mime_type,
            "sha256": item.sha256_hex,
            "file_size": str(len(item.data)),
            "id": item.id,
        }
    )


async def delete_media(request: Request, media_id: str) -> Response:
    _owned_media(request, media_id)
    sim_of(request).media.delete(media_id)
    return JSONResponse({"success": True})


@graph_endpoint
async def download(request: Request) -> Response:
    """The media URL: valid for a few minutes and only with the business's bearer token."""
    query = request.query_params
    media_id = query.get("mid", "")
    if not sim_of(request).media_url_is_valid(
        media_id, query.get("ext", ""), query.get("hash", "")
    ):
        return Response(
            "URL signature expired or invalid", status_code=404, media_type="text/plain"
        )
    item = _owned_media(request, media_id)
    headers = {"Content-Disposition": f'attachment; filename="{item.filename or item.id}"'}
    return Response(item.data, media_type=item.mime_type, headers=headers)
