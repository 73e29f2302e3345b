"""How many database connections a process's pool may open.

A worker runs up to ``--concurrency`` jobs at once, and an outbox dispatcher
job holds several connections at a time (its own thread's, two feeders' and
its writer's). With the web processes' default of 20, a worker running ten
dispatchers asked for forty connections: the pool made the rest wait, and
after its timeout the jobs failed (a dispatcher is not retried; the clock
starts its channel again), which cut ten channels' aggregate rate to a third
of their caps. So a worker's pool is sized from its concurrency unless the
operator set ``DATABASE_POOL_MAX``."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

DEFAULT_MAX = 20
# The most connections one job holds at once: the outbox dispatcher's thread,
# two feeder threads and the write-back thread.
PER_JOB = 4
# The worker's own use beside its jobs (job fetching, heartbeats, periodic
# deferrals) and a margin.
WORKER_EXTRA = 4


def worker_concurrency(argv: Sequence[str]) -> int | None:
    """The ``--concurrency`` of ``manage.py procrastinate worker`` (1 when not
    given, as procrastinate's default), or None when this is not a worker."""
    args = list(argv[1:])
    if "procrastinate" not in args or "worker" not in args:
        return None
    for index, arg in enumerate(args):
        value: str | None = None
        if arg in ("--concurrency", "-c") and index + 1 < len(args):
            value = args[index + 1]
        elif arg.startswith("--concurrency="):
            value = arg.split("=", 1)[1]
        if value is not None:
            try:
                return max(1, int(value))
            except ValueError:
                return None  # procrastinate itself refuses it, with its own message
    return 1


def pool_max(argv: Sequence[str], environ: Mapping[str, str]) -> int:
    """``DATABASE_POOL_MAX`` when set (0 turns the pool off); else enough for
    a worker's jobs, or the default for any other process."""
    explicit = environ.get("DATABASE_POOL_MAX", "").strip()
    if explicit:
        return int(explicit)
    concurrency = worker_concurrency(argv)
    if concurrency is None:
        return DEFAULT_MAX
    return max(DEFAULT_MAX, concurrency * PER_JOB + WORKER_EXTRA)
