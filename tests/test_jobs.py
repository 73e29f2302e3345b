"""Jobs: the workspace travels with the job, retries back off, and a worker
killed while holding a job loses nothing."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from django.db import transaction
from procrastinate.contrib.django.models import ProcrastinateJob

from parley.core.jobs import enqueue
from parley.core.tenant import dangerously_cross_tenant, workspace_context
from parley.tenancy.models import AuditEvent
from tests import jobtasks
from tests.factories import make_tenant
from tests.workers import manage, start_worker, stop, wait_for

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.slow]


def _events(action: str) -> list[AuditEvent]:
    with dangerously_cross_tenant(reason="test: inspect job effects"):
        return list(AuditEvent.objects.filter(action=action))


def _status(job_id: int) -> str:
    return str(ProcrastinateJob.objects.get(id=job_id).status)


def test_a_job_for_a_sees_only_a() -> None:
    a, b = make_tenant("Alpha"), make_tenant("Bravo")
    with workspace_context(a.workspace.pk):
        job_id = enqueue(
            jobtasks.record_visibility,
            workspace_id=a.workspace.pk,
            other_workspace_id=b.workspace.pk,
            marker="probe",
        )
    worker = start_worker()
    try:
        wait_for(lambda: _status(job_id) == "succeeded", timeout=60, what="the job")
    finally:
        stop(worker)
    [event] = _events("test.visibility")
    assert event.workspace_id == a.workspace.pk
    assert event.data == {"own": 4, "other": 0}


def test_a_worker_runs_as_many_jobs_at_once_as_its_concurrency(tmp_path: Path) -> None:
    # asyncio's default thread pool, which runs sync jobs, has min(32, CPUs + 4)
    # threads: ask for more than that, so the test fails on any machine if
    # the worker's pool is left at the default.
    concurrency = min(32, (os.cpu_count() or 1) + 4) + 2
    tenant = make_tenant("Alpha")
    with workspace_context(tenant.workspace.pk):
        for n in range(concurrency):
            enqueue(
                jobtasks.meet,
                workspace_id=tenant.workspace.pk,
                folder=str(tmp_path),
                expected=concurrency,
                marker=f"job-{n}",
            )
    worker = start_worker(concurrency, queues="tests_meet")
    try:
        wait_for(lambda: len(_events("test.meet")) == concurrency, timeout=90, what="every job")
    finally:
        stop(worker)
    met = sorted((e.data["met"], e.target) for e in _events("test.meet"))
    assert [m[0] for m in met] == [concurrency] * concurrency, met


def test_a_rolled_back_change_defers_no_job() -> None:
    a = make_tenant("Alpha")
    before = ProcrastinateJob.objects.count()
    with pytest.raises(RuntimeError), transaction.atomic():
        enqueue(jobtasks.slow_effect, workspace_id=a.workspace.pk, marker="never", seconds=0)
        raise RuntimeError("the change fails")
    assert ProcrastinateJob.objects.count() == before


def test_failures_are_retried_until_success(tmp_path: Path) -> None:
    a = make_tenant("Alpha")
    counter = tmp_path / "attempts"
    with workspace_context(a.workspace.pk):
        job_id = enqueue(
            jobtasks.flaky, workspace_id=a.workspace.pk, counter_path=str(counter), failures=2
        )
    worker = start_worker()
    try:
        wait_for(lambda: _status(job_id) == "succeeded", timeout=60, what="the retried job")
    finally:
        stop(worker)
    assert counter.read_text() == "3"
    assert [e.target for e in _events("test.flaky")] == ["3"]


def test_a_job_that_keeps_failing_ends_failed_and_visible_to_the_operator(tmp_path: Path) -> None:
    a = make_tenant("Alpha")
    with workspace_context(a.workspace.pk):
        job_id = enqueue(
            jobtasks.flaky,
            workspace_id=a.workspace.pk,
            counter_path=str(tmp_path / "n"),
            failures=99,
        )
    worker = start_worker()
    try:
        wait_for(lambda: _status(job_id) == "failed", timeout=60, what="the job to fail")
    finally:
        stop(worker)
    assert (tmp_path / "n").read_text() == "5"  # the first try and max_attempts=4 retries
    from django.test import Client

    from tests.factories import make_user

    operator = make_user("ops@example.test", is_staff=True)
    client = Client()
    client.force_login(operator, backend="django.contrib.auth.backends.ModelBackend")
    page = client.get("/ops/").content.decode()
    assert "tests.flaky" in page and f"<td>{job_id}</td>" in page
    response = client.post(f"/ops/jobs/{job_id}/retry/")
    assert response.status_code == 302
    assert _status(job_id) == "todo"


def test_a_worker_killed_holding_a_job_loses_nothing_and_duplicates_nothing() -> None:
    a = make_tenant("Alpha")
    with workspace_context(a.workspace.pk):
        job_id = enqueue(
            jobtasks.slow_effect, workspace_id=a.workspace.pk, marker="once", seconds=3
        )
    first = start_worker()
    try:
        wait_for(
            lambda: _status(job_id) == "doing", timeout=60, what="the first worker to take the job"
        )
        first.send_signal(signal.SIGKILL)
        first.wait(timeout=10)
    finally:
        stop(first)
    assert _status(job_id) == "doing"  # held by a dead worker
    assert _events("test.slow") == []
    second = start_worker()
    try:
        # The reaper requeues it once the dead worker's heartbeat is stale:
        # the command, or the second worker's periodic run of it if that
        # comes first (then the command finds nothing left to requeue).
        wait_for(
            lambda: _status(job_id) != "doing" or "Requeued 1" in manage("retry_stalled_jobs"),
            timeout=60,
            what="the reaper",
        )
        wait_for(lambda: _status(job_id) == "succeeded", timeout=60, what="the second worker")
    finally:
        stop(second)
    assert [e.target for e in _events("test.slow")] == ["once"]
