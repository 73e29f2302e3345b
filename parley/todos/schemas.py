"""API shapes for tasks."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class TaskOut(Schema):
    id: int
    title: str
    notes: str
    due_at: datetime | None
    assignee_id: int | None
    contact_id: int | None
    deal_id: int | None
    status: str
    completed_at: datetime | None
    created_by_id: int | None
    created_at: datetime
    updated_at: datetime


class TaskPage(Schema):
    items: list[TaskOut]
    next_cursor: str | None


class TaskIn(Schema):
    title: str = Field(examples=["Call back about the renewal"])
    notes: str = Field("", examples=["She asked for the annual price in EUR."])
    due_at: datetime | None = Field(
        None,
        examples=["2026-07-01T15:00:00+02:00"],
        description="Without an offset, read in the workspace's timezone",
    )
    assignee_id: int | None = Field(
        None, examples=[7], description="A member's user id; defaults to the caller"
    )
    contact_id: int | None = Field(None, examples=[42])
    deal_id: int | None = Field(None, examples=[9])


class TaskUpdateIn(Schema):
    """Only the fields sent are changed; null clears due time, assignee, contact or deal."""

    title: str | None = Field(None, examples=["Call back about the renewal (urgent)"])
    notes: str | None = Field(None, examples=["Prefers WhatsApp."])
    due_at: datetime | None = Field(None, examples=["2026-07-02T09:00:00Z"])
    assignee_id: int | None = Field(None, examples=[8])
    contact_id: int | None = Field(None, examples=[42])
    deal_id: int | None = Field(None, examples=[9])
