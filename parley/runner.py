"""`make run`: database, migrations, demo data, then web + worker, all
stopped by one Ctrl-C."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from parley import devdb

ROOT = Path(__file__).resolve().parent.parent
PY = sys.executable


def _manage(*args: str, env: dict[str, str]) -> None:
    subprocess.run([PY, "manage.py", *args], cwd=ROOT, env=env, check=True)


def _wait_for(url: str, timeout: float = 30.0) -> None:
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(url, timeout=2):  # noqa: S310  (loopback URL we built)
                return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"{url} did not come up within {timeout:.0f}s")


def main() -> int:
    env = dict(os.environ)
    env.setdefault("DEBUG", "1")
    env.setdefault("PARLEY_DEMO", "1")
    env.setdefault("LOG_FORMAT", "console")
    env.setdefault("PARLEY_SECURE_COOKIES", "0")
    host = env.get("PARLEY_HOST", "127.0.0.1")
    port = env.get("PARLEY_PORT", "8000")
    env.setdefault("PARLEY_BASE_URL", f"http://{host}:{port}")
    started_db = False
    if not env.get("DATABASE_URL"):
        print("Starting the embedded PostgreSQL under var/pgdata ...", flush=True)
        started_db = not devdb.is_running()
        env["DATABASE_URL"] = devdb.ensure_running()
    demo = env.get("PARLEY_DEMO") == "1"
    sim_port = env.get("PARLEY_SIMULATOR_PORT", "8900")
    sim_url = f"http://127.0.0.1:{sim_port}"
    if demo:
        # The demo talks to the Cloud API simulator instead of Meta.
        env.setdefault("WHATSAPP_GRAPH_URL", sim_url)
    _manage("migrate", "--no-input", "-v", "0", env=env)

    procs: list[tuple[str, subprocess.Popen[bytes]]] = []

    def spawn(name: str, cmd: list[str]) -> None:
        child_env = {**env, "PARLEY_PROCESS_NAME": f"parley-{name}"}
        # New process group: Ctrl-C reaches us once, and we stop the children.
        procs.append((name, subprocess.Popen(cmd, cwd=ROOT, env=child_env, start_new_session=True)))

    spawn(
        "web",
        [
            PY,
            "-m",
            "uvicorn",
            "parley.asgi:application",
            "--host",
            host,
            "--port",
            port,
            "--no-access-log",
        ],
    )
    spawn("worker", [PY, "manage.py", "procrastinate", "worker", "--concurrency", "8"])
    if demo:
        spawn("simulator", [PY, "-m", "parley.whatsapp.simulator", "--port", sim_port])
        _wait_for(f"{sim_url}/_sim/health")
        _wait_for(f"{env['PARLEY_BASE_URL']}/healthz")
        _manage("seed_demo", "--simulator", sim_url, env=env)
    else:
        _manage("seed_demo", env=env)

    print(f"\n  Parley is running at {env['PARLEY_BASE_URL']}/", flush=True)
    print("  Log in with demo@parley.localhost / parley-demo-2026", flush=True)
    if demo:
        print(f"  Play the customer at {sim_url}/ (the WhatsApp Cloud API simulator)", flush=True)
    print("  Press Ctrl-C to stop everything.\n", flush=True)

    stopping = False

    def stop(*_: object) -> None:
        nonlocal stopping
        stopping = True

    signal.signal(signal.SIGINT, stop)
    signal.signal(signal.SIGTERM, stop)
    code = 0
    try:
        while not stopping:
            for name, proc in procs:
                if proc.poll() is not None:
                    print(f"{name} exited with {proc.returncode}; stopping.", flush=True)
                    code = proc.returncode or 1
                    stopping = True
            time.sleep(0.3)
    finally:
        for _name, proc in procs:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)
        deadline = time.monotonic() + 15
        for _name, proc in procs:
            try:
                proc.wait(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                proc.kill()
        if started_db:
            print("Stopping the embedded PostgreSQL ...", flush=True)
            devdb.stop()
        print("Stopped.", flush=True)
    return code


if __name__ == "__main__":
    sys.exit(main())
