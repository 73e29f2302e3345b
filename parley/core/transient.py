"""Redoing a transaction that PostgreSQL aborted for a reason that passes:
a deadlock, or a serialization failure.

Both sides of a known lock race take their rows in one order (by id), so
deadlocks should not happen; this is the net under that rule, for an order
nobody thought of. Only whole transactions are redone: ``fn`` opens and
commits its own, so an abort leaves nothing half done behind it."""

from __future__ import annotations

import random
import time
from collections.abc import Callable
from typing import TypeVar

import structlog
from django.db import OperationalError, connection

log = structlog.get_logger(__name__)

T = TypeVar("T")

# deadlock_detected, serialization_failure
TRANSIENT = frozenset({"40P01", "40001"})
ATTEMPTS = 4


def is_transient(exc: OperationalError) -> bool:
    # Django's error wraps the driver's, which carries the SQLSTATE.
    return getattr(exc.__cause__, "sqlstate", None) in TRANSIENT


def redo(fn: Callable[[], T], *, what: str, attempts: int = ATTEMPTS) -> T:
    """``fn()``, again (up to ``attempts`` in all) while PostgreSQL aborts it
    for a deadlock or a serialization failure. Outside any transaction only:
    inside one, the abort is the caller's and is raised at once."""
    for attempt in range(1, attempts + 1):
        try:
            return fn()
        except OperationalError as exc:
            if not is_transient(exc) or attempt == attempts or connection.in_atomic_block:
                raise
            log.warning("transaction_redone", what=what, attempt=attempt, error=str(exc)[:200])
            # A little apart, so the two sides do not meet again at once.
            time.sleep(random.uniform(0.005, 0.03) * attempt)
    raise AssertionError("unreachable")
