"""Control API under /_sim: set up numbers and templates, play customers, inject faults,
and read back what the customers' phones received."""

from __future__ import annotations

import time
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .plumbing import base_url, control_endpoint, control_json, sim_of
from .state import ControlError, Faults, Number, digits

FAULT_STATUSES = (429, 500, 502, 503, 504)


def _number(request: Request, phone_number_id: Any) -> Number:
    number = sim_of(request).numbers.get(str(phone_number_id or ""))
    if number is None:
        raise ControlError(f"unknown phone_number_id {phone_number_id!r}", status=404)
    return number


@control_endpoint
async def health(request: Request) -> Response:
    sim = sim_of(request)
    return JSONResponse(
        {
            "ok": True,
            "numbers": len(sim.numbers),
            "pending_statuses": sim.statuses.pending,
            "pending_webhooks": sim.dispatcher.pending,
        }
    )


@control_endpoint
async def list_numbers(request: Request) -> Response:
    numbers = sorted(sim_of(request).numbers.values(), key=lambda n: n.phone_number_id)
    return JSONResponse({"numbers": [n.to_public() for n in numbers]})


@control_endpoint
async def upsert_number(request: Request) -> Response:
    number, created = sim_of(request).upsert_number(await control_json(request))
    return JSONResponse(
        {"number": number.to_public(), "created": created}, status_code=201 if created else 200
    )


@control_endpoint
async def get_number(request: Request) -> Response:
    return JSONResponse({"number": _number(request, request.path_params["pnid"]).to_public()})


@control_endpoint
async def patch_number(request: Request) -> Response:
    pnid = _number(request, request.path_params["pnid"]).phone_number_id
    data = {**await control_json(request), "phone_number_id": pnid}
    number, _ = sim_of(request).upsert_number(data)
    return JSONResponse({"number": number.to_public()})


@control_endpoint
async def delete_number(request: Request) -> Response:
    removed = sim_of(request).delete_number(request.path_params["pnid"])
    return JSONResponse({"deleted": removed}, status_code=200 if removed else 404)


@control_endpoint
async def post_inbound(request: Request) -> Response:
    data = await control_json(request)
    number = _number(request, data.get("phone_number_id"))
    deliveries = data.get("deliveries", 1)
    if isinstance(deliveries, bool) or not isinstance(deliveries, int) or not 1 <= deliveries <= 20:
        raise ControlError("deliveries must be an integer from 1 to 20")
    if "messages" in data:
        items = data["messages"]
        if not isinstance(items, list) or not items or len(items) > 100:
            raise ControlError("messages must be an array of 1 to 100 inbound messages")
    else:
        items = [data]
    result = await sim_of(request).receive(
        number,
        items,
        deliveries=deliveries,
        wait=bool(data.get("wait")),
        base_url=base_url(request),
    )
    return JSONResponse(result)


@control_endpoint
async def get_messages(request: Request) -> Response:
    query = request.query_params
    direction = query.get("direction", "outbound")
    if direction not in ("outbound", "inbound", "all"):
        raise ControlError("direction must be outbound, inbound or all")
    customer = query.get("to") or query.get("customer")
    try:
        after = int(query.get("after", "0"))
        limit = int(query["limit"]) if query.get("limit") else None
    except ValueError:
        raise ControlError("after and limit must be integers") from None
    records = sim_of(request).messages.query(
        phone_number_id=query.get("phone_number_id") or None,
        customer=digits(customer) if customer else None,
        direction=None if direction == "all" else direction,
        after_seq=after,
        limit=limit,
    )
    return JSONResponse({"messages": records})


@control_endpoint
async def clear_messages(request: Request) -> Response:
    sim_of(request).messages.clear(request.query_params.get("phone_number_id") or None)
    return JSONResponse({"cleared": True})


@control_endpoint
async def list_customers(request: Request) -> Response:
    number = _number(request, request.query_params.get("phone_number_id"))
    rows = sim_of(request).customers.listing(number.phone_number_id, time.time())
    return JSONResponse({"customers": rows})


@control_endpoint
async def set_window(request: Request) -> Response:
    """Open (as if the customer just wrote) or close a customer's 24-hour window."""
    data = await control_json(request)
    number = _number(request, data.get("phone_number_id"))
    wa_id = digits(str(data.get("wa_id") or ""))
    if not wa_id:
        raise ControlError("wa_id is required")
    opened_at: float | None = None
    if data.get("open", True):
        raw = data.get("last_inbound_at", time.time())
        if isinstance(raw, bool) or not isinstance(raw, int | float):
            raise ControlError("last_inbound_at must be a Unix timestamp")
        opened_at = float(raw)
    sim_of(request).set_window(number.phone_number_id, wa_id, opened_at)
    return JSONResponse(
        {"phone_number_id": number.phone_number_id, "wa_id": wa_id, "last_inbound_at": opened_at}
    )


@control_endpoint
async def get_undeliverable(request: Request) -> Response:
    return JSONResponse({"wa_ids": sorted(sim_of(request).undeliverable)})


@control_endpoint
async def post_undeliverable(request: Request) -> Response:
    """Mark customers whose phones can't receive messages (e.g. not on WhatsApp): 131026."""
    data = await control_json(request)
    wa_ids = data.get("wa_ids", [data.get("wa_id")] if data.get("wa_id") else [])
    if not isinstance(wa_ids, list) or not wa_ids:
        raise ControlError("wa_id or wa_ids is required")
    target = sim_of(request).undeliverable
    for wa_id in wa_ids:
        if data.get("undeliverable", True):
            target.add(digits(str(wa_id)))
        else:
            target.discard(digits(str(wa_id)))
    return JSONResponse({"wa_ids": sorted(target)})


@control_endpoint
async def clear_undeliverable(request: Request) -> Response:
    sim_of(request).undeliverable.clear()
    return JSONResponse({"wa_ids": []})


@control_endpoint
async def get_faults(request: Request) -> Response:
    return JSONResponse(sim_of(request).faults.to_public())


@control_endpoint
async def post_faults(request: Request) -> Response:
    """{"http_status": 500, "count": 3, "code"?: 131000, "match"?: "/messages"} and/or
    {"latency_ms": 20}. Fields not given keep their current value."""
    data = await control_json(request)
    faults = sim_of(request).faults
    if "http_status" in data or "count" in data:
        status = data.get("http_status", faults.http_status)
        count = data.get("count", 1)
        if status not in FAULT_STATUSES:
            raise ControlError(f"http_status must be one of {', '.join(map(str, FAULT_STATUSES))}")
        if isinstance(count, bool) or not isinstance(count, int) or count < 0:
            raise ControlError("count must be a non-negative integer")
        code = data.get("code")
        if code is not None and (isinstance(code, bool) or not isinstance(code, int)):
            raise ControlError("code must be an integer Meta error code")
        if status == 429 and code not in (None, 4, 80007, 130429, 131056):
            raise ControlError("a 429 fault carries code 130429, 80007, 131056 or 4")
        match = data.get("match")
        faults.http_status, faults.error_count, faults.code = int(status), count, code
        faults.match = str(match) if match else None
    if "latency_ms" in data:
        latency = data["latency_ms"]
        if (
            isinstance(latency, bool)
            or not isinstance(latency, int | float)
            or not 0 <= latency <= 60_000
        ):
            raise ControlError("latency_ms must be between 0 and 60000")
        faults.latency_ms = float(latency)
    return JSONResponse(faults.to_public())


@control_endpoint
async def clear_faults(request: Request) -> Response:
    sim = sim_of(request)
    sim.faults = Faults()
    return JSONResponse(sim.faults.to_public())


@control_endpoint
async def get_settings(request: Request) -> Response:
    return JSONResponse(sim_of(request).config.runtime_settings())


@control_endpoint
async def post_settings(request: Request) -> Response:
    sim = sim_of(request)
    try:
        sim.config.update_runtime(await control_json(request))
    except ValueError as exc:
        raise ControlError(str(exc)) from None
    return JSONResponse(sim.config.runtime_settings())


@control_endpoint
async def list_all_templates(request: Request) -> Response:
    waba_id = request.query_params.get("waba_id")
    found = sorted(sim_of(request).templates.values(), key=lambda t: (t.waba_id, t.created_at))
    rows = [t.to_state() for t in found if waba_id is None or t.waba_id == waba_id]
    return JSONResponse({"templates": rows})


@control_endpoint
async def seed_template(request: Request) -> Response:
    """Add or replace a template directly in the given status (APPROVED unless told)."""
    template = sim_of(request).seed_template(await control_json(request))
    return JSONResponse({"template": template.to_state()}, status_code=201)


@control_endpoint
async def set_template_status(request: Request) -> Response:
    """Force a review outcome (e.g. PAUSED, REJECTED) and post the status-update webhook."""
    data = await control_json(request)
    sim = sim_of(request)
    key = (str(data.get("waba_id")), str(data.get("name")), str(data.get("language")))
    template = sim.templates.get(key)
    if template is None:
        raise ControlError("no template with that waba_id, name and language", status=404)
    status = str(data.get("status", "")).upper()
    if status not in ("APPROVED", "REJECTED", "PAUSED", "DISABLED", "PENDING"):
        raise ControlError("status must be APPROVED, REJECTED, PAUSED, DISABLED or PENDING")
    template.status = status
    template.rejected_reason = str(
        data.get("reason") or ("NONE" if status == "APPROVED" else "OTHER")
    )
    info = data.get("rejection_info")
    template.rejection_info = info if isinstance(info, dict) else None
    sim.persist()
    sim.post_template_status(template)
    return JSONResponse({"template": template.to_state()})


@control_endpoint
async def clear_templates(request: Request) -> Response:
    sim = sim_of(request)
    waba_id = request.query_params.get("waba_id")
    name = request.query_params.get("name")
    if waba_id is None:
        count = len(sim.templates)
        sim.templates.clear()
        sim.persist()
    else:
        count = sim.delete_templates(waba_id, name, None)
    return JSONResponse({"deleted": count})


@control_endpoint
async def webhook_log(request: Request) -> Response:
    query = request.query_params
    entries = list(sim_of(request).dispatcher.log)
    if query.get("kind"):
        entries = [e for e in entries if e["kind"] == query["kind"]]
    if query.get("url"):
        entries = [e for e in entries if e["url"] == query["url"]]
    try:
        limit = int(query.get("limit", "200"))
    except ValueError:
        raise ControlError("limit must be an integer") from None
    return JSONResponse({"deliveries": entries[-limit:] if limit > 0 else []})


@control_endpoint
async def raw_media(request: Request) -> Response:
    """Media bytes without a token, for the demo page's <img> tags."""
    item = sim_of(request).media.get(request.path_params["media_id"])
    if item is None:
        return JSONResponse({"error": "unknown media id"}, status_code=404)
    return Response(item.data, media_type=item.mime_type)


@control_endpoint
async def reset(request: Request) -> Response:
    sim_of(request).reset_traffic()
    return JSONResponse({"reset": True})


def routes() -> list[Route]:
    return [
        Route("/_sim/health", health, methods=["GET"]),
        Route("/_sim/numbers", list_numbers, methods=["GET"]),
        Route("/_sim/numbers", upsert_number, methods=["POST"]),
        Route("/_sim/numbers/{pnid}", get_number, methods=["GET"]),
        Route("/_sim/numbers/{pnid}", patch_number, methods=["PATCH"]),
        Route("/_sim/numbers/{pnid}", delete_number, methods=["DELETE"]),
        Route("/_sim/inbound", post_inbound, methods=["POST"]),
        Route("/_sim/messages", get_messages, methods=["GET"]),
        Route("/_sim/messages", clear_messages, methods=["DELETE"]),
        Route("/_sim/customers", list_customers, methods=["GET"]),
        Route("/_sim/windows", set_window, methods=["POST"]),
        Route("/_sim/undeliverable", get_undeliverable, methods=["GET"]),
        Route("/_sim/undeliverable", post_undeliverable, methods=["POST"]),
        Route("/_sim/undeliverable", clear_undeliverable, methods=["DELETE"]),
        Route("/_sim/faults", get_faults, methods=["GET"]),
        Route("/_sim/faults", post_faults, methods=["POST"]),
        Route("/_sim/faults", clear_faults, methods=["DELETE"]),
        Route("/_sim/settings", get_settings, methods=["GET"]),
        Route("/_sim/settings", post_settings, methods=["POST", "PATCH"]),
        Route("/_sim/templates", list_all_templates, methods=["GET"]),
        Route("/_sim/templates", seed_template, methods=["POST"]),
        Route("/_sim/templates", clear_templates, methods=["DELETE"]),
        Route("/_sim/templates/status", set_template_status, methods=["POST"]),
        Route("/_sim/webhook-log", webhook_log, methods=["GET"]),
        Route("/_sim/media/{media_id}", raw_media, methods=["GET"]),
        Route("/_sim/reset", reset, methods=["POST"]),
    ]
