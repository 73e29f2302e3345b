"""Shared plumbing: a database of its own, Parley served by uvicorn on
loopback, workers, and percentile arithmetic."""

from __future__ import annotations

import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from pathlib import Path

import psycopg
from psycopg import sql

ROOT = Path(__file__).resolve().parent.parent
# PARLEY_BENCH_DB lets two benches run side by side without dropping each other.
BENCH_DB = os.environ.get("PARLEY_BENCH_DB", "parley_bench")


def base_url() -> str:
    """The app role's URL: DATABASE_URL, or the embedded server's."""
    url = os.environ.get("DATABASE_URL")
    if url:
        return url
    sys.path.insert(0, str(ROOT))
    from parley import devdb

    return devdb.ensure_running()


def bench_url() -> str:
    url = base_url()
    address, sep, query = url.partition("?")
    head, _, _name = address.rpartition("/")
    return f"{head}/{BENCH_DB}{sep}{query}"


def reset_database() -> str:
    """A fresh, migrated bench database; returns its URL."""
    admin = base_url()
    with psycopg.connect(admin, autocommit=True) as conn:
        for attempt in range(30):
            try:
                conn.execute(
                    sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                        sql.Identifier(BENCH_DB)
                    )
                )
                break
            except psycopg.errors.InsufficientPrivilege:
                # An autovacuum worker of the last run's database: the app role
                # may not end it, and it ends by itself in a moment.
                if attempt == 29:
                    raise
                time.sleep(1)
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(BENCH_DB)))
    url = bench_url()
    manage("migrate", "--no-input", "-v", "0", url=url)
    return url


def env_for(url: str, **extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": url,
        "LOG_LEVEL": "WARNING",
        "PROCRASTINATE_LOG_LEVEL": "ERROR",
        "PARLEY_SECURE_COOKIES": "0",
        **extra,
    }


def manage(*args: str, url: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=env_for(url),
        capture_output=True,
        text=True,
        check=True,
        timeout=600,
    )
    return result.stdout


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_http(url: str, timeout: float = 30.0) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if httpx.get(url, timeout=1.0).status_code < 500:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise RuntimeError(f"{url} did not come up")


Command = tuple[list[str], dict[str, str]]


@contextmanager
def processes(
    commands: Sequence[Command],
    *,
    captured: Mapping[int, Path] | None = None,
) -> Iterator[list[subprocess.Popen[bytes]]]:
    """Start the commands; ``captured`` sends the output of the command at an
    index to a file of its own (a figure read from its log)."""
    # PARLEY_BENCH_LOG=<file>: the processes' output appended there (for a
    # figure that needs explaining), else dropped.
    log_path = os.environ.get("PARLEY_BENCH_LOG")
    out = open(log_path, "ab") if log_path else subprocess.DEVNULL  # noqa: SIM115
    files = {index: path.open("ab") for index, path in (captured or {}).items()}
    procs = [
        subprocess.Popen(
            cmd, cwd=ROOT, env=env, stdout=files.get(index, out), stderr=subprocess.STDOUT
        )
        for index, (cmd, env) in enumerate(commands)
    ]
    try:
        yield procs
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        for proc in procs:
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                proc.kill()
        for handle in [*files.values(), out]:
            if not isinstance(handle, int):
                handle.close()


def web_command(port: int) -> list[str]:
    return [
        sys.executable,
        "-m",
        "uvicorn",
        "parley.asgi:application",
        "--host",
        "127.0.0.1",
        "--port",
        str(port),
        "--no-access-log",
        "--log-level",
        "warning",
    ]


def worker_command(concurrency: int = 8) -> list[str]:
    return [
        sys.executable,
        "manage.py",
        "procrastinate",
        "worker",
        "--concurrency",
        str(concurrency),
    ]


def percentile(values: Sequence[float], pct: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    index = min(len(ordered) - 1, max(0, round(pct / 100 * (len(ordered) - 1))))
    return ordered[index]


def report(title: str, rows: list[tuple[str, str]]) -> None:
    print(f"\n== {title}")
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        print(f"  {key.ljust(width)}  {value}")
