"""A worker runs as many sync jobs at once as its ``--concurrency`` says.

Procrastinate runs a sync task on the event loop's default thread pool, and
asyncio sizes that pool from the machine: min(32, CPUs + 4) threads, six on
two cores. A worker started with ``--concurrency 12`` then ran six jobs at a
time, and the other six waited behind them: with ten channels' dispatchers
(each holding its slot while it sends) four channels sent nothing until the
first six were done. This worker middleware gives the loop a pool as large as
the worker's concurrency before the first job runs.

Before that first job it also settles the garbage collector (gc_tuning): by
then the worker has imported every task's code."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from procrastinate import job_context, worker
from procrastinate.middleware import AsyncCallNext

from parley.core import gc_tuning

SPARE_THREADS = 4

_sized: set[int] = set()


async def enough_threads(
    call_next: AsyncCallNext, context: job_context.JobContext, running: worker.Worker
) -> Any:
    loop = asyncio.get_running_loop()
    if id(loop) not in _sized:
        if not _sized:
            gc_tuning.settle()
        _sized.add(id(loop))
        # A few more than the jobs: anything else on the loop that hands work
        # to the default pool must not queue behind long jobs.
        loop.set_default_executor(
            ThreadPoolExecutor(
                max_workers=max(1, running.concurrency) + SPARE_THREADS,
                thread_name_prefix="procrastinate-job",
            )
        )
    return await call_next()
