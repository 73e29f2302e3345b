"""A contact's timeline, assembled from every app that knows something about
the contact. Apps register a source at startup (their AppConfig.ready), so crm
never imports the apps built on top of it."""

from __future__ import annotations

import heapq
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True)
class TimelineEntry:
    at: datetime
    kind: str  # "message", "note", "task", "deal", "tag", "attribute", "consent", "merge", ...
    title: str  # one line, e.g. "Ana added the tag VIP"
    body: str = ""  # optional plain text detail (rendered escaped)
    actor: str = ""  # who did it, as shown to people ("" for the customer or the system)
    # Where to see it, as a path inside the workspace ("inbox/12/", "deals/7/"):
    # sources do not know the slug; the page puts "/w/<slug>/" in front.
    url: str = ""


# A source: source(*, workspace_id, contact_id, before, limit) -> entries, newest
# first, strictly older than `before` when it is given.
Source = Callable[..., list[TimelineEntry]]
_SOURCES: dict[str, Source] = {}


def register(name: str, source: Source) -> None:
    """Register (or replace, so reloading an app is harmless) a timeline source."""
    _SOURCES[name] = source


def sources() -> dict[str, Source]:
    return dict(_SOURCES)


def timeline(
    *, workspace_id: int, contact_id: int, before: datetime | None = None, limit: int = 50
) -> list[TimelineEntry]:
    """The newest `limit` entries across all sources; each source is asked for
    at most `limit`, so the page costs one bounded query per source."""
    lists = [
        src(workspace_id=workspace_id, contact_id=contact_id, before=before, limit=limit)
        for src in _SOURCES.values()
    ]
    merged = heapq.merge(*lists, key=lambda e: e.at, reverse=True)
    return [entry for _, entry in zip(range(limit), merged, strict=False)]
