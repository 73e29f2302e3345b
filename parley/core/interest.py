"""What each app listens for in a workspace, cached in the process and
checked against one version number per workspace.

Domain-event handlers run inside hot transactions (every inbound batch) and
each used to ask the database "does anything here care?" (enabled workflows,
endpoints, sequences...): a query per handler per event. Instead, every
change to such settings bumps the workspace's version (``bump``, in the
changing transaction), and handlers read their summary through ``cached``:
one version query per telling of events (a whole ingest batch), shared by
every handler (``domain_events._dispatch`` opens the scope), and the summary
is reloaded only when the version moved. Auto-tag rules, workflows, webhooks,
drips and routing all read theirs this way.

A bump commits or rolls back with the change. Versions come from a database
sequence, so one taken by a transaction that rolled back is never handed out
again: a summary loaded inside such a transaction is keyed by a version no
one else will ever read."""

from __future__ import annotations

import contextlib
import contextvars
from collections import OrderedDict
from collections.abc import Callable, Iterator
from typing import Any, TypeVar

from django.db import connection

from parley.core import prepared

T = TypeVar("T")

# (workspace id, key) -> (version, summary); bounded, least recently used out.
MAX_ENTRIES = 20_000
_cache: OrderedDict[tuple[int, str], tuple[int, Any]] = OrderedDict()
# The version read in the current emit: {workspace id: version}.
_scope: contextvars.ContextVar[dict[int, int] | None] = contextvars.ContextVar(
    "parley_interest_scope", default=None
)


def bump(workspace_id: int) -> None:
    """Something a domain-event handler looks at changed in this workspace."""
    with connection.cursor() as cursor:
        cursor.execute(
            """INSERT INTO core_interestversion (workspace_id, version)
               VALUES (%s, nextval('core_interest_version_seq'))
               ON CONFLICT (workspace_id)
               DO UPDATE SET version = nextval('core_interest_version_seq')""",
            [workspace_id],
        )
    scope = _scope.get()
    if scope is not None:
        scope.pop(workspace_id, None)


def version(workspace_id: int) -> int:
    scope = _scope.get()
    if scope is not None and workspace_id in scope:
        return scope[workspace_id]
    # Prepared: it runs with every inbound batch, and planning it took as
    # long as running it.
    with prepared.cursor() as cursor:
        cursor.execute(
            "SELECT version FROM core_interestversion WHERE workspace_id = %s::bigint",
            [workspace_id],
        )
        row = cursor.fetchone()
    current = int(row[0]) if row else 0
    if scope is not None:
        scope[workspace_id] = current
    return current


@contextlib.contextmanager
def scope() -> Iterator[None]:
    """Read each workspace's version at most once inside (one event's handlers,
    or a whole ingest batch's events: an inner scope joins the outer one)."""
    if _scope.get() is not None:
        yield
        return
    token = _scope.set({})
    try:
        yield
    finally:
        _scope.reset(token)


def cached(workspace_id: int, key: str, load: Callable[[], T]) -> T:
    """``load()``'s answer for this workspace, reused while its version holds."""
    current = version(workspace_id)
    entry = _cache.get((workspace_id, key))
    if entry is not None and entry[0] == current:
        _cache.move_to_end((workspace_id, key))
        return entry[1]  # type: ignore[no-any-return]
    value = load()
    _cache[(workspace_id, key)] = (current, value)
    if len(_cache) > MAX_ENTRIES:
        _cache.popitem(last=False)
    return value


def forget() -> None:
    """Drop every cached summary (tests that reset the database)."""
    _cache.clear()
