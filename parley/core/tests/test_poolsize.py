"""A worker's connection pool is sized from its concurrency."""

from __future__ import annotations

from parley.core.poolsize import DEFAULT_MAX, pool_max, worker_concurrency

WORKER = ["manage.py", "procrastinate", "worker"]


def test_a_worker_reads_its_concurrency_however_it_is_written() -> None:
    assert worker_concurrency([*WORKER, "--concurrency", "12"]) == 12
    assert worker_concurrency([*WORKER, "--concurrency=16", "--queues", "outbox"]) == 16
    assert worker_concurrency([*WORKER, "-c", "3"]) == 3
    assert worker_concurrency(WORKER) == 1  # procrastinate's default
    assert worker_concurrency([*WORKER, "--concurrency", "many"]) is None
    assert worker_concurrency(["manage.py", "runserver"]) is None
    assert worker_concurrency(["manage.py", "procrastinate", "defer", "x"]) is None


def test_the_pool_holds_every_job_connection_unless_the_operator_says() -> None:
    # Twelve dispatchers hold up to four connections each, and the worker
    # needs a few of its own.
    assert pool_max([*WORKER, "--concurrency", "12"], {}) == 52
    assert pool_max([*WORKER, "--concurrency", "2"], {}) == DEFAULT_MAX
    assert pool_max(["uvicorn", "parley.asgi:application"], {}) == DEFAULT_MAX
    assert pool_max([*WORKER, "--concurrency", "12"], {"DATABASE_POOL_MAX": "30"}) == 30
    assert pool_max([*WORKER, "--concurrency", "12"], {"DATABASE_POOL_MAX": "0"}) == 0
