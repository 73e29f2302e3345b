"""When a dispatcher hands its worker slot over: only for another channel's
dispatcher that could start, never for the queued next slice of a channel
already being dispatched (it cannot start while that one holds the lock)."""

from __future__ import annotations

import pytest
from django.db import connection

from parley.outbox.dispatch import _nobody_waiting
from parley.outbox.tasks import dispatch_task

pytestmark = pytest.mark.django_db


def _queue(channel_id: int) -> int:
    return int(dispatch_task(channel_id).defer(workspace_id=1, channel_id=channel_id))


def _running(job_id: int) -> None:
    with connection.cursor() as cursor:
        cursor.execute("UPDATE procrastinate_jobs SET status = 'doing' WHERE id = %s", [job_id])


def test_the_next_slice_of_a_running_channel_does_not_wait_for_a_slot() -> None:
    _running(_queue(1))
    _running(_queue(2))
    assert _nobody_waiting(2)
    # Channel 1's next slice, queued by the clock while channel 1 sends.
    _queue(1)
    assert _nobody_waiting(2)
    assert _nobody_waiting(1)  # its own next slice never counted


def test_a_channel_that_could_start_is_waiting() -> None:
    _running(_queue(2))
    _queue(3)
    assert not _nobody_waiting(2)
    assert _nobody_waiting(3)
