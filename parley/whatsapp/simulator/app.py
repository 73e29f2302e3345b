"""The Starlette application: control API, demo page and the Graph API routes."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette

from . import control, graph, phone_page
from .config import SimulatorConfig
from .core import Simulator


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
