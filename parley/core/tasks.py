"""Housekeeping jobs of the job system itself."""

from __future__ import annotations

import structlog
from django.conf import settings
from procrastinate.contrib.django import app
from procrastinate.exceptions import UniqueViolation
from procrastinate.jobs import Status

log = structlog.get_logger(__name__)


@app.periodic(cron="* * * * *", periodic_id="retry_stalled_jobs")
@app.task(name="core.retry_stalled_jobs", queueing_lock="core.retry_stalled_jobs")
async def retry_stalled_jobs(timestamp: int) -> int:
    """Put back jobs whose worker died (no heartbeat) so another worker runs them.

    Jobs are idempotent by contract, so running one again is safe.
    """
    return await requeue_stalled_jobs()


async def requeue_stalled_jobs() -> int:
    stalled = list(
        await app.job_manager.get_stalled_jobs(
            seconds_since_heartbeat=settings.PARLEY_STALLED_WORKER_SECONDS
        )
    )
    for job in stalled:
        try:
            await app.job_manager.retry_job(job)
        except UniqueViolation:
            # A newer job with the same queueing lock is already waiting (a
            # dispatcher kicked again, say): it does the same work. End the
            # dead one, or its lock would keep the waiting one from ever running.
            log.warning("job_stalled_superseded", job_id=job.id, task=job.task_name)
            await app.job_manager.finish_job(job, status=Status.FAILED, delete_job=False)
        else:
            log.warning("job_stalled_retried", job_id=job.id, task=job.task_name)
    return len(stalled)


@app.periodic(cron="17 3 * * *", periodic_id="delete_old_jobs")
@app.task(name="core.delete_old_jobs", queueing_lock="core.delete_old_jobs")
async def delete_old_jobs(timestamp: int) -> None:
    """Keep the jobs table small: finished jobs go after a week (failed stay
    a month for the operator)."""
    await app.job_manager.delete_old_jobs(nb_hours=24 * 7, include_failed=False)
    await app.job_manager.delete_old_jobs(nb_hours=24 * 30, include_failed=True)
