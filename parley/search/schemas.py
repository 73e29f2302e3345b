"""API shapes for search and saved searches."""

from __future__ import annotations

from datetime import datetime

from ninja import Field, Schema


class HitOut(Schema):
    kind: str = Field(examples=["messages"])
    id: int
    title: str = Field(examples=["Ana Souza wrote"])
    text: str = Field(examples=["Is my order 1042 out for delivery?"])
    at: datetime | None
    url: str = Field(description="Path inside the workspace's web app, e.g. inbox/12/")


class SearchOut(Schema):
    q: str
    contacts: list[HitOut] | None = None
    messages: list[HitOut] | None = None
    notes: list[HitOut] | None = None
    deals: list[HitOut] | None = None


class SavedSearchIn(Schema):
    name: str = Field("", examples=["Late deliveries this month"])
    q: str = Field(examples=["late delivery"])
    kind: str = Field(
        "all", examples=["messages"], description="all, contacts, messages, notes or deals"
    )
    since_days: int | None = Field(None, examples=[30], description="1, 7, 30, 90 or 365")
    direction: str = Field("", examples=["in"], description="messages only: in or out")


class SavedSearchOut(Schema):
    id: int
    name: str
    q: str
    kind: str
    since_days: int | None
    direction: str
    created_at: datetime
