"""Background jobs: Procrastinate, with the workspace carried into each job.

``tenant_task`` registers a job that runs inside a transaction seeing exactly
its workspace (the database wall holds in workers too). ``enqueue`` writes the
job row through Django's own connection, i.e. inside the caller's
transaction: the job becomes visible to workers exactly when the change that
caused it commits, and never exists for a change that rolled back. That is
"defer on commit" without the window in which a crash after commit but
before an ``on_commit`` hook would lose the job.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, ParamSpec, Protocol

import structlog
from django.db import close_old_connections, connection
from procrastinate import BaseRetryStrategy, JobContext, RetryStrategy
from procrastinate.contrib.django import app

from parley.core.tenant import workspace_context

P = ParamSpec("P")

# Waits of 1s, 2s, 4s ... : ten retries (about 17 minutes) before "failed".
DEFAULT_RETRY = RetryStrategy(max_attempts=10, exponential_wait=1)


class Deferrable(Protocol):
    def defer(self, **kwargs: Any) -> int: ...


def tenant_task(
    *,
    name: str,
    queue: str = "default",
    retry: BaseRetryStrategy | bool = DEFAULT_RETRY,
    atomic: bool = True,
    stoppable: bool = False,
) -> Callable[[Callable[..., None]], Any]:
    """Register ``fn(workspace_id=..., **kwargs)`` as a job run in that workspace.

    With ``atomic=False`` the job manages its own transactions (each opened
    with ``workspace_context``): for work that must commit before calling
    out, such as marking a message "sending" before the HTTP request.

    With ``stoppable=True`` the job also gets ``should_stop``, a callable
    that turns true when the worker is shutting down (past its grace): a
    long job ends early there, its work left as it would be between two
    slices, rather than keep the worker from stopping.
    """

    def decorator(fn: Callable[..., None]) -> Any:
        @functools.wraps(fn)
        def run(workspace_id: int, **kwargs: Any) -> None:
            # Worker threads keep connections across jobs: drop broken ones
            # (not when called inside a transaction, as tests and callers may).
            if not connection.in_atomic_block:
                close_old_connections()
            structlog.contextvars.bind_contextvars(workspace_id=workspace_id, task=name)
            try:
                if atomic:
                    with workspace_context(workspace_id):
                        fn(workspace_id=workspace_id, **kwargs)
                else:
                    fn(workspace_id=workspace_id, **kwargs)
            finally:
                structlog.contextvars.unbind_contextvars("workspace_id", "task")
                if not connection.in_atomic_block:
                    close_old_connections()

        if not stoppable:
            return app.task(name=name, queue=queue, retry=retry)(run)

        @functools.wraps(fn)
        def run_stoppable(context: JobContext, /, workspace_id: int, **kwargs: Any) -> None:
            run(workspace_id, should_stop=context.should_abort, **kwargs)

        return app.task(name=name, queue=queue, retry=retry, pass_context=True)(run_stoppable)

    return decorator


def enqueue(task: Deferrable, *, workspace_id: int, **kwargs: Any) -> int:
    """Defer ``task`` for ``workspace_id`` in the current transaction; returns the job id."""
    return task.defer(workspace_id=workspace_id, **kwargs)


def defer_in_django_transaction() -> None:
    """Make every synchronous defer write its job row through Django's
    connection, in the caller's transaction, in worker processes too.

    The worker command swaps the app's connector for its own pool, so a job
    that enqueued another (a workflow step sending a message, ingest waking
    the drips) wrote that job on a separate connection that committed at
    once: the new job could run before the rows it was about could be seen,
    and find nothing. Web processes already use Django's connection; the
    worker's own machinery defers asynchronously and is left alone."""
    from procrastinate import manager
    from procrastinate.contrib.django.django_connector import DjangoConnector

    if getattr(manager.JobManager.batch_defer_jobs, "_parley", False):
        return
    django_jobs = manager.JobManager(DjangoConnector())
    original = manager.JobManager.batch_defer_jobs

    def batch_defer_jobs(
        self: manager.JobManager, jobs: list[Any], connection: Any | None = None
    ) -> list[Any]:
        if connection is None and not isinstance(self.connector, DjangoConnector):
            return original(django_jobs, jobs)
        return original(self, jobs, connection)

    batch_defer_jobs._parley = True  # type: ignore[attr-defined]
    manager.JobManager.batch_defer_jobs = batch_defer_jobs  # type: ignore[method-assign]
