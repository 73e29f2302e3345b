"""Jobs used by the job tests; loaded by workers via PARLEY_EXTRA_TASK_MODULES."""

from __future__ import annotations

import time
from pathlib import Path

from procrastinate import RetryStrategy

from parley.core.jobs import tenant_task
from parley.tenancy.models import AuditEvent, Membership


@tenant_task(name="tests.record_visibility")
def record_visibility(*, workspace_id: int, other_workspace_id: int, marker: str) -> None:
    """Record what this job can see: its own memberships, and the other workspace's."""
    AuditEvent.objects.create(
        workspace_id=workspace_id,
        action="test.visibility",
        target=marker,
        data={
            "own": Membership.objects.count(),
            "other": Membership.objects.filter(workspace_id=other_workspace_id).count(),
        },
    )


@tenant_task(name="tests.slow_effect")
def slow_effect(*, workspace_id: int, marker: str, seconds: float) -> None:
    """Sleep, then leave one effect; idempotent, as every job must be."""
    time.sleep(seconds)
    AuditEvent.objects.get_or_create(workspace_id=workspace_id, action="test.slow", target=marker)


@tenant_task(name="tests.flaky", retry=RetryStrategy(max_attempts=4, wait=0))
def flaky(*, workspace_id: int, counter_path: str, failures: int) -> None:
    """Fail ``failures`` times (counted in a file, outside the rolled-back
    transaction), then succeed."""
    path = Path(counter_path)
    attempts = int(path.read_text()) if path.exists() else 0
    path.write_text(str(attempts + 1))
    if attempts < failures:
        raise RuntimeError(f"planned failure {attempts + 1}")
    AuditEvent.objects.create(
        workspace_id=workspace_id, action="test.flaky", target=str(attempts + 1)
    )


# A queue of its own: the worker that runs it listens to nothing else, so a
# periodic job (the outbox clock holds its slot for a minute) cannot take one
# of the slots the test counts.
@tenant_task(name="tests.meet", queue="tests_meet")
def meet(*, workspace_id: int, folder: str, expected: int, marker: str) -> None:
    """Arrive (a file in ``folder``), wait up to 30 s for ``expected`` jobs
    to be there at once, and record how many were."""
    Path(folder, marker).touch()
    deadline = time.monotonic() + 30
    while len(list(Path(folder).iterdir())) < expected and time.monotonic() < deadline:
        time.sleep(0.05)
    AuditEvent.objects.create(
        workspace_id=workspace_id,
        action="test.meet",
        target=marker,
        data={"met": len(list(Path(folder).iterdir()))},
    )
