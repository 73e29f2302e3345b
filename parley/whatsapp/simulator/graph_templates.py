"""Graph API message templates of a WhatsApp Business Account: list, create, edit, delete."""

from __future__ import annotations

import base64
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors
from .plumbing import graph_endpoint, graph_json, require_token, sim_of

DEFAULT_PAGE = 25
MAX_PAGE = 1000


def _require_waba(request: Request) -> str:
    waba_id = str(request.path_params["object_id"])
    token = require_token(request)
    if not sim_of(request).token_covers_waba(token, waba_id):
        raise errors.unknown_object(waba_id, request.method)
    return waba_id


def _cursor(index: int) -> str:
    return base64.urlsafe_b64encode(str(index).encode()).decode()


def _uncursor(cursor: str) -> int:
    try:
        return int(base64.urlsafe_b64decode(cursor.encode()).decode())
    except ValueError:
        raise errors.invalid_parameter("Param after is not a valid cursor.") from None


@graph_endpoint
async def list_templates(request: Request) -> Response:
    waba_id = _require_waba(request)
    query = request.query_params
    found = sim_of(request).templates_of(waba_id)
    for key in ("name", "status", "language", "category"):
        wanted = query.get(key)
        if wanted:
            if key == "name":
                found = [t for t in found if wanted in t.name]
            else:
                found = [t for t in found if getattr(t, key).upper() == wanted.upper()]
    try:
        limit = min(max(int(query.get("limit", DEFAULT_PAGE)), 1), MAX_PAGE)
    except ValueError:
        raise errors.invalid_parameter("Param limit must be an integer.") from None
    start = _uncursor(query["after"]) + 1 if query.get("after") else 0
    page = found[start : start + limit]
    body: dict[str, object] = {"data": [t.to_graph() for t in page]}
    if page:
        paging: dict[str, object] = {
            "cursors": {"before": _cursor(start), "after": _cursor(start + len(page) - 1)}
        }
        if start + len(page) < len(found):
            params = {k: v for k, v in query.items() if k != "after"}
            params["after"] = _cursor(start + len(page) - 1)
            paging["next"] = f"{str(request.url).split('?')[0]}?{urlencode(params)}"
        body["paging"] = paging
    return JSONResponse(body)


@graph_endpoint
async def create_template(request: Request) -> Response:
    waba_id = _require_waba(request)
    body = await graph_json(request)
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object.")
    template = sim_of(request).create_template(waba_id, body)
    return JSONResponse(
        {"id": template.id, "status": template.status, "category": template.category}
    )


@graph_endpoint
async def delete_templates(request: Request) -> Response:
    waba_id = _require_waba(request)
    name = request.query_params.get("name")
    hsm_id = request.query_params.get("hsm_id")
    if not name:
        raise errors.invalid_parameter("The parameter name is required.")
    if not sim_of(request).delete_templates(waba_id, name, hsm_id):
        raise errors.invalid_parameter(f"Message template {name} was not found.")
    return JSONResponse({"success": True})


@graph_endpoint
async def edit_template(request: Request) -> Response:
    """POST /{template_id}: Meta's edit of one template (it is reviewed again)."""
    template_id = str(request.path_params["object_id"])
    token = require_token(request)
    sim = sim_of(request)
    template = sim.template_by_id(template_id)
    if template is None or not sim.token_covers_waba(token, template.waba_id):
        raise errors.unknown_object(template_id, request.method)
    body = await graph_json(request)
    if not isinstance(body, dict):
        raise errors.invalid_parameter("The request body must be a JSON object.")
    sim.edit_template(template, body)
    return JSONResponse({"success": True})
