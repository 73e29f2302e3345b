"""Run real worker processes against the test database."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from django.db import connection

ROOT = Path(__file__).resolve().parent.parent
LOG = open(os.environ.get("PARLEY_TEST_WORKER_LOG", os.devnull), "ab")  # noqa: SIM115


def test_database_url() -> str:
    s = connection.settings_dict
    user = s["USER"]
    if s.get("PASSWORD"):
        user += f":{s['PASSWORD']}"
    host = s["HOST"] or s.get("OPTIONS", {}).get("host", "")
    if host.startswith("/"):
        return f"postgresql://{user}@/{s['NAME']}?host={host}"
    return f"postgresql://{user}@{host}:{s['PORT'] or 5432}/{s['NAME']}"


def worker_env(**extra: str) -> dict[str, str]:
    return {
        **os.environ,
        "DATABASE_URL": test_database_url(),
        "PARLEY_EXTRA_TASK_MODULES": "tests.jobtasks",
        "PARLEY_STALLED_WORKER_SECONDS": "3",
        "LOG_LEVEL": "WARNING",
        **extra,
    }


def start_worker(
    concurrency: int = 2, /, *, queues: str = "", **extra: str
) -> subprocess.Popen[bytes]:
    only = ["--queues", queues] if queues else []
    return subprocess.Popen(
        [
            sys.executable,
            "manage.py",
            "procrastinate",
            "worker",
            "--concurrency",
            str(concurrency),
            *only,
        ],
        cwd=ROOT,
        env=worker_env(**extra),
        stdout=LOG,
        stderr=subprocess.STDOUT,
    )


def manage(*args: str) -> str:
    result = subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=ROOT,
        env=worker_env(),
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    return result.stdout


def wait_for(predicate: Callable[[], bool], *, timeout: float, what: str) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError(f"timed out after {timeout}s waiting for {what}")


def stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
