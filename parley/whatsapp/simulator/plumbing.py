"""Plumbing shared by the Graph and control routes: the simulator on the app, the Graph
preamble (latency, injected faults, version), bearer tokens, and error translation."""

from __future__ import annotations

import asyncio
import functools
import json
import re
from collections.abc import Awaitable, Callable
from typing import Any, cast

from starlette.requests import Request
from starlette.responses import JSONResponse, Response

from . import errors
from .core import Simulator
from .state import ControlError, Number

Handler = Callable[[Request], Awaitable[Response]]
VERSION_RE = re.compile(r"^v\d+\.\d+$")


def sim_of(request: Request) -> Simulator:
    return cast(Simulator, request.app.state.simulator)


def base_url(request: Request) -> str:
    return str(request.base_url).rstrip("/")


def bearer(request: Request) -> str | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    # Graph also accepts the token as a query parameter.
    return request.query_params.get("access_token") or None


def graph_endpoint(handler: Handler) -> Handler:
    """Run the Graph preamble, then the handler; Meta errors become Meta's JSON bodies."""

    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            await _preamble(request)
            return await handler(request)
        except errors.MetaError as exc:
            return exc.response()

    return wrapped


async def _preamble(request: Request) -> None:
    version = request.path_params.get("version")
    if version is not None and not VERSION_RE.match(str(version)):
        raise errors.MetaError(
            400, 2635, message=f"Unknown API version {version!s}", whatsapp=False
        )
    faults = sim_of(request).faults
    if faults.latency_ms > 0:
        await asyncio.sleep(faults.latency_ms / 1000)
    if faults.error_count > 0 and (faults.match is None or faults.match in request.url.path):
        faults.error_count -= 1
        raise errors.fault(faults.http_status, faults.code)


def require_token(request: Request) -> str:
    token = bearer(request)
    if not sim_of(request).token_is_known(token):
        raise errors.invalid_token()
    assert token is not None
    return token


def require_number(request: Request, phone_number_id: str) -> Number:
    """The number addressed by the path, which the caller's token must belong to."""
    token = require_token(request)
    sim = sim_of(request)
    number = sim.numbers.get(phone_number_id)
    if number is None or not sim.token_covers_waba(token, number.waba_id):
        raise errors.unknown_object(phone_number_id, request.method)
    return number


async def graph_json(request: Request) -> Any:
    try:
        return json.loads(await request.body())
    except ValueError:
        raise errors.invalid_parameter("The request body is not valid JSON.") from None


def control_endpoint(handler: Handler) -> Handler:
    @functools.wraps(handler)
    async def wrapped(request: Request) -> Response:
        try:
            return await handler(request)
        except ControlError as exc:
            return JSONResponse({"error": exc.message}, status_code=exc.status)
        except errors.MetaError as exc:
            return JSONResponse(
                {"error": exc.details, "meta_error": exc.body()["error"]}, status_code=400
            )

    return wrapped


async def control_json(request: Request) -> dict[str, Any]:
    raw = await request.body()
    if not raw.strip():
        return {}
    try:
        data = json.loads(raw)
    except ValueError:
        raise ControlError("body must be JSON") from None
    if not isinstance(data, dict):
        raise ControlError("body must be a JSON object")
    return data
