"""API shapes for execution logs."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

KindName = Literal["workflow", "drip", "webhook", "rule"]
StatusName = Literal["running", "waiting", "succeeded", "failed", "stopped"]


class ExecutionOut(Schema):
    id: int = Field(examples=[9051])
    kind: KindName = Field(examples=["workflow"])
    source_id: int | None = Field(
        examples=[12], description="The workflow, drip sequence, webhook endpoint or rule"
    )
    source_label: str = Field(examples=["Welcome new leads"], description="Its name at the time")
    contact_id: int | None = Field(examples=[3301])
    status: StatusName = Field(examples=["failed"])
    error: str = Field(examples=["HTTP call: POST https://crm.example.com/hook returned 500"])
    started_at: datetime = Field(examples=["2026-11-21T14:03:07.120Z"])
    finished_at: datetime | None = Field(examples=["2026-11-21T14:03:07.940Z"])
    duration_ms: float | None = Field(examples=[820.4], description="None while running or waiting")


class ExecutionPage(Schema):
    items: list[ExecutionOut]
    next_cursor: str | None = Field(
        examples=["MjAyNi0xMS0yMVQxNDowMzowNy4xMjArMDA6MDB8OTA1MQ"],
        description="Pass as cursor for the next (older) page; null on the last",
    )


class StepOut(Schema):
    position: int = Field(examples=[2])
    key: str = Field(examples=["notify_crm"])
    type: str = Field(examples=["http_call"])
    input: dict[str, Any] = Field(
        examples=[{"method": "POST", "url": "https://crm.example.com/hook"}]
    )
    outcome: dict[str, Any] = Field(examples=[{"status": 500, "body_excerpt": "Internal error"}])
    status: Literal["ok", "failed", "skipped", "waiting"] = Field(examples=["failed"])
    duration_ms: float = Field(examples=[812.0])
    error: str = Field(examples=["returned 500"])
    at: datetime = Field(examples=["2026-11-21T14:03:07.930Z"])


class ExecutionDetailOut(ExecutionOut):
    trigger: dict[str, Any] = Field(
        examples=[{"event": "message.received", "message_id": 88120, "text": "hi"}],
        description="What started the run (large payloads are kept as an excerpt)",
    )
    steps: list[StepOut]


class LogSettingsOut(Schema):
    retention_days: int = Field(examples=[30], description="Runs older than this are deleted")


class LogSettingsIn(Schema):
    retention_days: int = Field(examples=[90], description="1 to 365")
