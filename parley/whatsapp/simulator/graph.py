"""Graph API routes for messages and phone numbers; media and templates live beside this."""

from __future__ import annotations

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from . import errors, validation
from .graph_media import delete_media, download, media_info, upload_media
from .graph_templates import create_template, delete_templates, edit_template, list_templates
from .plumbing import graph_endpoint, graph_json, require_number, require_token, sim_of


@graph_endpoint
async def post_messages(request: Request) -> Response:
    number = require_number(request, request.path_params["object_id"])
    parsed = validation.parse(await graph_json(request))
    sim = sim_of(request)
    if isinstance(parsed, validation.ReadReceipt):
        return JSONResponse(sim.mark_read(number, parsed))
    return JSONResponse(sim.send(number, parsed))


@graph_endpoint
async def get_object(request: Request) -> Response:
    """GET /{version}/{id}: a phone number's details, or a media item's download URL."""
    object_id = request.path_params["object_id"]
    sim = sim_of(request)
    if object_id in sim.numbers:
        number = require_number(request, object_id)
        fields = request.query_params.get("fields")
        requested = [f.strip() for f in fields.split(",") if f.strip()] if fields else None
        return JSONResponse(number.to_graph(requested))
    return await media_info(request, object_id)


@graph_endpoint
async def delete_object(request: Request) -> Response:
    return await delete_media(request, request.path_params["object_id"])


@graph_endpoint
async def list_phone_numbers(request: Request) -> Response:
    waba_id = request.path_params["object_id"]
    token = require_token(request)
    sim = sim_of(request)
    if not sim.token_covers_waba(token, waba_id):
        raise errors.unknown_object(waba_id, "GET")
    numbers = sorted(sim.numbers_of_waba(waba_id), key=lambda n: n.phone_number_id)
    return JSONResponse({"data": [n.to_graph() for n in numbers]})


def routes() -> list[Route]:
    return [
        Route("/{version}/{object_id}/messages", post_messages, methods=["POST"]),
        Route("/whatsapp_business/attachments/", download, methods=["GET"]),
        Route("/{version}/{object_id}/media", upload_media, methods=["POST"]),
        Route("/{version}/{object_id}/message_templates", list_templates, methods=["GET"]),
        Route("/{version}/{object_id}/message_templates", create_template, methods=["POST"]),
        Route("/{version}/{object_id}/message_templates", delete_templates, methods=["DELETE"]),
        Route("/{version}/{object_id}/phone_numbers", list_phone_numbers, methods=["GET"]),
        Route("/{version}/{object_id}", get_object, methods=["GET"]),
        Route("/{version}/{object_id}", delete_object, methods=["DELETE"]),
        Route("/{version}/{object_id}", edit_template, methods=["POST"]),
    ]
