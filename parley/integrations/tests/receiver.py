"""A webhook receiver on 127.0.0.1, as a customer would run one: it verifies
every request's signature with ``parley.integrations.signing.verify`` and
can be told to misbehave (answer 500, hang past the timeout, close the
connection) for its next requests."""

from __future__ import annotations

import threading
import time
from collections import deque
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from types import TracebackType
from typing import Any

from parley.integrations.signing import SIGNATURE_HEADER, verify

OK, ERROR, HANG, CLOSE, GONE = "ok", "500", "hang", "close", "410"


@dataclass
class Received:
    headers: dict[str, str]
    body: bytes
    at: float
    valid: dict[str, bool]  # secret -> signature verified with it


class Receiver:
    def __init__(self, *secrets: str, hang_seconds: float = 2.0) -> None:
        self.secrets = list(secrets)
        self.hang_seconds = hang_seconds
        self.script: deque[str] = deque()
        self.received: list[Received] = []
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, format: str, *args: Any) -> None:
                return

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
                header = self.headers.get(SIGNATURE_HEADER, "")
                with receiver._lock:
                    mode = receiver.script.popleft() if receiver.script else OK
                    receiver.received.append(
                        Received(
                            headers={k: v for k, v in self.headers.items()},
                            body=body,
                            at=time.time(),
                            valid={
                                s: verify(secret=s, body=body, header=header)
                                for s in receiver.secrets
                            },
                        )
                    )
                if mode == CLOSE:
                    self.close_connection = True
                    self.connection.close()
                    return
                if mode == HANG:
                    time.sleep(receiver.hang_seconds)
                status = {OK: 200, ERROR: 500, HANG: 200, GONE: 410}[mode]
                reply = b'{"ok":true}' if status == 200 else b"broken"
                self.send_response(status)
                self.send_header("Content-Length", str(len(reply)))
                self.end_headers()
                self.wfile.write(reply)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}/hooks"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> Receiver:
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._server.shutdown()
        self._server.server_close()
