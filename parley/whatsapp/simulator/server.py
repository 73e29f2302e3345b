"""Run an ASGI app (the simulator, or a test's webhook receiver) with uvicorn in a
background thread on a loopback port, for tests and benchmarks in the same process."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from types import TracebackType
from typing import Any, Literal

import uvicorn
from starlette.applications import Starlette

from .app import MessagesFastPath, build_app
from .client import SimulatorClient
from .config import SimulatorConfig
from .core import Simulator
from .netcheck import is_loopback_host


class BackgroundServer:
    """`with BackgroundServer(app) as server: server.url` - started and stopped for you."""

    def __init__(
        self,
        app: Any,
        host: str = "127.0.0.1",
        port: int = 0,
        startup_timeout: float = 10.0,
        lifespan: Literal["auto", "on", "off"] = "auto",
    ) -> None:
        if not is_loopback_host(host):
            raise ValueError(f"refusing to listen on non-loopback host {host!r}")
        self.app = app
        self.host = host
        self._startup_timeout = startup_timeout
        family = socket.AF_INET6 if ":" in host else socket.AF_INET
        self._socket = socket.socket(family, socket.SOCK_STREAM)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind((host, port))
        self.port: int = self._socket.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", lifespan=lifespan, access_log=False)
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    def start(self) -> BackgroundServer:
        self._thread = threading.Thread(
            target=self._server.run,
            kwargs={"sockets": [self._socket]},
            name=f"uvicorn:{self.port}",
            daemon=True,
        )
        self._thread.start()
        deadline = time.monotonic() + self._startup_timeout
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"server on {self.url} did not start")
            time.sleep(0.01)
        return self

    def stop(self, timeout: float = 10.0) -> None:
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
        self._socket.close()

    def __enter__(self) -> BackgroundServer:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


class SimulatorHandle:
    """A running in-process simulator: its URL (the Graph base URL), a control-API client,
    and the Simulator object itself for white-box checks."""

    def __init__(self, server: BackgroundServer, simulator: Simulator, app: Starlette) -> None:
        self.server = server
        self.simulator = simulator
        self.app = app
        self.url = server.url
        self.graph_url = server.url  # clients append /v21.0/{phone_number_id}/messages etc.
        self.control = SimulatorClient(server.url)

    def stop(self) -> None:
        self.control.close()
        self.server.stop()


def start_simulator(
    config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> SimulatorHandle:
    """Start in a background thread; call `.stop()` on the result when done."""
    simulator = Simulator(config)
    app = build_app(simulator=simulator)
    # lifespan="on": without its startup the simulator posts no webhooks, so fail loudly.
    server = BackgroundServer(MessagesFastPath(app), host=host, port=port, lifespan="on").start()
    return SimulatorHandle(server, simulator, app)


@contextmanager
def running_simulator(
    config: SimulatorConfig | None = None, *, host: str = "127.0.0.1", port: int = 0
) -> Iterator[SimulatorHandle]:
    handle = start_simulator(config, host=host, port=port)
    try:
        yield handle
    finally:
        handle.stop()
