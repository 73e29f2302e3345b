"""The Starlette application: control API, demo page and the Graph API routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.types import Receive, Scope, Send

from . import control, graph, phone_page
from .config import SimulatorConfig
from .core import Simulator


class MessagesFastPath:
    """POST /{version}/{id}/messages straight to its handler; everything else
    through Starlette.

    Why: a broadcast sends a thousand of these a second, and Starlette's
    middleware and route matching cost the simulator a fifth of its CPU per
    message (measured: 180 against 140 us). A busy simulator answers late, and every millisecond of
    answer time is a millisecond the sender must count against its cap (see
    parley.outbox.pacing.Window), so the bench would measure the simulator.
    The handler is the same one the route runs, with the same path values."""

    def __init__(self, app: Starlette) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and scope["method"] == "POST":
            parts = scope["path"].split("/")
            # ["", version, object_id, "messages"]; /_sim/... stays with Starlette.
            if (
                len(parts) == 4
                and parts[3] == "messages"
                and parts[1]
                and parts[2]
                and parts[1] != "_sim"
            ):
                scope["app"] = self.app
                scope["path_params"] = {"version": parts[1], "object_id": parts[2]}
                response = await graph.post_messages(Request(scope, receive))
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)


def build_app(
    config: SimulatorConfig | None = None, simulator: Simulator | None = None
) -> Starlette:
    sim = simulator or Simulator(config)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await sim.start()
        try:
            yield
        finally:
            await sim.stop()

    # Order matters: the fixed /_sim and / paths must win over the Graph API's
    # catch-all /{version}/{object_id} patterns.
    app = Starlette(
        routes=[*control.routes(), *phone_page.routes(), *graph.routes()], lifespan=lifespan
    )
    app.state.simulator = sim
    return app
