"""The inbound hook: rules run inline in the ingest transaction (engine.py
says why)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from parley.autotag import engine
from parley.core import domain_events


def on_message_received(workspace_id: int, data: Mapping[str, Any]) -> None:
    engine.apply(workspace_id, list(data.get("messages") or []))


def subscribe() -> None:
    domain_events.subscribe(domain_events.MESSAGE_RECEIVED, on_message_received)
