"""A transaction PostgreSQL aborts for a deadlock is redone whole."""

from __future__ import annotations

import contextlib
import threading

import pytest
from django.db import OperationalError, connection, transaction

from parley.core.tenant import workspace_context
from parley.core.transient import redo
from parley.crm.models import Tag
from tests.factories import Tenant

pytestmark = pytest.mark.django_db(transaction=True)


def _crossing(ws: int, first: int, second: int, meet: threading.Barrier, runs: list[str]) -> None:
    """Lock ``first``, wait for the other thread to lock its own first row,
    then lock ``second``: the two threads cross, and PostgreSQL aborts one.
    Only the first attempts meet; a redo goes straight through."""
    try:
        with workspace_context(ws), transaction.atomic():
            runs.append(threading.current_thread().name)
            list(Tag.objects.select_for_update().filter(pk=first))
            if not meet.broken:
                with contextlib.suppress(threading.BrokenBarrierError):
                    meet.wait(timeout=10)
            list(Tag.objects.select_for_update().filter(pk=second))
            Tag.objects.filter(pk=first).update(color="#000001")
    finally:
        connection.close()


def _cross(ws: int, *, redone: bool) -> tuple[list[str], list[BaseException]]:
    """Two threads lock two tags in opposite orders; returns the attempts
    made and the errors raised."""
    with workspace_context(ws):
        a = Tag.objects.create(workspace_id=ws, name="a").pk
        b = Tag.objects.create(workspace_id=ws, name="b").pk
    meet = threading.Barrier(2)
    runs: list[str] = []
    errors: list[BaseException] = []

    def run(first: int, second: int) -> None:
        def once() -> None:
            _crossing(ws, first, second, meet, runs)
            meet.abort()  # whoever gets through lets any later attempt pass

        try:
            if redone:
                redo(once, what="test")
            else:
                once()
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(a, b)), threading.Thread(target=run, args=(b, a))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    return runs, errors


def test_a_deadlocked_transaction_is_redone(tenant_a: Tenant) -> None:
    ws = tenant_a.workspace.pk
    runs, errors = _cross(ws, redone=True)
    # Both sides end, one of them after a second attempt.
    assert not errors, errors
    assert len(runs) == 3, runs
    with workspace_context(ws):
        assert set(Tag.objects.values_list("color", flat=True)) == {"#000001"}


def test_without_the_redo_the_deadlock_is_an_error(tenant_a: Tenant) -> None:
    """The test above is not vacuous: the same crossing fails one side."""
    runs, errors = _cross(tenant_a.workspace.pk, redone=False)
    assert len(runs) == 2, runs
    assert len(errors) == 1 and isinstance(errors[0], OperationalError), errors
