"""What sources (broadcasts, drips, ...) tell the dispatcher, without the
dispatcher importing them: registered at app start, keyed by ``source``."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class Finished:
    """An item that reached sent, failed or skipped."""

    item_id: int
    source_id: int
    contact_id: int
    state: str
    reason: str
    finished_at: datetime


# (workspace_id, items about to be sent) -> {item_id: reason to skip instead}.
Precheck = Callable[[int, list["PrecheckItem"]], dict[int, str]]
# (workspace_id, items just finished): e.g. a drip plans its next step.
OnFinished = Callable[[int, list[Finished]], None]


@dataclass(frozen=True)
class PrecheckItem:
    item_id: int
    source_id: int
    contact_id: int


_prechecks: dict[str, Precheck] = {}
_finished: dict[str, OnFinished] = {}


def register(
    source: str, *, precheck: Precheck | None = None, on_finished: OnFinished | None = None
) -> None:
    if precheck is not None:
        _prechecks[source] = precheck
    if on_finished is not None:
        _finished[source] = on_finished


def precheck_for(source: str) -> Precheck | None:
    return _prechecks.get(source)


def on_finished_for(source: str) -> OnFinished | None:
    return _finished.get(source)
