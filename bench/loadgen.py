"""A small HTTP/1.1 load generator on raw asyncio streams (keep-alive, no
pipelining). A general-purpose client costs more CPU per request than the
server under test; on two cores that would measure the client."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from urllib.parse import urlsplit


class Connection:
    def __init__(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter, host: str
    ) -> None:
        self.reader, self.writer, self.host = reader, writer, host

    @classmethod
    async def open(cls, host: str, port: int) -> Connection:
        reader, writer = await asyncio.open_connection(host, port)
        return cls(reader, writer, f"{host}:{port}")

    async def post(self, path: str, body: bytes, headers: dict[str, str]) -> int:
        head = [f"POST {path} HTTP/1.1", f"Host: {self.host}", f"Content-Length: {len(body)}"]
        head += [f"{k}: {v}" for k, v in headers.items()]
        self.writer.write(("\r\n".join(head) + "\r\n\r\n").encode() + body)
        status_line = await self.reader.readline()
        if not status_line:
            raise ConnectionError("server closed the connection")
        status = int(status_line.split()[1])
        length = 0
        while True:
            line = await self.reader.readline()
            if line in (b"\r\n", b"\n", b""):
                break
            name, _, value = line.decode("latin-1").partition(":")
            if name.strip().lower() == "content-length":
                length = int(value.strip())
        if length:
            await self.reader.readexactly(length)
        return status

    def close(self) -> None:
        self.writer.close()


Request = tuple[bytes, dict[str, str]]


async def _pool(url: str, size: int) -> tuple[str, asyncio.Queue[Connection]]:
    parts = urlsplit(url)
    idle: asyncio.Queue[Connection] = asyncio.Queue()
    for _ in range(size):
        idle.put_nowait(await Connection.open(parts.hostname or "127.0.0.1", parts.port or 80))
    return parts.path, idle


async def open_loop(
    url: str, requests: Sequence[Request], rate: float, connections: int = 64, timeout: float = 10.0
) -> tuple[list[float], int, float]:
    """Request i is due at i / rate; latency counts from when it was due."""
    path, idle = await _pool(url, connections)
    latencies: list[float] = []
    errors = 0
    start = 0.0
    ready = asyncio.Event()
    kinds: dict[str, int] = {}

    async def one(i: int, body: bytes, headers: dict[str, str]) -> None:
        nonlocal errors
        # The clock starts once every task exists: creating thousands of
        # tasks takes the loop a while, which must not count as server time.
        await ready.wait()
        due = start + i / rate
        delay = due - time.perf_counter()
        if delay > 0:
            await asyncio.sleep(delay)
        conn = await idle.get()
        try:
            status = await asyncio.wait_for(conn.post(path, body, headers), timeout)
            if status != 200:
                errors += 1
            idle.put_nowait(conn)
        except (TimeoutError, OSError, ConnectionError, ValueError):
            errors += 1
            conn.close()
            parts = urlsplit(url)
            idle.put_nowait(await Connection.open(parts.hostname or "127.0.0.1", parts.port or 80))
        latencies.append((time.perf_counter() - due) * 1000)

    tasks = [asyncio.ensure_future(one(i, b, h)) for i, (b, h) in enumerate(requests)]
    await asyncio.sleep(0)
    start = time.perf_counter() + 0.05
    ready.set()
    await asyncio.gather(*tasks)
    elapsed = time.perf_counter() - start
    while not idle.empty():
        idle.get_nowait().close()
    if kinds:
        print(f"  (load generator: errors by kind {kinds})")
    return latencies, errors, elapsed


async def closed_loop(url: str, requests: Sequence[Request], connections: int) -> tuple[int, float]:
    """As fast as the server answers, one request in flight per connection."""
    path, idle = await _pool(url, connections)
    feed = iter(requests)
    ok = 0
    start = time.perf_counter()

    async def lane(conn: Connection) -> None:
        nonlocal ok
        for body, headers in feed:
            if await conn.post(path, body, headers) == 200:
                ok += 1

    lanes = [idle.get_nowait() for _ in range(connections)]
    await asyncio.gather(*(lane(c) for c in lanes))
    elapsed = time.perf_counter() - start
    for conn in lanes:
        conn.close()
    return ok, elapsed
