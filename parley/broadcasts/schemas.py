"""API shapes for broadcasts."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ninja import Field, Schema

MAPPING_EXAMPLE = {
    "1": {"source": "field", "field": "first_name", "fallback": "there"},
    "2": {"source": "column", "column": "coupon", "fallback": ""},
}


class ProgressOut(Schema):
    total: int = Field(examples=[12000])
    queued: int = Field(examples=[7000])
    paused: int = Field(examples=[0])
    sending: int = Field(examples=[40])
    sent: int = Field(examples=[4900], description="Accepted by Meta (delivered and read included)")
    delivered: int = Field(examples=[4700])
    read: int = Field(examples=[2100])
    failed: int = Field(examples=[12])
    skipped: int = Field(examples=[48], description="Skipped by the dispatcher at send time")
    cancelled: int = Field(examples=[0])
    replied: int = Field(examples=[130])
    done: int = Field(examples=[4960])
    percent: int = Field(examples=[41])


class BroadcastOut(Schema):
    id: int
    name: str = Field(examples=["Summer sale"])
    status: str = Field(
        examples=["sending"],
        description="draft, scheduled, sending, paused, completed or cancelled",
    )
    channel_id: int
    template_id: int | None
    mapping: dict[str, Any] = Field(examples=[MAPPING_EXAMPLE])
    audience_kind: str = Field(examples=["segment"], description="segment, tags or csv")
    segment_id: int | None
    tag_ids: list[int]
    csv_filename: str = Field(examples=["customers.csv"])
    csv_header: list[str] = Field(examples=[["phone", "name", "coupon"]])
    csv_phone_column: str = Field(examples=["phone"])
    csv_rows_estimate: int
    scheduled_at: datetime | None
    started_at: datetime | None
    finished_at: datetime | None
    audience_size: int = Field(description="Recipients planned (after the skips below)")
    skipped_opted_out: int
    skipped_invalid: int
    skipped_duplicate: int
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime
    progress: ProgressOut | None = Field(None, description="Absent for drafts")


class BroadcastPage(Schema):
    items: list[BroadcastOut]
    next_cursor: str | None


class BroadcastIn(Schema):
    name: str = Field(examples=["Summer sale"])
    channel_id: int = Field(examples=[3])
    template_id: int | None = Field(
        None, examples=[12], description="An APPROVED template of the channel"
    )
    mapping: dict[str, Any] = Field(
        default_factory=dict,
        examples=[MAPPING_EXAMPLE],
        description="Per template variable: field, attribute, column (CSV) or static",
    )
    audience_kind: str = Field("segment", examples=["segment"], description="segment, tags or csv")
    segment_id: int | None = Field(None, examples=[5])
    tag_ids: list[int] = Field(default_factory=list, examples=[[2, 7]])


class BroadcastUpdateIn(Schema):
    """Only the fields sent change (drafts only)."""

    name: str | None = Field(None, examples=["Summer sale (EU)"])
    channel_id: int | None = Field(None, examples=[3])
    template_id: int | None = Field(None, examples=[12])
    mapping: dict[str, Any] | None = Field(None, examples=[MAPPING_EXAMPLE])
    audience_kind: str | None = Field(None, examples=["tags"])
    segment_id: int | None = Field(None, examples=[5])
    tag_ids: list[int] | None = Field(None, examples=[[2, 7]])
    csv_phone_column: str | None = Field(None, examples=["Mobile"])


class StartIn(Schema):
    scheduled_at: datetime | None = Field(
        None,
        examples=["2030-07-01T09:00:00"],
        description="Omit to send now. Without an offset, read in the workspace's timezone.",
    )


class RescheduleIn(Schema):
    scheduled_at: datetime | None = Field(
        None, examples=["2030-07-02T09:00:00+02:00"], description="null sends now"
    )


class RetryOut(Schema):
    retried: int = Field(examples=[12])


class RecipientOut(Schema):
    id: int
    contact_id: int
    name: str = Field(examples=["Ada Lovelace"])
    phone: str = Field(examples=["+447911123456"])
    state: str = Field(
        examples=["sent"],
        description="queued, paused, sending, sent, failed, skipped or cancelled",
    )
    message_status: str | None = Field(examples=["delivered"])
    reason: str = Field(examples=["The 24-hour window closed."])
    error_code: int | None
    values: dict[str, Any] = Field(examples=[{"coupon": "ADA10"}])
    queued_for: datetime
    finished_at: datetime | None
    sent_at: datetime | None
    delivered_at: datetime | None
    read_at: datetime | None
    replied: bool


class RecipientPage(Schema):
    items: list[RecipientOut]
    next_cursor: str | None
